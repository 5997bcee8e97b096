"""The verdict rule (snnconv.analysis.verdicts) on constructed data: interval, not mean, decides; strongest control."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from snnconv.analysis.paired import paired_test
from snnconv.analysis.verdicts import best_plain, candidate_controls, helped, l4_tests, strongest, verdict

CONV = {
    "norms": ["none", "max", "p99.9", "max-v0half", "l4", "uniform-l4"],
    "roles": {"l4": "l4", "uniform-l4": "uniform-l4"},
}
PARAMS = {  # norm: (family, method, base, p, k, mode, v_init)
    "none": ("none", "none", "none", math.nan, math.nan, None, 0.0),
    "max": ("max", "max", "max", math.nan, math.nan, None, 0.0),
    "p99.9": ("percentile", "percentile", "p99.9", math.nan, math.nan, None, 0.0),
    "max-v0half": ("v0half", "max", "max", math.nan, math.nan, None, 0.5),
    "l4": ("l4", "lp", "max", 4.0, 0.5, "scale", 0.0),
    "uniform-l4": ("uniform", "uniform", "max", math.nan, 0.5, "scale", 0.0),
}


def _frame(acc: dict[str, list[float]], T: int = 5) -> pd.DataFrame:
    """One row per norm × replicate (input seed i) at t = T, with the recorded parameter columns."""
    rows = []
    for norm, values in acc.items():
        fam, method, base, p, k, mode, v_init = PARAMS[norm]
        for i, a in enumerate(values):
            rows.append(
                {
                    "dataset": "digits",
                    "arch": "mlp",
                    "seed": 0,
                    "input_seed": i,
                    "norm": norm,
                    "t": T,
                    "accuracy": a,
                    "ann_accuracy": 0.9,
                    "family": fam,
                    "method": method,
                    "base": base,
                    "p": p,
                    "k": k,
                    "mode": mode,
                    "v_init": v_init,
                }
            )
    return pd.DataFrame(rows)


def test_positive_mean_with_an_interval_across_zero_is_no_win():
    test = paired_test([0.10, -0.06, 0.08, -0.04])  # mean +2 pp, but the 95 % interval includes zero
    assert test["mean"] > 0 and test["ci_low"] < 0
    assert not helped(test)


def test_small_mean_with_an_interval_above_zero_is_a_win():
    test = paired_test([0.004, 0.005, 0.006, 0.005])  # mean only +0.5 pp, but consistent in every pair
    assert test["ci_low"] > 0
    assert helped(test)


def test_one_pair_is_never_a_win():
    test = paired_test([0.3])
    assert test["n"] == 1 and math.isnan(test["ci_low"]) and not helped(test)


def test_paired_interval_is_the_t_interval_of_the_differences():
    d = [0.01, 0.03, 0.02]
    test = paired_test(d)
    half = 4.3027 * 0.01 / math.sqrt(3)  # t_{0.975, 2} · s/√n from a printed table
    assert test["ci_low"] == pytest.approx(0.02 - half, abs=1e-5) and test["ci_high"] == pytest.approx(
        0.02 + half, abs=1e-5
    )


def test_strongest_control_is_the_one_l4_is_least_clearly_ahead_of():
    tests = pd.DataFrame(
        [
            {"comparison": "Base", "control": "max", "mean": 0.05, "ci_low": 0.04, "ci_high": 0.06, "n": 4},
            # higher mean gain than against Base, but the interval reaches below zero: this is the binding control
            {"comparison": "Uniform", "control": "uniform-l4", "mean": 0.08, "ci_low": -0.01, "ci_high": 0.17, "n": 4},
        ]
    )
    assert strongest(tests)["comparison"] == "Uniform"
    assert verdict(tests) == ("Uniform", False)
    assert verdict(tests.iloc[:1]) == ("Base", True)
    assert verdict(tests.iloc[:0]) == (None, False)


def test_l4_beating_its_base_but_not_the_best_plain_normalization_did_not_help():
    noise = [-0.01, 0.0, 0.01, 0.0]
    df = _frame(
        {
            "max": [0.50 + e for e in noise],
            "p99.9": [0.70 + e for e in noise],
            "none": [0.10 + e for e in noise],
            "max-v0half": [0.55 + e for e in noise],
            "l4": [0.65 + e for e in noise],
            "uniform-l4": [0.52 + e for e in noise],
        }
    )
    assert best_plain(df, CONV, 5) == "p99.9"
    assert candidate_controls(df, CONV, 5) == {
        "Base": "max",
        "Uniform": "uniform-l4",
        "VZero": "max-v0half",
        "Plain": "p99.9",
    }
    tests = l4_tests(df, CONV, 5).set_index("comparison")
    assert tests.loc["Base", "helped"] and tests.loc["Uniform", "helped"] and tests.loc["VZero", "helped"]
    assert not tests.loc["Plain", "helped"]
    assert verdict(tests.reset_index()) == ("Plain", False)  # the old rule (base only) would have said "helped"


def test_l4_ahead_of_every_control_helped():
    noise = [-0.01, 0.0, 0.01, 0.0]
    df = _frame(
        {
            "max": [0.50 + e for e in noise],
            "p99.9": [0.55 + e for e in noise],
            "max-v0half": [0.58 + e for e in noise],
            "l4": [0.60 + e for e in noise],
            "uniform-l4": [0.52 + e for e in noise],
        }
    )
    key, won = verdict(l4_tests(df, CONV, 5))
    assert key == "VZero" and won  # smallest gain (+2 pp) is the strongest control, and still a win


def test_the_best_plain_normalization_is_not_counted_twice():
    df = _frame({"max": [0.6, 0.61], "p99.9": [0.5, 0.52], "l4": [0.7, 0.72]})
    assert candidate_controls(df, CONV, 5) == {"Base": "max"}  # the base is also the best plain one
