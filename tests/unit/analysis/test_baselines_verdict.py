"""The L4 verdict against the published baselines: light calibration (``Calib``) and the QCFS twin (``QCFS``)
join the candidate controls, and the strongest control is picked among all of them (hand-made frames)."""

from __future__ import annotations

import copy

import pandas as pd
from helpers.figure_data import config

from snnconv.analysis.controls import calib_norms, qcfs_norms
from snnconv.analysis.load import family_of, norm_params
from snnconv.analysis.verdicts import candidate_controls, l4_on_calibration, l4_tests, verdict
from snnconv.convert import parse_norm
from snnconv.paper.macro_file import paper_macros
from snnconv.report.labels import norm_label
from snnconv.report.style import norm_styles
from snnconv.workflow import settings

L4 = "lp4_k0.5_scale_max"
UNIFORM = "uniform_k0.5_scale_max"
NORMS = ["max", L4, UNIFORM, "max-v0half", "max-calib", "p99.9-calib", f"{L4}-calib", "qcfs", "qcfs-calib"]
CFG = copy.deepcopy(settings.paper(config()))
CFG["norms"] = NORMS


def frame(acc: dict[str, list[float]]) -> pd.DataFrame:
    """Accuracy at t = 5 and 20 per input seed (replicate) for each norm of ``acc``."""
    rows = [
        {"dataset": "digits", "arch": "mlp", "seed": 0, "input_seed": i, "norm": norm, "t": t, "accuracy": a}
        | {"ann_accuracy": 0.9}
        for norm, accs in acc.items()
        for i, a in enumerate(accs)
        for t in (5, 20)
    ]
    return pd.DataFrame(rows)


BASE = {"max": [0.5, 0.52, 0.49, 0.51], L4: [0.6, 0.61, 0.6, 0.62], UNIFORM: [0.5, 0.5, 0.5, 0.5]}
BASE["max-v0half"] = [0.55, 0.56, 0.55, 0.56]


def test_families_of_the_baselines():
    assert family_of("max", parse_norm("max-calib").params()) == "calib"
    assert family_of("lp", parse_norm(f"{L4}-calib").params()) == "calib"  # never mistaken for the L4 itself
    assert family_of("qcfs", parse_norm("qcfs").params()) == "qcfs"  # not v0half, though v0 = θ/2
    assert family_of("max", parse_norm("max-v0half").params()) == "v0half"


def test_calibration_and_qcfs_controls_exclude_adjusted_names():
    df = frame({**BASE, **{n: [0.7] * 4 for n in NORMS if n not in BASE}})
    assert calib_norms(df, CFG) == ["max-calib", "p99.9-calib"]
    assert qcfs_norms(df, CFG) == ["qcfs", "qcfs-calib"]


def test_strongest_control_is_calibration_when_it_beats_l4():
    acc = {**BASE, "max-calib": [0.8, 0.82, 0.81, 0.8], "p99.9-calib": [0.7] * 4, f"{L4}-calib": [0.9] * 4}
    acc |= {"qcfs": [0.65, 0.66, 0.64, 0.66], "qcfs-calib": [0.6, 0.6, 0.61, 0.6]}
    df = frame(acc)
    controls = candidate_controls(df, CFG, 5)
    assert controls["Calib"] == "max-calib" and controls["QCFS"] == "qcfs"
    tests = l4_tests(df, CFG, 5)
    assert verdict(tests) == ("Calib", False)
    text, per_net = paper_macros(df.merge(norm_params(df, CFG), on="norm"), pd.DataFrame(), CFG)
    assert r"the best light calibration (\texttt{max-calib})" in text
    assert r"did not outperform the best light calibration (\texttt{max-calib}, " in text
    assert set(per_net["comparison"]) >= {"Calib", "QCFS"}
    # L4 on top of calibration (0.9 everywhere) against calibration alone (max-calib): a consistent gain
    assert r"\newcommand{\LFourOnCalibVerdict}{improved}" in text
    assert r"\newcommand{\LFourOnCalibBaseName}{\texttt{max-calib}}" in text


def test_l4_ahead_of_every_control_including_the_baselines_helped():
    acc = {**BASE, "max-calib": [0.55, 0.57, 0.54, 0.56], "p99.9-calib": [0.5] * 4, f"{L4}-calib": [0.4] * 4}
    acc |= {"qcfs": [0.58, 0.58, 0.57, 0.59], "qcfs-calib": [0.3] * 4}
    assert l4_on_calibration(frame(acc), CFG, 5)["helped"] is False  # 0.4 < max-calib
    tests = l4_tests(frame(acc), CFG, 5).set_index("comparison")
    assert tests.loc["QCFS", "control"] == "qcfs" and bool(tests.loc["QCFS", "helped"])
    assert bool(tests.loc["Calib", "helped"])
    assert verdict(tests.reset_index())[1]


def test_labels_of_the_baselines():
    assert norm_label("max-calib", CFG) == "max + calib."
    assert norm_label("qcfs", CFG) == "QCFS"
    assert norm_label(f"{L4}-calib", CFG).endswith("+ calib.")
    styles = norm_styles(["max", "max-calib", "qcfs"], CFG)
    assert styles["max-calib"]["family"] == "calib" and styles["qcfs"]["family"] == "qcfs"
    assert len({s["color"] for s in styles.values()}) == 3
