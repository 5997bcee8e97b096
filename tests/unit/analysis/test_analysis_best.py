"""best_methods: the best norm per T, its paired lead over the runner-up and whether it clears the seed spread."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from snnconv.analysis.summaries import best_methods


def frame(effects: dict[str, float], noise: float, n_seeds: int = 3, n_input: int = 3) -> pd.DataFrame:
    """accuracy = 0.8 + effect(norm) + a replicate effect shared by every norm + small per-norm noise."""
    rng = np.random.default_rng(0)
    rows = []
    for seed, iseed in itertools.product(range(n_seeds), range(n_input)):
        shared = rng.normal(0, 0.05)  # seed-to-seed spread, common to all norms of a replicate
        for norm, effect in effects.items():
            for t in (10, 20):
                acc = 0.8 + effect + shared + rng.normal(0, noise)
                rows.append(dict(dataset="d", arch="a", seed=seed, input_seed=iseed, norm=norm, t=t, accuracy=acc))
    return pd.DataFrame(rows)


def test_a_paired_lead_smaller_than_the_spread_is_still_clear():
    """+1 pp on every replicate is a clear lead although the seed-to-seed std is 5 pp (pairs remove it)."""
    out = best_methods(frame({"max": 0.0, "l4": 0.01, "p99.9": -0.02}, noise=0.001), [10, 20], {"main": None})
    row = out[out["T"] == 10].iloc[0]
    assert (row["best"], row["runner_up"], row["n"]) == ("l4", "max", 9)
    assert row["lead"] == pytest.approx(0.01, abs=0.002) and row["clear"]
    assert 0 < row["lead_over_std"] < 0.5  # the lead is a fraction of the spread, and says so


def test_a_noisy_lead_is_not_clear():
    out = best_methods(frame({"max": 0.0, "l4": 0.001}, noise=0.02), [10], {"main": None})
    row = out.iloc[0]
    assert row["lead_ci_low"] < 0 < row["lead_ci_high"] and not row["clear"]


def test_scopes_restrict_the_candidates_and_T_beyond_the_run_is_skipped():
    df = frame({"max": 0.0, "l4": 0.01, "lp2_k1_scale_max": 0.05}, noise=0.001)
    out = best_methods(df, [10, 500], {"main": ["max", "l4"], "all": None})
    assert list(out["T"]) == [10, 10]
    assert dict(zip(out["scope"], out["best"])) == {"main": "l4", "all": "lp2_k1_scale_max"}


def test_one_norm_has_no_runner_up():
    out = best_methods(frame({"max": 0.0}, noise=0.001), [10], {"main": None})
    assert out.iloc[0]["best"] == "max" and pd.isna(out.iloc[0]["runner_up"]) and pd.isna(out.iloc[0]["clear"])
