"""`python -m snnconv design` on the committed snapshot (docs/results/paper-cpu, 500 test images): one cell of
its table recomputed here by hand from the raw accuracies, and the errors a user meets."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from helpers import REPO
from scipy import stats

from snnconv.cli import main

SNAPSHOT = REPO / "docs" / "results" / "paper-cpu"
RESULTS = SNAPSHOT / "tables" / "accuracy_all.csv.gz"
CONFIG = SNAPSHOT / "config.effective.yaml"


@pytest.fixture(scope="module")
def design(tmp_path_factory) -> pd.DataFrame:
    out = tmp_path_factory.mktemp("design") / "design.csv"
    assert main(["design", "--results", str(RESULTS), "--configfile", str(CONFIG), "--out", str(out)]) == 0
    return pd.read_csv(out)


def test_every_network_comparison_t_and_design_is_planned(design):
    assert len(design) == 6 * 2 * 4 * 4  # networks x comparisons x T (8, 16, 32, 64) x designs (S 3|5, I 1|3)
    assert set(design["comparison"]) == {"L4 - uniform control", "L4 - strongest baseline"}
    assert (design.loc[design["dataset"] == "mnist", "target"] == 0.3).all()
    assert (design.loc[design["dataset"] == "cifar10_jpeg", "target"] == 0.6).all()
    assert (design["meets"] == (design["half_width"] <= design["target"])).all()
    assert (design["half_width_pessimistic"] >= design["half_width"]).all()
    assert (design["meets_pessimistic"] <= design["meets"]).all()


def test_one_cell_recomputed_by_hand(design):
    """mnist/cnn, L4 − uniform control at t = 8: one-way ANOVA of the 3 x 3 paired differences, in points."""
    raw = pd.read_csv(RESULTS, usecols=["dataset", "arch", "seed", "input_seed", "norm", "t", "accuracy"])
    cell = raw[(raw["dataset"] == "mnist") & (raw["arch"] == "cnn") & (raw["t"] == 8)]
    wide = cell.pivot_table(index=["seed", "input_seed"], columns="norm", values="accuracy")
    d = 100 * (wide["lp4_k-0.25_scale_max"] - wide["uniform_k-0.25_scale_max"]).unstack("input_seed").to_numpy()
    within = np.mean(d.var(axis=1, ddof=1))
    between = max(np.var(d.mean(axis=1), ddof=1) - within / d.shape[1], 0.0)
    want = stats.t.ppf(0.975, 4) * math.sqrt((between + within * 500 / 10_000 / 3) / 5)
    got = design[
        (design["dataset"] == "mnist")
        & (design["arch"] == "cnn")
        & (design["comparison"] == "L4 - uniform control")
        & (design["t"] == 8)
        & (design["seeds"] == 5)
        & (design["input_seeds"] == 3)
    ]
    assert len(got) == 1 and got["half_width"].iloc[0] == pytest.approx(want)


def test_errors_name_the_file_and_the_problem(tmp_path, capsys):
    assert main(["design", "--results", str(tmp_path / "nope.csv"), "--configfile", str(CONFIG)]) == 2
    assert "nope.csv: no such file" in capsys.readouterr().err
    assert main(["design", "--results", str(RESULTS), "--configfile", str(CONFIG), "--T", "500"]) == 2
    assert "no rows at t = [500] (the pilot ran to t = 200)" in capsys.readouterr().err
    full = tmp_path / "full.yaml"
    full.write_text(CONFIG.read_text().replace("test_subset: 500", "test_subset: 0"))
    assert main(["design", "--results", str(RESULTS), "--configfile", str(full)]) == 2
    assert "simulation.test_subset is 0" in capsys.readouterr().err


def test_the_counts_quoted_in_docs_figures(design):
    """docs/figures.md ("Design") quotes how many (network, t) cells meet their target on this pilot."""
    text = (REPO / "docs" / "figures.md").read_text()
    met = design.groupby(["seeds", "input_seeds", "comparison"])["meets"].sum()
    uniform, strongest = "L4 - uniform control", "L4 - strongest baseline"
    assert f"{met[(5, 3, uniform)]} of the 24 (network, t) cells of" in text
    assert f"and {met[(5, 3, strongest)]} of the 24 of L4 − strongest baseline" in text
    assert f"({met[(3, 3, uniform)]} and {met[(3, 3, strongest)]} with 3 seeds)" in text
    safe = design.groupby(["seeds", "input_seeds", "comparison"])["meets_pessimistic"].sum()
    assert f"only {safe[(5, 3, uniform)]} and {safe[(5, 3, strongest)]} of the 24 meet it" in text
    at8 = design[(design["t"] == 8) & (design["comparison"] == strongest) & (design["seeds"] == 5)]
    assert set(at8["reference"]) == {"p99.9"}
    wide = at8.drop_duplicates(["dataset", "arch"])["sd_seed"]
    assert f"{wide[wide > 1].min():.1f}–{wide.max():.1f} points on {int((wide > 1).sum())} of the 6 networks" in text
