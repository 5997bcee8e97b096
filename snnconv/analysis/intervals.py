"""Means over replicates with Student-t confidence intervals (docs/figures.md "Statistics").

A replicate is one (training seed, input seed) pair. Input seeds under one training seed share the
network, so an interval describes spike-sampling plus training-seed variability as sampled. The
interval is mean ± t_{1−α/2, n−1} · s/√n with the quantile from :func:`scipy.stats.t.ppf`. With n = 1 it
is undefined (NaN); figures draw it only from :data:`MIN_N_SHOWN` replicates on (with n = 2 the
half-width is 12.7 standard errors, which says more about the quantile than about the data).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from .load import REPLICATE_COLS

MIN_N_SHOWN = 3  # fewer replicates: a figure states n and draws no interval
CI_COLS = ["mean", "std", "n", "sem", "ci_low", "ci_high"]


def t_critical(df: int | float, level: float = 0.95) -> float:
    """Two-sided critical value t_{(1+level)/2, df} of Student's t (scipy); NaN for df < 1."""
    return float(stats.t.ppf(0.5 + level / 2, df)) if df >= 1 else math.nan


def mean_ci(df: pd.DataFrame, by: Sequence[str], value: str = "accuracy", level: float = 0.95) -> pd.DataFrame:
    """Mean of ``value`` over the rows of each ``by`` group (the replicates) with a t-interval.

    Returns ``by`` + mean, std (n − 1), n, sem, ci_low, ci_high; with n = 1 std, sem and the interval are NaN.
    """
    by = list(by)
    if df.empty:
        return pd.DataFrame(columns=by + CI_COLS)
    g = df.groupby(by, sort=False, observed=True, dropna=False)[value]
    out = g.agg(mean="mean", std="std", n="count").reset_index()
    out["n"] = out["n"].astype(int)
    out["sem"] = out["std"] / np.sqrt(out["n"])
    dof = (out["n"] - 1).to_numpy(dtype=float)
    crit = np.where(dof >= 1, stats.t.ppf(0.5 + level / 2, np.maximum(dof, 1)), np.nan)
    half = crit * out["sem"]
    out["ci_low"] = out["mean"] - half
    out["ci_high"] = out["mean"] + half
    return out


def interval_shown(n: int) -> bool:
    """Whether a figure draws the interval of ``n`` replicates (n ≥ :data:`MIN_N_SHOWN`)."""
    return int(n) >= MIN_N_SHOWN


def drawable(summary: pd.DataFrame) -> pd.DataFrame:
    """``summary`` (from :func:`mean_ci`) with ci_low/ci_high blanked where n < :data:`MIN_N_SHOWN`."""
    out = summary.copy()
    small = out["n"].astype(float) < MIN_N_SHOWN
    out.loc[small, ["ci_low", "ci_high"]] = np.nan
    return out


def n_replicates(df: pd.DataFrame) -> int:
    """Number of (training seed, input seed) replicates in ``df`` (max over dataset × arch × norm)."""
    if df.empty:
        return 0
    keys = [c for c in ("dataset", "arch", "norm") if c in df.columns]
    return int(df.groupby(keys)[REPLICATE_COLS].apply(lambda g: len(g.drop_duplicates())).max())


def ci_note(n: int) -> str:
    """Caption fragment naming the interval method and n, or saying that no interval is shown."""
    if not interval_shown(n):
        return f"mean over replicates; n = {n}: interval not shown, 95% t-intervals drawn from n = {MIN_N_SHOWN}"
    return f"mean and 95% Student-t interval over n = {n} replicates (training seed × input seed)"


def ann_reference(df: pd.DataFrame) -> pd.DataFrame:
    """ANN accuracy per dataset × arch: mean over training seeds (+ std, n, interval)."""
    per_seed = df[["dataset", "arch", "seed", "ann_accuracy"]].drop_duplicates()
    return mean_ci(per_seed, ["dataset", "arch"], "ann_accuracy")


def at_times(df: pd.DataFrame, T_points: Iterable[int]) -> pd.DataFrame:
    """Rows at the given timesteps only (column ``T`` = t); T points beyond the simulation are dropped."""
    T_points = sorted(set(int(t) for t in T_points))
    out = df[df["t"].isin(T_points)].copy()
    out["T"] = out["t"]
    return out


def timesteps_to_within(df: pd.DataFrame, within: float) -> pd.DataFrame:
    """First t at which the replicate-mean accuracy reaches ANN − ``within``, per dataset × arch × norm.

    Returns dataset, arch, norm, T_max, ann_accuracy, t_within (NaN if never) and label ("37" or "> 200").
    """
    curve = mean_ci(df, ["dataset", "arch", "norm", "t"])
    ann = ann_reference(df)[["dataset", "arch", "mean"]].rename(columns={"mean": "ann_accuracy"})
    curve = curve.merge(ann, on=["dataset", "arch"])
    rows = []
    for (dataset, arch, norm), g in curve.groupby(["dataset", "arch", "norm"], sort=False):
        g = g.sort_values("t")
        target = float(g["ann_accuracy"].iloc[0]) - within
        hit = g[g["mean"] >= target - 1e-12]
        t_max = int(g["t"].max())
        t_within = int(hit["t"].iloc[0]) if len(hit) else math.nan
        rows.append(
            {
                "dataset": dataset,
                "arch": arch,
                "norm": norm,
                "T_max": t_max,
                "ann_accuracy": float(g["ann_accuracy"].iloc[0]),
                "t_within": t_within,
                "label": str(t_within) if len(hit) else f"> {t_max}",
            }
        )
    return pd.DataFrame(rows, columns=["dataset", "arch", "norm", "T_max", "ann_accuracy", "t_within", "label"])
