"""snnconv/report/labels.py: one readable label per norm, dataset and architecture, never one label for two ids."""

from __future__ import annotations

import itertools
from pathlib import Path

import pandas as pd
import pytest

from snnconv.analysis.load import norm_params
from snnconv.convert import canonicalize, resolve_norms
from snnconv.report import labels
from snnconv.workflow import vocab
from snnconv.workflow.config import load_config

ROOT = Path(__file__).resolve().parents[3]
L4 = {"k": -0.25, "mode": "scale", "base": "p99.9"}
BASES = ["none", "max", "model", "qcfs", "p50", "p99", "p99.9", "p99.99", "p100"]


def vocabulary() -> list[str]:
    """Canonical norm names from every part of the grammar: each base, L_p (integer, fractional, infinite p) and
    uniform adjustments with several k, both modes and every base, each with and without -v0half (qcfs takes
    none) and -calib, plus every norm the shipped configs name."""
    plain = list(BASES)
    adjusted = [
        f"{head}_k{k}_{mode}_{base}"
        for head in ("lp1", "lp1.5", "lp2", "lp3", "lp4", "lpinf", "uniform")
        for k in ("-0.5", "-0.25", "0.25", "0.5", "1", "2")
        for mode in ("scale", "bias")
        for base in BASES
    ]
    names = plain + adjusted
    names += [f"{n}-v0half" for n in names if not n.endswith("qcfs") and n != "qcfs"]
    names += [f"{n}-calib" for n in names]
    for path in sorted((ROOT / "config").glob("*.yaml")):
        names += resolve_norms(load_config(path)["conversion"]).names
    return list(dict.fromkeys(canonicalize(n) for n in names))


@pytest.fixture(scope="module")
def names() -> list[str]:
    return vocabulary()


def test_norm_labels_are_injective_over_the_vocabulary(names):
    assert len(names) > 2000
    got = labels.norm_labels(names + ["ANN"])
    by_label: dict[str, list[str]] = {}
    for name, label in got.items():
        by_label.setdefault(label, []).append(name)
    assert {k: v for k, v in by_label.items() if len(v) > 1} == {}


def test_recorded_parameters_give_the_same_labels_as_parsed_names(names, tmp_path):
    """The report labels from accuracy_all.csv's recorded columns; a name parsed gives the same label."""
    norm_params(pd.DataFrame({"norm": names}), {}).to_csv(tmp_path / "recorded.csv", index=False)
    from_table = norm_params(pd.read_csv(tmp_path / "recorded.csv"), {})  # as the report reads the table
    assert labels.norm_labels(names, {}, from_table) == labels.norm_labels(names, {})


@pytest.mark.parametrize(
    ("name", "label"),
    [
        ("max", "max"),
        ("model", "model-based"),
        ("p99.9", "99.9th pct."),
        ("qcfs", "QCFS"),
        ("qcfs-calib", "QCFS + calib."),
        ("max-calib", "max + calib."),
        ("max-v0half", r"max, $v_0=\theta/2$"),
        ("lp4_k-0.25_scale_p99.9", r"$L_{4}$ (k=-0.25, p99.9)"),
        ("lp4_k-0.25_scale_p99.9-v0half", r"$L_{4}$ (k=-0.25, p99.9, $v_0=\theta/2$)"),
        ("lp4_k-0.25_scale_p99.9-v0half-calib", r"$L_{4}$ (k=-0.25, p99.9, $v_0=\theta/2$) + calib."),
        ("lpinf_k0.5_bias_max", r"$L_{\infty}$ (k=0.5, bias)"),
        ("uniform_k0.5_scale_qcfs", "uniform (k=0.5, qcfs)"),
        ("lp4_k0.5_scale_qcfs", r"$L_{4}$ (k=0.5, qcfs)"),
    ],
)
def test_readable_labels(name, label):
    assert labels.norm_label(name, {}) == label


def test_the_v0half_twin_and_the_qcfs_adjustment_no_longer_share_a_label():
    twin = labels.norm_labels(["lp4_k-0.25_scale_p99.9", "lp4_k-0.25_scale_p99.9-v0half"], {})
    assert len(set(twin.values())) == 2
    assert labels.norm_label("lp4_k0.5_scale_qcfs", {}) != labels.norm_label("qcfs", {})


def test_every_dataset_and_arch_has_one_distinct_readable_label():
    assert set(labels.DATASET_LABELS) == set(vocab.DATASETS)
    assert set(labels.ARCH_LABELS) == set(vocab.ARCHS)
    assert len(set(labels.DATASET_LABELS.values())) == len(vocab.DATASETS)
    assert len(set(labels.ARCH_LABELS.values())) == len(vocab.ARCHS)
    nets = [labels.net_label(d, a) for d, a in itertools.product(vocab.DATASETS, vocab.ARCHS)]
    assert len(set(nets)) == len(nets)
    assert labels.net_label("fashion_mnist", "cnn") == "Fashion-MNIST / CNN"


def test_the_report_has_no_second_label_table():
    """Figures, tables, macros and the summary label through labels.py: no module keeps its own copy."""
    for path in (ROOT / "snnconv").rglob("*.py"):
        if path.name == "labels.py":
            continue
        text = path.read_text()
        assert '"Fashion-MNIST"' not in text and "th pct." not in text, path
        assert "set_titles(" not in text and 'f"{dataset} / {arch}' not in text, path
