"""The design calculation: variance components of a paired difference, the seed-level interval, and the
expected half-width of a design, each against a hand computation or a known simulation truth."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from snnconv.analysis.design import (
    Components,
    expected_half_width,
    seed_level_interval,
    strongest_baseline,
    variance_components,
)


def table(values: dict[int, list[float]]) -> pd.DataFrame:
    """One row per (training seed, input seed) with its difference."""
    return pd.DataFrame([{"seed": s, "input_seed": i, "diff": v} for s, vs in values.items() for i, v in enumerate(vs)])


def test_components_by_hand():
    # seed means 1, 2, 6 (variance 7); within-seed variances 1, 1, 4 (mean 2); I = 2 -> between 7 - 2/2 = 6
    c = variance_components(
        table({0: [1 - 2**-0.5, 1 + 2**-0.5], 1: [2 - 2**-0.5, 2 + 2**-0.5], 2: [6 - 2**0.5, 6 + 2**0.5]}), 500
    )
    assert c.input_var == pytest.approx(2.0) and c.seed_var == pytest.approx(6.0)
    assert (c.n_seeds, c.n_inputs, c.n_images) == (3, 2, 500) and c.mean == pytest.approx(3.0)
    # the pessimistic seed variance: the seed means' variance (7, 2 df) at its 80 % upper bound, less 2 / 2
    assert c.seed_var_upper == pytest.approx(7 * 2 / stats.chi2.ppf(0.2, 2) - 1)


def test_seed_variance_is_floored_at_zero():
    # identical seed means, noisy inputs: the moment estimate of the seed variance is negative, reported as 0
    c = variance_components(table({0: [0.0, 2.0], 1: [-1.0, 3.0], 2: [1.5, 0.5]}), 100)
    assert c.seed_var == 0.0 and c.input_var > 0


def test_components_recover_a_simulated_truth():
    rng = np.random.default_rng(0)
    seeds, inputs, sd_seed, sd_input = 2000, 4, 1.0, 2.0
    effect = rng.normal(0.3, sd_seed, seeds)
    values = {s: list(effect[s] + rng.normal(0, sd_input, inputs)) for s in range(seeds)}
    c = variance_components(table(values), 500)
    assert c.seed_var == pytest.approx(sd_seed**2, rel=0.15) and c.input_var == pytest.approx(sd_input**2, rel=0.05)


@pytest.mark.parametrize(
    "values, message",
    [
        ({0: [1.0, 2.0], 1: [1.0]}, "not balanced"),
        ({0: [1.0], 1: [2.0]}, "≥ 2 input seeds"),
        ({0: [1.0, 2.0]}, "≥ 2 training"),
    ],
)
def test_a_pilot_that_cannot_separate_the_components_is_refused(values, message):
    with pytest.raises(ValueError, match=message):
        variance_components(table(values), 500)


def test_expected_half_width_by_hand():
    c = Components(seed_var=0.04, input_var=0.5, n_seeds=3, n_inputs=3, n_images=500, mean=0.0)
    # on 10,000 images the input variance is 0.5 * 500 / 10000 = 0.025; with I = 1: (0.04 + 0.025) / 5
    want = stats.t.ppf(0.975, 4) * math.sqrt((0.04 + 0.025) / 5)
    assert expected_half_width(c, seeds=5, inputs=1, images=10_000) == pytest.approx(want)
    # more images and input seeds only shrink the input term; the seed term sets the floor
    floor = stats.t.ppf(0.975, 4) * math.sqrt(0.04 / 5)
    assert floor < expected_half_width(c, 5, 100, 10**7) < floor * 1.01
    with pytest.raises(ValueError, match="≥ 2 training seeds"):
        expected_half_width(c, seeds=1, inputs=1, images=100)


def test_seed_level_interval_averages_input_seeds_first():
    diff = table({0: [1.0, 3.0], 1: [0.0, 0.0], 2: [4.0, 2.0]})  # seed means 2, 0, 3
    got = seed_level_interval(diff)
    lo, hi = stats.t.interval(0.95, 2, loc=np.mean([2, 0, 3]), scale=stats.sem([2, 0, 3]))
    assert got["n_seeds"] == 3 and got["mean"] == pytest.approx(5 / 3)
    assert (got["ci_low"], got["ci_high"]) == pytest.approx((lo, hi))
    # six pairs treated as independent would give a narrower interval: the pseudo-replication this avoids
    naive = stats.t.interval(0.95, 5, loc=diff["diff"].mean(), scale=stats.sem(diff["diff"]))
    assert naive[1] - naive[0] < hi - lo
    assert math.isnan(seed_level_interval(table({0: [1.0, 2.0]}))["half_width"])


def test_strongest_baseline_is_the_best_mean_per_network_and_t():
    rows = [
        {"dataset": "mnist", "arch": "mlp", "t": t, "norm": norm, "seed": s, "accuracy": acc + 0.01 * s}
        for t, accs in {8: {"max": 0.5, "p99.9": 0.7}, 64: {"max": 0.95, "p99.9": 0.9}}.items()
        for norm, acc in accs.items()
        for s in range(3)
    ]
    best = strongest_baseline(pd.DataFrame(rows), ["max", "p99.9"])
    assert best.set_index("t")["norm"].to_dict() == {8: "p99.9", 64: "max"}


def test_the_pessimistic_bound_covers_the_truth_at_its_confidence():
    """Over many simulated three-seed pilots, the upper bound of a seed mean's variance (σ²_seed + σ²_input / I)
    lies above the truth in about PILOT_CONFIDENCE of them."""
    from snnconv.analysis.design import PILOT_CONFIDENCE

    rng = np.random.default_rng(1)
    sd_seed, sd_input, inputs, pilots = 1.0, 1.5, 3, 1000
    truth = sd_seed**2 + sd_input**2 / inputs
    covered = 0
    for _ in range(pilots):
        effect = rng.normal(0.0, sd_seed, 3)
        c = variance_components(table({s: list(effect[s] + rng.normal(0, sd_input, inputs)) for s in range(3)}), 500)
        covered += c.seed_var_upper + c.input_var / inputs >= truth
    assert covered / pilots == pytest.approx(PILOT_CONFIDENCE, abs=0.05)
    c = Components(seed_var=0.04, input_var=0.5, n_seeds=3, n_inputs=3, n_images=500, mean=0.0, seed_var_upper=0.4)
    assert expected_half_width(c, 5, 1, 10_000, pessimistic=True) > expected_half_width(c, 5, 1, 10_000)
