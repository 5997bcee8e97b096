"""The analysis layer pinned on small frames whose right answers are worked out by hand (snnconv/analysis/).

Each test states the data, the answer and why; the frames of tests/regression/test_pinned_macros.py (two networks, mnist
before digits, accuracies in 1/64 steps) are reused where a whole results table is needed.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest
from helpers.pinned_run import L4, RUN, UNI, results

from snnconv.analysis.controls import control_names
from snnconv.analysis.correlations import best_predictor
from snnconv.analysis.paired import paired_difference, paired_test
from snnconv.analysis.summaries import best_methods, low_T_gap
from snnconv.analysis.verdicts import best_plain, helped, l4_tests, strongest
from snnconv.report.tables import accuracy_tables


@pytest.mark.parametrize(
    "test, win",
    [
        ({"n": 4, "mean": 0.0, "ci_low": 0.0, "ci_high": 0.0}, False),  # identical scores: not "improved"
        ({"n": 4, "mean": 0.01, "ci_low": 0.0, "ci_high": 0.02}, False),  # lower bound exactly zero
        ({"n": 4, "mean": 0.01, "ci_low": 1e-9, "ci_high": 0.02}, True),
        ({"n": 1, "mean": 0.5, "ci_low": float("nan"), "ci_high": float("nan")}, False),  # one pair is no evidence
        ({"n": 4, "mean": 0.01, "ci_low": -0.001, "ci_high": 0.02}, False),
    ],
)
def test_a_win_needs_a_lower_bound_above_zero(test, win):
    assert helped(test) is win


def test_identical_scores_give_a_point_interval_at_zero_and_no_win():
    test = paired_test([0.0, 0.0, 0.0, 0.0])
    assert (test["mean"], test["ci_low"], test["ci_high"], test["p_value"], test["n"]) == (0.0, 0.0, 0.0, 1.0, 4)
    assert not helped(test)


def test_paired_difference_is_norm_minus_reference():
    df = results()
    diff = paired_difference(df[df["t"] == 1], [L4], "max")
    # l4 − max at t = 1: mnist +1/64, +1/32; digits +1/64, +1/32
    assert diff["diff"].tolist() == [1 / 64, 1 / 32, 1 / 64, 1 / 32]
    assert list(zip(diff["dataset"], diff["input_seed"])) == [("mnist", 0), ("mnist", 1), ("digits", 0), ("digits", 1)]


def test_l4_tests_pool_pairs_and_pick_the_strongest_control():
    tests = l4_tests(results(), RUN, 1).set_index("comparison")
    assert tests.loc["Base", "mean"] == pytest.approx(3 / 128) and tests.loc["Base", "n"] == 4
    # s = (1/128)·√(4/3), half-width t(0.975, 3)·s/√4 with t(0.975, 3) = 3.182446305
    half = 3.182446305 * (1 / 128) * math.sqrt(4 / 3) / 2
    assert tests.loc["Base", "ci_low"] == pytest.approx(3 / 128 - half, abs=1e-9) and bool(tests.loc["Base", "helped"])
    assert tests.loc["Uniform", "ci_low"] == 0.0 and not bool(tests.loc["Uniform", "helped"])
    assert tests.loc["Plain", "control"] == "p99.9" and tests.loc["VZero", "control"] == "max-v0half"
    assert strongest(tests.reset_index())["comparison"] == "VZero"  # lowest lower bound: −0.0703 − half


def test_strongest_counts_a_missing_interval_as_the_lowest():
    tests = pd.DataFrame(
        {"comparison": ["Base", "Uniform", "Plain"], "mean": [0.05, -0.2, 0.01], "ci_low": [0.01, -0.3, None]}
    )
    assert strongest(tests)["comparison"] == "Plain"  # one pair: no interval, so the least clear of all


def test_best_plain_is_the_highest_pooled_mean():
    # at t = 1 the plain norms of conversion.norms are max (0.453125 pooled) and p99.9 (0.5)
    assert best_plain(results(), RUN, 1) == "p99.9"


def _recorded(norm: str, method: str, base: str, k: float, mode: str) -> dict:
    """The columns a conversion.json gives a norm in accuracy_all.csv."""
    family = {"uniform": "uniform", "lp": "l4", "max": "max"}[method]
    p = 4.0 if method == "lp" else None
    return {"norm": norm, "family": family, "method": method, "base": base, "p": p, "k": k, "mode": mode, "v_init": 0.0}


def test_uniform_control_matches_k_mode_and_base_without_roles():
    """With no role map, the uniform control is the uniform norm of the same k, mode AND base as l4; the ones
    that differ only in mode or only in base are listed first, so a match on fewer fields picks a wrong one."""
    rows = [
        _recorded("lp4_k0.5_scale_max", "lp", "max", 0.5, "scale"),
        _recorded("uniform_k0.5_bias_max", "uniform", "max", 0.5, "bias"),
        _recorded("uniform_k0.5_scale_p99.9", "uniform", "p99.9", 0.5, "scale"),
        _recorded("uniform_k0.25_scale_max", "uniform", "max", 0.25, "scale"),
        _recorded("uniform_k0.5_scale_max", "uniform", "max", 0.5, "scale"),
    ]
    df = pd.DataFrame([{**r, "t": 1, "accuracy": 0.5} for r in rows])
    conv = {"norms": list(df["norm"]), "l4": {"k": 0.5, "mode": "scale", "base": "max"}}
    assert control_names(df, conv)["uniform"] == "uniform_k0.5_scale_max"
    assert control_names(df, conv)["l4"] == "lp4_k0.5_scale_max"


def _best_frame(a: list[float], b: list[float]) -> pd.DataFrame:
    """Norms a and b on one network at t = 5, one row per replicate (spike seed)."""
    return pd.DataFrame(
        [
            {"dataset": "digits", "arch": "mlp", "seed": 0, "input_seed": i, "t": 5, "norm": norm, "accuracy": acc}
            for norm, accs in (("a", a), ("b", b))
            for i, acc in enumerate(accs)
        ]
    )


def test_a_lead_of_exactly_zero_is_not_clear():
    row = best_methods(_best_frame([0.5, 0.6, 0.7], [0.5, 0.6, 0.7]), [5], {"all": None}).iloc[0]
    assert (row["lead"], row["lead_ci_low"], row["lead_ci_high"]) == (0.0, 0.0, 0.0) and not row["clear"]
    # the same spread with b ahead by exactly 1/64 in every pair: the interval is that point, above zero
    row = best_methods(_best_frame([0.5, 0.6, 0.7], [0.5 + 1 / 64, 0.6 + 1 / 64, 0.7 + 1 / 64]), [5], {"all": None})
    assert row.iloc[0]["best"] == "b" and row.iloc[0]["lead"] == pytest.approx(1 / 64) and bool(row.iloc[0]["clear"])


def test_best_predictor_ranks_by_mean_and_gives_each_layer_to_its_best_p():
    """Layer 0: L4 .9 > L2 .8 > L1 .3; layer 1: L2 .7 > L4 .5 > L1 .4. Means: L2 .75, L4 .70, L1 .35."""
    corr = pd.DataFrame(
        [
            {"layer_index": layer, "predictor": name, "p": p, "spearman": value}
            for layer, values in ((0, (0.3, 0.8, 0.9)), (1, (0.4, 0.7, 0.5)))
            for name, p, value in zip(("L1", "L2", "L4"), (1.0, 2.0, 4.0), values)
        ]
    )
    out = best_predictor(corr)
    assert out["predictor"].tolist() == ["L2", "L4", "L1"]
    assert out["mean"].tolist() == pytest.approx([0.75, 0.7, 0.35])
    assert out["min"].tolist() == pytest.approx([0.7, 0.5, 0.3])
    assert out["wins"].tolist() == [1.0, 1.0, 0.0] and out["n_layers"].tolist() == [2, 2, 2]


def test_low_T_gap_is_snn_minus_ann_in_run_order():
    out = low_T_gap(results(), ["p99.9", "max"], [1, 5])
    keys = list(zip(out["dataset"], out["T"], out["norm"]))
    assert keys == [
        ("mnist", 1, "p99.9"),
        ("mnist", 1, "max"),
        ("mnist", 5, "p99.9"),
        ("mnist", 5, "max"),
        ("digits", 1, "p99.9"),
        ("digits", 1, "max"),
        ("digits", 5, "p99.9"),
        ("digits", 5, "max"),
    ]
    # mnist, max, t = 1: (0.5 + 0.53125) / 2 − 0.75 = −0.234375
    assert out["mean"].iloc[1] == pytest.approx(-0.234375)
    # digits, p99.9, t = 5: (0.421875 + 0.453125) / 2 + 0.125 − 0.625 = −0.0625
    assert out["mean"].iloc[6] == pytest.approx(-0.0625)


def test_accuracy_table_rows_follow_run_and_config_order(tmp_path):
    order = ["p99.9", "max", "max-v0half", L4, UNI]  # not alphabetical
    accuracy_tables(results(), [1, 5], 0.125, tmp_path / "acc", norms=order)
    md = [line.split("|")[1:4] for line in (tmp_path / "acc.md").read_text().splitlines()[2:]]
    rows = [[cell.strip() for cell in line] for line in md]
    want = [[net, "mlp", norm] for net in ("mnist", "digits") for norm in ["ANN", *order]]
    assert rows == want
    tidy = pd.read_csv(tmp_path / "acc.csv")
    assert list(dict.fromkeys(tidy["dataset"])) == ["mnist", "digits"]
