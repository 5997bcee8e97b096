"""Loading, tidying and the statistics behind every figure (snnconv.analysis, snnconv.report.style)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers.figure_data import config, synthetic_tree

from snnconv.analysis.intervals import mean_ci, n_replicates, t_critical, timesteps_to_within
from snnconv.analysis.load import aggregate, load_ann_accuracy, load_sim_results, norm_info, rate_columns
from snnconv.analysis.paired import paired_difference
from snnconv.convert import resolve_norms
from snnconv.report import style


def _sim_csv(path, acc, with_ids=True, **ids):
    """A minimal simulation CSV (one row per t)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    frame = {"t": np.arange(1, len(acc) + 1), "accuracy": acc, "rate_linear1": np.linspace(0.1, 0.2, len(acc))}
    if with_ids:
        frame = {**{k: [v] * len(acc) for k, v in ids.items()}, **frame}
    pd.DataFrame(frame).to_csv(path, index=False)
    return path


def test_load_sim_results_fills_ids_from_path(tmp_path):
    p = _sim_csv(tmp_path / "results/sim/digits/mlp/seed3/max/input1.csv", [0.1, 0.5, 0.9], with_ids=False)
    df = load_sim_results([p])
    assert df[["dataset", "arch", "seed", "norm", "input_seed"]].drop_duplicates().values.tolist() == [
        ["digits", "mlp", 3, "max", 1]
    ]
    assert df["t"].tolist() == [1, 2, 3]
    assert rate_columns(df) == ["rate_linear1"]


def test_load_sim_results_rejects_foreign_csv(tmp_path):
    p = tmp_path / "elsewhere.csv"
    pd.DataFrame({"t": [1], "accuracy": [0.5]}).to_csv(p, index=False)
    with pytest.raises(ValueError, match="dataset"):
        load_sim_results([p])
    pd.DataFrame({"x": [1]}).to_csv(p, index=False)
    with pytest.raises(ValueError, match="lacks"):
        load_sim_results([p])


def test_aggregate_joins_ann_accuracy_and_norm_info():
    tree = synthetic_tree()
    df = aggregate(tree["paths"]["sim"], tree["paths"]["summary"], tree["paths"]["conversion"])
    assert df["ann_accuracy"].notna().all()
    fam = df.drop_duplicates("norm").set_index("norm")["family"]
    roles = resolve_norms(tree["config"]["conversion"]).roles
    assert "l4" not in fam and "uniform-l4" not in fam  # roles are resolved: results carry canonical names
    assert fam[roles["l4"]] == "l4" and fam[roles["uniform-l4"]] == "uniform" and fam["max-v0half"] == "v0half"
    assert fam["p99.9"] == "percentile" and fam["lp1_k-0.5_scale_max"] == "lp"
    info = df.drop_duplicates("norm").set_index("norm")
    assert info.loc["lp1_k-0.5_scale_max", "k"] == -0.5 and info.loc["lpinf_k0.5_scale_max", "p"] == math.inf
    cfg = tree["config"]
    n_norms = len(set(df["norm"]))
    assert len(df) == len(cfg["archs"]) * n_norms * len(cfg["simulation"]["input_seeds"]) * cfg["simulation"]["T"]
    assert n_replicates(df) == 2


def test_aggregate_takes_the_anns_accuracy_on_the_simulated_images(tmp_path):
    """A simulate job's ``ann_accuracy`` column (the ANN on the same images) is the table's ANN reference; the whole
    test set's, from training, stays beside it; two values for one network are refused."""
    tree = synthetic_tree()
    root = tree["root"] / "results"
    copies = []
    for path in map(Path, tree["paths"]["sim"]):
        frame = pd.read_csv(path)
        frame.insert(frame.columns.get_loc("accuracy") + 1, "ann_accuracy", 0.5 if "mlp" in path.parts else 0.25)
        copy = tmp_path / path.relative_to(root)
        copy.parent.mkdir(parents=True, exist_ok=True)
        frame.to_csv(copy, index=False)
        copies.append(copy)
    df = aggregate(copies, tree["paths"]["summary"], tree["paths"]["conversion"])
    assert set(df.loc[df["arch"] == "mlp", "ann_accuracy"]) == {0.5} and set(
        df.loc[df["arch"] == "cnn", "ann_accuracy"]
    ) == {0.25}
    whole = aggregate(tree["paths"]["sim"], tree["paths"]["summary"], tree["paths"]["conversion"])
    assert df["ann_accuracy_test"].tolist() == whole["ann_accuracy_test"].tolist() == whole["ann_accuracy"].tolist()
    odd = pd.read_csv(copies[0])
    odd["ann_accuracy"] = 0.75
    odd.to_csv(copies[0], index=False)
    with pytest.raises(ValueError, match="the ANN's accuracy differs between simulations of one network"):
        aggregate(copies, tree["paths"]["summary"], tree["paths"]["conversion"])


def test_aggregate_without_ann_summary_fails(tmp_path):
    p = _sim_csv(tmp_path / "results/sim/digits/mlp/seed0/max/input0.csv", [0.5], with_ids=False)
    s = tmp_path / "results/models/digits/mlp/seed1/summary.json"
    s.parent.mkdir(parents=True)
    s.write_text(json.dumps({"test_accuracy": 0.9}))
    assert load_ann_accuracy([s]).iloc[0].to_dict() == {
        "dataset": "digits",
        "arch": "mlp",
        "seed": 1,
        "ann_accuracy": 0.9,
    }
    with pytest.raises(ValueError, match="no ANN summary"):
        aggregate([p], [s], [])


def test_norm_info_reads_conversion_records_and_refuses_conflicts(tmp_path):
    def record(path: Path, **params) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            json.dumps(
                {
                    "norm": "lp4_k0.5_scale_max",
                    "method": "lp",
                    "params": {"base": "max", "v_init": 0.0, "k": 0.5, "mode": "scale", "p": 4.0, **params},
                }
            )
        )
        return path

    a = record(tmp_path / "a" / "conversion.json")
    info = norm_info([a]).set_index("norm")
    assert info.loc["lp4_k0.5_scale_max", "family"] == "l4" and info.loc["lp4_k0.5_scale_max", "k"] == 0.5
    b = record(tmp_path / "b" / "conversion.json", k=0.25)  # same name, other parameters: never merged silently
    with pytest.raises(ValueError, match="converted with"):
        norm_info([a, b])
    bad = tmp_path / "c" / "conversion.json"
    bad.parent.mkdir()
    bad.write_text(json.dumps({"norm": "max"}))
    with pytest.raises(ValueError, match="not a conversion record"):
        norm_info([bad])
    p = _sim_csv(tmp_path / "results/sim/digits/mlp/seed0/max/input0.csv", [0.5], with_ids=False)
    s = tmp_path / "results/models/digits/mlp/seed0/summary.json"
    s.parent.mkdir(parents=True)
    s.write_text(json.dumps({"test_accuracy": 0.9}))
    with pytest.raises(ValueError, match="no conversion.json"):
        aggregate([p], [s], [a])


def test_mean_ci_known_values():
    df = pd.DataFrame({"g": ["a"] * 3 + ["b"], "accuracy": [1.0, 2.0, 3.0, 5.0]})
    out = mean_ci(df, ["g"]).set_index("g")
    assert out.loc["a", "mean"] == 2.0 and out.loc["a", "std"] == 1.0 and out.loc["a", "n"] == 3
    half = 4.3027 / math.sqrt(3)  # t_{0.975, 2} from a printed table
    assert out.loc["a", "ci_low"] == pytest.approx(2 - half, abs=1e-4) and out.loc["a", "ci_high"] == pytest.approx(
        2 + half, abs=1e-4
    )
    # a single replicate: no interval (NaN), never a zero-width band
    assert out.loc["b", "mean"] == 5.0 and math.isnan(out.loc["b", "ci_low"]) and math.isnan(out.loc["b", "std"])


def test_t_critical():
    assert t_critical(1) == pytest.approx(12.706, abs=1e-3)  # printed tables
    assert t_critical(10, 0.90) == pytest.approx(1.812, abs=2e-3)
    assert t_critical(100) == pytest.approx(1.984, abs=2e-3)
    assert math.isnan(t_critical(0))


def test_timesteps_to_within_and_never():
    rows = []
    for norm, curve in (("fast", [0.5, 0.89, 0.95, 0.95]), ("slow", [0.1, 0.2, 0.3, 0.4])):
        for t, a in enumerate(curve, 1):
            rows.append(
                {
                    "dataset": "d",
                    "arch": "a",
                    "seed": 0,
                    "input_seed": 0,
                    "norm": norm,
                    "t": t,
                    "accuracy": a,
                    "ann_accuracy": 0.90,
                }
            )
    out = timesteps_to_within(pd.DataFrame(rows), within=0.01).set_index("norm")
    assert out.loc["fast", "t_within"] == 2 and out.loc["fast", "label"] == "2"
    assert math.isnan(out.loc["slow", "t_within"]) and out.loc["slow", "label"] == "> 4"


def test_paired_difference_matches_replicates():
    df = pd.DataFrame(
        {
            "dataset": "d",
            "arch": "a",
            "seed": 0,
            "input_seed": [0, 1, 0, 1],
            "t": 1,
            "norm": ["x", "x", "ref", "ref"],
            "accuracy": [0.6, 0.7, 0.5, 0.5],
        }
    )
    d = paired_difference(df, ["x", "missing"], "ref")
    assert sorted(d["diff"].round(6)) == [0.1, 0.2]
    assert paired_difference(df, ["x"], "not-simulated").empty


def test_norm_styles_fixed_colour_per_family():
    conv = config()["conversion"]
    names = ["none", "max", "p99.9", "p99", "model", "max-v0half", "l4", "uniform-l4", "lp4_k-0.5_scale_max"]
    st = style.norm_styles(names, conv)
    assert st["max"]["color"] == style.FAMILY_COLORS["max"]
    assert (
        st["l4"]["color"] == style.FAMILY_COLORS["l4"] and st["uniform-l4"]["color"] == style.FAMILY_COLORS["uniform"]
    )
    assert st["p99.9"]["color"] != st["p99"]["color"]  # same family: distinct shades
    assert st["l4"]["family"] == st["lp4_k-0.5_scale_max"]["family"] == "l4"
    assert len({s["label"] for s in st.values()}) == len(names)
    # the same norm gets the same colour whatever else is plotted
    assert style.norm_styles(["l4"], conv)["l4"]["color"] == st["l4"]["color"]


def test_savefig_writes_pdf_and_png_atomically(tmp_path):
    fig, axes = style.figure(1, 1, width=style.COLUMN_WIDTH)
    axes[0, 0].plot([1, 2], [3, 4])
    paths = style.savefig(fig, tmp_path / "figs" / "demo")
    assert [p.name for p in paths] == ["demo.pdf", "demo.png"]
    assert paths[0].read_bytes()[:4] == b"%PDF" and paths[1].read_bytes()[:4] == b"\x89PNG"
    assert sorted(p.name for p in (tmp_path / "figs").iterdir()) == ["demo.pdf", "demo.png"]  # no temporaries
    assert b"CreationDate" not in paths[0].read_bytes()  # reproducible bytes
