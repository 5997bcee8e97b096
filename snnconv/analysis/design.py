"""A study's resolution before it runs: expected 95 % half-widths of paired differences, from a pilot.

The unit of replication is the training seed. A paired difference (say L4 − its uniform control at one t) is
measured per (training seed, input seed) on the same images; input seeds are averaged within their training
seed, and the interval is a t-interval over the training seeds' means (:func:`seed_level_interval`). Its
half-width for a design of S training seeds, I input seeds and N test images is

    t(0.975, S − 1) · sqrt((σ²_seed + σ²_input(N) / I) / S)

where σ²_seed is the variance of the difference between training seeds and σ²_input(N) the variance between
input seeds of one network on N images. Both are estimated from a pilot (a finished results table) by the
one-way random-effects analysis of variance (method of moments: the pilot is balanced, and with three seeds
a likelihood fit sits on its boundary more often than not). Two assumptions carry the pilot to the design:

* the input-seed variance scales as 1/N: each image's spike train is drawn independently, so the noise of an
  accuracy over N images is a mean of N independent per-image terms;
* the seed variance is taken as measured. On the pilot's N images it also holds the sampling of those images
  (each network errs on different ones), which a larger test set shrinks, so the estimate is conservative.

A pilot of three training seeds estimates σ²_seed with two degrees of freedom, so each half-width also comes with
a pessimistic twin: σ²_seed at its one-sided upper confidence bound (:data:`PILOT_CONFIDENCE`, from the χ²
distribution of the seed means' variance), which a design must meet to be safe rather than lucky.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from scipy import stats

from .controls import control_names, plain_norms
from .intervals import t_critical
from .paired import paired_difference, paired_test

# The study's resolution goal: the 95 % half-width, in accuracy points, that a headline paired difference must
# reach (MNIST and Fashion-MNIST resolve ±0.3 points, CIFAR-10 ±0.6).
TARGET_HALF_WIDTH = {"digits": 0.3, "mnist": 0.3, "fashion_mnist": 0.3, "cifar10": 0.6, "cifar10_jpeg": 0.6}
# Confidence of the upper bound on the pilot's seed variance that the pessimistic half-widths use.
PILOT_CONFIDENCE = 0.8


@dataclass(frozen=True)
class Components:
    """Variance components of one paired difference (accuracy points²) and the pilot shape they came from."""

    seed_var: float  # between training seeds, of a seed's mean difference with its input noise removed
    input_var: float  # between input seeds within one training seed, on ``n_images`` images
    n_seeds: int
    n_inputs: int
    n_images: int
    mean: float  # the pilot's mean difference (points)
    seed_var_upper: float = math.nan  # seed_var at its one-sided PILOT_CONFIDENCE upper bound


def variance_components(diff: pd.DataFrame, n_images: int, value: str = "diff") -> Components:
    """σ²_seed and σ²_input of ``diff`` (one row per training seed × input seed; ``value`` in points).

    One-way random-effects ANOVA: σ²_input is the pooled within-seed variance, σ²_seed the variance of the
    seed means less σ²_input / I, floored at 0. Needs a balanced table: every seed with the same input seeds.
    """
    counts = diff.groupby("seed")[value].count()
    if counts.empty or counts.nunique() != 1:
        raise ValueError(f"pilot is not balanced: input seeds per training seed {counts.to_dict()}")
    n_seeds, n_inputs = len(counts), int(counts.iloc[0])
    if n_seeds < 2 or n_inputs < 2:
        raise ValueError(f"pilot needs ≥ 2 training seeds and ≥ 2 input seeds, has {n_seeds} and {n_inputs}")
    by_seed = diff.groupby("seed")[value]
    within = float(by_seed.var(ddof=1).mean())
    means_var = float(by_seed.mean().var(ddof=1))
    between = means_var - within / n_inputs
    # (S - 1) s² / σ² ~ χ²(S - 1) for the variance of the seed means: its one-sided upper bound
    means_var_upper = means_var * (n_seeds - 1) / stats.chi2.ppf(1 - PILOT_CONFIDENCE, n_seeds - 1)
    return Components(
        seed_var=max(between, 0.0),
        seed_var_upper=max(means_var_upper - within / n_inputs, 0.0),
        input_var=within,
        n_seeds=n_seeds,
        n_inputs=n_inputs,
        n_images=int(n_images),
        mean=float(diff[value].mean()),
    )


def expected_half_width(
    c: Components, seeds: int, inputs: int, images: int, level: float = 0.95, pessimistic: bool = False
) -> float:
    """The expected half-width (points) of the seed-level interval for S = ``seeds``, I = ``inputs``, N = ``images``
    (with ``pessimistic``, the seed variance at its upper bound, ``c.seed_var_upper``)."""
    if seeds < 2 or inputs < 1 or images < 1:
        raise ValueError(
            f"a design needs ≥ 2 training seeds, ≥ 1 input seed and ≥ 1 image: {seeds}, {inputs}, {images}"
        )
    input_var = c.input_var * c.n_images / images
    seed_var = c.seed_var_upper if pessimistic else c.seed_var
    return t_critical(seeds - 1, level) * math.sqrt((seed_var + input_var / inputs) / seeds)


def seed_level_interval(diff: pd.DataFrame, value: str = "diff", level: float = 0.95) -> pd.Series:
    """mean, ci_low, ci_high, half_width and n_seeds of a paired difference, the training seed as the unit.

    Input seeds are averaged within their training seed first, so S seeds give S − 1 degrees of freedom however
    many input seeds each has (pairs that share a network are not independent samples); the interval is
    :func:`paired.paired_test`'s over those S means.
    """
    test = paired_test(diff.groupby("seed")[value].mean(), level)
    half = (test["ci_high"] - test["ci_low"]) / 2
    return pd.Series(
        {
            "mean": test["mean"],
            "ci_low": test["ci_low"],
            "ci_high": test["ci_high"],
            "half_width": half,
            "n_seeds": test["n"],
        }
    )


def strongest_baseline(df: pd.DataFrame, baselines: Sequence[str]) -> pd.DataFrame:
    """Per (dataset, arch, t): the baseline with the highest mean accuracy over the table's replicates.

    On a pilot this is a design-time guess of which baseline the study will compare L4 with (the study itself
    chooses on its validation split); a baseline far below the others is no candidate for the headline.
    """
    means = df[df["norm"].isin(baselines)].groupby(["dataset", "arch", "t", "norm"], sort=True)["accuracy"].mean()
    best = means.groupby(level=["dataset", "arch", "t"]).idxmax()
    return pd.DataFrame(best.tolist(), columns=["dataset", "arch", "t", "norm"])


def headline_pairs(df: pd.DataFrame, conversion_cfg: dict[str, Any]) -> tuple[str, str | None, list[str]]:
    """The L4 norm, its uniform control (None if absent) and the plain baselines L4 is compared with."""
    roles = control_names(df, conversion_cfg)
    l4 = roles["l4"]
    if l4 is None:
        raise ValueError("the pilot has no L4 adjustment (role l4) to compare")
    return l4, roles["uniform"], [n for n in plain_norms(df, conversion_cfg) if n != l4]


def design_table(
    df: pd.DataFrame,
    conversion_cfg: dict[str, Any],
    n_images: int,
    T_points: Sequence[int],
    designs: Iterable[tuple[int, int, int]],
    level: float = 0.95,
) -> pd.DataFrame:
    """Per network, comparison, t and design (S, I, N): the pilot's components and the expected half-width.

    ``df`` is a results table (``accuracy`` in [0, 1]) with every (seed, input seed) of the pilot; ``n_images``
    the number of test images the pilot simulated. The strongest baseline is the pilot's best plain normalization
    at each (network, t) (:func:`strongest_baseline`); ``meets`` compares the half-width with
    :data:`TARGET_HALF_WIDTH`.
    """
    designs = list(designs)
    df = df[df["t"].isin(T_points)]
    l4, uniform, baselines = headline_pairs(df, conversion_cfg)
    comparisons = []
    if uniform is not None:
        comparisons.append(("L4 - uniform control", paired_difference(df, [l4], uniform)))
    if baselines:
        strongest = strongest_baseline(df, baselines).rename(columns={"norm": "reference"})
        every = pd.concat([paired_difference(df, [l4], b) for b in baselines], ignore_index=True)
        diffs = every.merge(strongest, on=["dataset", "arch", "t", "reference"])
        comparisons.append(("L4 - strongest baseline", diffs))
    rows = []
    for comparison, diffs in comparisons:
        for (dataset, arch, t, reference), group in diffs.groupby(["dataset", "arch", "t", "reference"], sort=True):
            c = variance_components(group.assign(diff=100.0 * group["diff"]), n_images)
            for seeds, inputs, images in designs:
                rows.append(
                    {
                        "dataset": dataset,
                        "arch": arch,
                        "comparison": comparison,
                        "reference": reference,
                        "t": int(t),
                        "seeds": seeds,
                        "input_seeds": inputs,
                        "images": images,
                        "pilot_mean": c.mean,
                        "sd_seed": math.sqrt(c.seed_var),
                        "sd_input": math.sqrt(c.input_var),
                        "half_width": expected_half_width(c, seeds, inputs, images, level),
                        "half_width_pessimistic": expected_half_width(c, seeds, inputs, images, level, True),
                    }
                )
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    table["target"] = table["dataset"].map(TARGET_HALF_WIDTH)
    table["meets"] = table["half_width"] <= table["target"]
    table["meets_pessimistic"] = table["half_width_pessimistic"] <= table["target"]
    return table
