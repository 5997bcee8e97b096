"""Every figure on synthetic results: files written, plotted data shaped as expected, labels, no NaN rows."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from helpers.figure_data import config, rendered

from snnconv.analysis.controls import control_names
from snnconv.analysis.load import read_accuracy_all
from snnconv.analysis.summaries import adjusted_norms, pick_T
from snnconv.convert import resolve_norms
from snnconv.report import style
from snnconv.report.low_T_gap import gap_norms

FIGURES = [
    "accuracy_vs_T",
    "variance_claim",
    "variance_correlation",
    "coefficient_sweep",
    "coefficient_sweep_heatmap",
    "firing_rates",
    "firing_rates_vs_t",
    "low_T_gap",
]


@pytest.fixture(scope="module")
def out():
    return rendered()


@pytest.mark.parametrize("name", FIGURES)
def test_figure_files_written(out, name):
    pdf, png = out["figures"] / f"{name}.pdf", out["figures"] / f"{name}.png"
    assert pdf.read_bytes()[:4] == b"%PDF" and png.read_bytes()[:4] == b"\x89PNG"
    assert png.stat().st_size > 5000  # something was drawn
    assert not list(out["figures"].glob(".*.tmp*"))


def _data(out, name):
    data = pd.read_csv(out["figures"] / f"{name}.csv")
    assert len(data) and not data.isna().all(axis=1).any()
    assert data["mean"].notna().all()
    return data


def test_accuracy_vs_T(out):
    cfg = out["config"]
    data = _data(out, "accuracy_vs_T")
    norms = resolve_norms(cfg["conversion"]).main  # canonical: the roles l4, uniform-l4 resolved
    assert set(data["norm"]) == set(norms)  # the sweep is left out
    assert len(data) == len(cfg["archs"]) * len(norms) * cfg["simulation"]["T"]
    assert (data["n"] == 2).all() and data["ci_low"].notna().all()
    lab = out["labels"]["accuracy_vs_T"]
    assert {"digits (scikit-learn) / MLP", "digits (scikit-learn) / CNN"} <= set(lab["titles"])  # readable labels
    assert "ANN" in lab["legend"] and r"$L_{4}$ (k=0.5)" in lab["legend"] and len(lab["legend"]) == len(norms) + 1
    assert "timestep t" in lab["xlabels"] and "accuracy (%)" in lab["ylabels"]
    assert "n = 2: interval not shown" in lab["suptitle"] and lab["n_bands"] == 0  # two replicates: no 12.7×SE band


def test_coefficient_sweep(out):
    cfg = out["config"]
    data = _data(out, "coefficient_sweep")
    assert set(data["curve"]) == {"L1", "L4", "Linf", "uniform"}
    assert sorted(data["k"].unique()) == [-0.5, 0.5]
    assert sorted(data["T"].unique()) == pick_T(cfg["report"]["T_points"], 3)
    assert len(data) == len(cfg["archs"]) * 4 * 2 * 3
    lab = out["labels"]["coefficient_sweep"]
    assert "uniform control" in lab["legend"] and r"$L_{\infty}$" in lab["legend"]
    assert "coefficient k" in lab["xlabels"]


def test_coefficient_sweep_heatmap_shows_the_analysis_means(out):
    """One annotated cell per plotted mean: the heatmap draws sweep_gain's numbers (pp), nothing recomputed."""
    data = _data(out, "coefficient_sweep")
    lab = out["labels"]["coefficient_sweep_heatmap"]
    assert sorted(float(t) for t in lab["texts"]) == sorted(round(100 * m, 1) + 0.0 for m in data["mean"])
    assert {f"T = {T}" for T in data["T"].unique()} <= set(lab["titles"])
    assert "coefficient k" in lab["xlabels"] and "digits (scikit-learn) / MLP" in lab["ylabels"]


def test_accuracy_vs_T_is_faceted_by_seaborn(out):
    """Rows = datasets, columns = architectures, drawn by seaborn's FacetGrid in the shared theme."""
    import seaborn as sns

    lab = out["labels"]["accuracy_vs_T"]
    assert lab["n_axes"] == 2 and lab["titles"] == ["digits (scikit-learn) / MLP", "digits (scikit-learn) / CNN"]
    style.apply_style()
    assert sns.axes_style()["axes.spines.right"] is False  # the project's RC on top of seaborn's "ticks"


def test_adjusted_norms_take_parameters_from_the_table():
    names = ["lp4_k0.5_scale_max", "uniform_k0.5_scale_max", "max"]
    table = pd.DataFrame(
        {
            "norm": names,
            "method": ["lp", "uniform", "max"],
            "p": [4.0, math.nan, math.nan],
            "k": [0.25, 0.25, math.nan],
            "mode": ["bias", "bias", None],
            "base": ["p99", "p99", "max"],
        }
    )
    adj = adjusted_norms(table).set_index("norm")
    # the recorded parameters win over what the names say (conversion.json is the source)
    assert adj.loc["lp4_k0.5_scale_max", "k"] == 0.25 and adj.loc["lp4_k0.5_scale_max", "reference"] == "p99"
    assert adj.loc["uniform_k0.5_scale_max", "curve"] == "uniform" and len(adj) == 2
    parsed = adjusted_norms(pd.DataFrame({"norm": names}))  # no parameter columns: the canonical names are parsed
    assert sorted(parsed["norm"]) == ["lp4_k0.5_scale_max", "uniform_k0.5_scale_max"]
    assert parsed.set_index("norm").loc["lp4_k0.5_scale_max", "k"] == 0.5


def test_pick_T():
    assert pick_T([10, 25, 50, 100, 200]) == [10, 50, 200]
    assert pick_T([5, 20]) == [5, 20]
    assert pick_T([10, 25, 50, 100, 200], T_max=60) == [10, 25, 50]


def test_firing_rates(out):
    data = _data(out, "firing_rates")
    assert len(data) == 4 * len(out["config"]["conversion"]["norms"])  # 2 spiking layers per arch
    cnn = data[data["arch"] == "cnn"].sort_values("layer_order")
    assert cnn["layer"].drop_duplicates().tolist() == ["conv2d0", "linear4"]  # depth order, not column order
    assert ((data["mean"] >= 0) & (data["mean"] <= 1)).all()
    vs_t = _data(out, "firing_rates_vs_t")
    assert vs_t["t"].min() == 1 and vs_t["t"].max() == out["config"]["simulation"]["T"]
    assert "mean firing rate (%)" in out["labels"]["firing_rates"]["ylabels"]


def test_low_T_gap_controls_beside_l4(out):
    cfg = out["config"]
    data = _data(out, "low_T_gap")
    order = list(dict.fromkeys(data["norm"]))
    roles = resolve_norms(cfg["conversion"]).roles
    i = order.index(roles["l4"])
    assert order[i : i + 3] == [roles["l4"], roles["uniform-l4"], "max-v0half"]
    assert len(data) == len(cfg["archs"]) * len(cfg["conversion"]["norms"]) * len(cfg["report"]["T_points"])
    assert (data["mean"] <= 0.05).all()  # synthetic SNNs never beat their ANN by much
    lab = out["labels"]["low_T_gap"]
    assert [t for t in lab["titles"] if t][:3] == ["T = 5", "T = 20", "T = 60"]
    n_T = len(cfg["report"]["T_points"])
    rows = [lab["xlims"][i : i + n_T] for i in range(0, len(cfg["archs"]) * n_T, n_T)]
    assert all(len(set(r)) == 1 for r in rows)  # the panels of one row share their x-scale
    assert "n = 2: interval not shown" in lab["suptitle"]


def test_controls_found_under_sweep_names():
    conv = config()["conversion"]
    df = pd.DataFrame({"norm": ["max", "lp4_k0.5_scale_max", "uniform_k0.5_scale_max", "max-v0half"]})
    assert control_names(df, conv) == {
        "l4": "lp4_k0.5_scale_max",
        "uniform": "uniform_k0.5_scale_max",
        "v0half": "max-v0half",
    }
    conv2 = {**conv, "norms": ["max", "lp4_k0.5_scale_max", "max-v0half", "uniform_k0.5_scale_max"]}
    assert gap_norms(df, conv2) == ["max", "lp4_k0.5_scale_max", "uniform_k0.5_scale_max", "max-v0half"]


def test_empty_input_still_writes_figures(tmp_path, out):
    from snnconv.report import accuracy_vs_T, coefficient_sweep, firing_rates, low_T_gap

    conv = out["config"]["conversion"]
    df = read_accuracy_all(out["table"], rates=False)
    none = df[df["norm"] == "none"]  # no adjusted norm, no rate columns
    coefficient_sweep.plot_coefficient_sweep(none, conv, [5], tmp_path / "sweep")
    firing_rates.plot_firing_rates(none, conv, tmp_path / "rates")
    accuracy_vs_T.plot_accuracy_vs_T(df.iloc[:0], conv, tmp_path / "acc")
    low_T_gap.plot_low_T_gap(df.iloc[:0], conv, [5], tmp_path / "gap")
    for stem in ("sweep", "rates", "acc", "gap"):
        assert (tmp_path / f"{stem}.pdf").exists() and (tmp_path / f"{stem}.png").exists()


def test_style_is_readable_at_column_width():
    style.apply_style()
    import matplotlib

    assert matplotlib.rcParams["font.size"] >= 7 and matplotlib.rcParams["legend.fontsize"] >= 6
    assert style.COLUMN_WIDTH == pytest.approx(3.4)
    assert len(set(style.FAMILY_COLORS.values())) == len(style.FAMILY_COLORS)
    assert not math.isnan(style.PNG_DPI)
