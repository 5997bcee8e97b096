"""The tidy numbers behind each figure and table: curves, gaps, sweep gains, firing rates, the accuracy summary.

Every mean here is over replicates with a t-interval (:func:`.intervals.mean_ci`); every gain is a paired
difference (:func:`.paired.paired_difference`). Nothing here draws.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from .intervals import at_times, mean_ci, timesteps_to_within
from .load import RATE_PREFIX, norm_params, rate_columns
from .paired import paired_difference, paired_test


def accuracy_curves(df: pd.DataFrame, norms: Sequence[str]) -> pd.DataFrame:
    """Mean accuracy (and CI) per dataset × arch × norm × t, for the given norms only."""
    sub = df[df["norm"].isin(norms)]
    return mean_ci(sub, ["dataset", "arch", "norm", "t"])


def low_T_gap(df: pd.DataFrame, norms: Sequence[str], T_points: Sequence[int]) -> pd.DataFrame:
    """SNN − ANN (fraction) per dataset × arch × norm × T: mean, std, n, CI over replicates."""
    sub = df[df["norm"].isin(norms) & df["t"].isin(list(T_points))].copy()
    sub["gap"] = sub["accuracy"] - sub["ann_accuracy"]
    sub["T"] = sub["t"]
    out = mean_ci(sub, ["dataset", "arch", "norm", "T"], "gap")
    order = {n: i for i, n in enumerate(norms)}
    nets = {k: i for i, k in enumerate(dict.fromkeys(zip(sub["dataset"], sub["arch"])))}
    out["_n"] = [nets[k] for k in zip(out["dataset"], out["arch"])]
    out["_o"] = out["norm"].map(order)
    return out.sort_values(["_n", "T", "_o"], kind="stable").drop(columns=["_n", "_o"]).reset_index(drop=True)


def accuracy_summary(
    df: pd.DataFrame, T_points: Sequence[int], within: float, norms: Sequence[str] | None = None
) -> pd.DataFrame:
    """Tidy numbers, one row per dataset × arch × norm × quantity (× T):

    * quantity ``accuracy``: SNN accuracy at T (mean, std, n, 95 % CI over replicates);
    * quantity ``ann_accuracy`` (norm "ANN", T empty): the ANN, over training seeds;
    * quantity ``t_within`` (T empty): first t with mean accuracy ≥ ANN − ``within`` (``mean``; NaN if
      never), ``label`` "37" or "> 200".
    """
    if norms is not None:
        df = df[df["norm"].isin(norms)]
    T_max = int(df["t"].max()) if len(df) else 0
    T_points = [t for t in T_points if t <= T_max]
    acc = mean_ci(at_times(df, T_points), ["dataset", "arch", "norm", "T"]).assign(quantity="accuracy")
    per_seed = df[["dataset", "arch", "seed", "ann_accuracy"]].drop_duplicates()
    ann = mean_ci(per_seed, ["dataset", "arch"], "ann_accuracy").assign(norm="ANN", quantity="ann_accuracy")
    w = timesteps_to_within(df, within).rename(columns={"t_within": "mean"})
    w = w[["dataset", "arch", "norm", "mean", "label"]].assign(quantity="t_within", n=np.nan)
    out = pd.concat([ann, acc, w], ignore_index=True, sort=False)
    out["T"] = out["T"].astype("Int64")
    out["n"] = out["n"].astype("Int64")
    cols = ["dataset", "arch", "norm", "quantity", "T", "mean", "std", "n", "ci_low", "ci_high", "label"]
    return out.reindex(columns=cols)


def pick_T(T_points: Sequence[int], n: int = 3, T_max: int | None = None) -> list[int]:
    """Up to ``n`` of the T points: the first, the middle and the last (within ``T_max``)."""
    pts = sorted(t for t in T_points if T_max is None or t <= T_max)
    if len(pts) <= n:
        return pts
    idx = sorted({round(i * (len(pts) - 1) / (n - 1)) for i in range(n)})
    return [pts[i] for i in idx]


def adjusted_norms(df: pd.DataFrame, conversion_cfg: dict[str, Any] | None = None) -> pd.DataFrame:
    """One row per distinct adjustment: norm, curve ("L4", "uniform"…), p, k, mode, base, reference.

    The parameters are the recorded columns of accuracy_all.csv (:func:`.load.norm_params`).
    """
    rows = []
    info = norm_params(df, conversion_cfg)
    specs = [
        (r.norm, r.method, float(r.p) if r.method == "lp" else math.nan, float(r.k), r.mode, r.base)
        for r in info.itertuples(index=False)
        if r.method in ("lp", "uniform")
    ]
    for name, method, p, k, mode, base in specs:
        curve = "uniform" if method == "uniform" else ("Linf" if math.isinf(p) else f"L{p:g}")
        rows.append({"norm": name, "curve": curve, "p": p, "k": k, "mode": mode, "base": base, "reference": base})
    out = pd.DataFrame(rows, columns=["norm", "curve", "p", "k", "mode", "base", "reference"])
    return out.drop_duplicates(["curve", "k", "mode", "base"], keep="first").reset_index(drop=True)


def sweep_gain(df: pd.DataFrame, conversion_cfg: dict[str, Any], T_points: Sequence[int]) -> pd.DataFrame:
    """Gain (adjusted − base accuracy) per dataset × arch × mode × base × curve × k × T, mean and CI."""
    adj = adjusted_norms(df, conversion_cfg)
    cols = ["dataset", "arch", "mode", "base", "curve", "p", "k", "T", "mean", "std", "n", "sem", "ci_low", "ci_high"]
    if adj.empty:
        return pd.DataFrame(columns=cols)
    sub = df[df["t"].isin(list(T_points))]
    diff = paired_difference(sub, adj["norm"], dict(zip(adj["norm"], adj["reference"])))
    if diff.empty:
        return pd.DataFrame(columns=cols)
    diff = diff.merge(adj.drop(columns="reference"), on="norm")
    diff["T"] = diff["t"]
    out = mean_ci(diff, ["dataset", "arch", "mode", "base", "curve", "p", "k", "T"], "diff")
    return out.reindex(columns=cols)


def rates_long(df: pd.DataFrame, norms: Sequence[str], t: Sequence[int] | None = None) -> pd.DataFrame:
    """Long format: ids, t, layer, layer_order, rate (rows with no rate for that arch dropped)."""
    sub = df[df["norm"].isin(norms)]
    if t is not None:
        sub = sub[sub["t"].isin(list(t))]
    cols = rate_columns(sub)
    if not cols or sub.empty:
        return pd.DataFrame(
            columns=["dataset", "arch", "seed", "input_seed", "norm", "t", "layer", "layer_order", "rate"]
        )
    long = sub.melt(
        id_vars=["dataset", "arch", "seed", "input_seed", "norm", "t"],
        value_vars=cols,
        var_name="layer",
        value_name="rate",
    ).dropna(subset=["rate"])
    long["layer_order"] = long["layer"].map(layer_rank(cols))
    long["layer"] = long["layer"].str.slice(len(RATE_PREFIX))
    return long


def layer_rank(cols: Sequence[str]) -> dict[str, int]:
    """Depth order of rate columns: by the module index the converter appends to layer names
    (``conv2d0`` < ``linear4``), else by column order (the union of several archs loses depth order)."""

    def key(item: tuple[int, str]) -> tuple[float, int]:
        m = re.search(r"(\d+)$", item[1])
        return (int(m.group(1)) if m else math.inf, item[0])

    return {c: r for r, (_, c) in enumerate(sorted(enumerate(cols), key=key))}


def rates_at_T(df: pd.DataFrame, norms: Sequence[str]) -> pd.DataFrame:
    """Mean rate (and CI) at each network's last timestep, per dataset × arch × norm × layer."""
    if df.empty:
        return rates_long(df, norms)
    last = df.groupby(["dataset", "arch"])["t"].transform("max")
    long = rates_long(df[df["t"] == last], norms)
    return mean_ci(long, ["dataset", "arch", "norm", "layer_order", "layer", "t"], "rate")


def log_grid(T: int, n: int = 40) -> list[int]:
    """About ``n`` log-spaced integer timesteps in 1..T (always including 1 and T)."""
    return sorted(set(np.unique(np.round(np.logspace(0, np.log10(max(T, 1)), n)).astype(int)).tolist()) | {1, T})


BEST_COLS = [
    "dataset",
    "arch",
    "scope",
    "T",
    "best",
    "best_mean",
    "best_std",
    "runner_up",
    "runner_up_mean",
    "lead",
    "lead_ci_low",
    "lead_ci_high",
    "n",
    "lead_over_std",
    "clear",
]


def best_methods(df: pd.DataFrame, T_points: Sequence[int], scopes: dict[str, Sequence[str] | None]) -> pd.DataFrame:
    """Which norm is best per dataset × arch × T, and by how much relative to the seed-to-seed spread.

    For each scope (name → the norms it compares; None = every simulated norm): the norm with the highest
    mean accuracy over replicates, the runner-up, the paired lead best − runner-up (same training and spike
    seeds) with its 95 % t-interval, the best's std over replicates, lead ÷ that std, and ``clear`` = the
    interval lies above zero (the verdict rule of :mod:`.verdicts`). A lead within the spread is reported as such.
    """
    rows = []
    T_max = int(df["t"].max()) if len(df) else 0
    for scope, norms in scopes.items():
        sub = df if norms is None else df[df["norm"].isin(list(norms))]
        for (dataset, arch), net in sub.groupby(["dataset", "arch"], sort=False):
            for T in [t for t in T_points if t <= T_max]:
                at = net[net["t"] == T]
                stats_ = at.groupby("norm")["accuracy"].agg(["mean", "std", "count"])
                if stats_.empty:
                    continue
                ranked = stats_.sort_values("mean", ascending=False, kind="stable")
                best = str(ranked.index[0])
                row = {
                    "dataset": dataset,
                    "arch": arch,
                    "scope": scope,
                    "T": int(T),
                    "best": best,
                    "best_mean": float(ranked["mean"].iloc[0]),
                    "best_std": float(ranked["std"].iloc[0]),
                }
                if len(ranked) > 1:
                    runner = str(ranked.index[1])
                    test = paired_test(paired_difference(at, [best], runner)["diff"])
                    std = row["best_std"]
                    row.update(
                        runner_up=runner,
                        runner_up_mean=float(ranked["mean"].iloc[1]),
                        lead=float(test["mean"]),
                        lead_ci_low=float(test["ci_low"]),
                        lead_ci_high=float(test["ci_high"]),
                        n=int(test["n"]),
                        lead_over_std=float(test["mean"]) / std if std and std > 0 else math.nan,
                        clear=bool(int(test["n"]) >= 2 and float(test["ci_low"]) > 0),
                    )
                rows.append(row)
    return pd.DataFrame(rows, columns=BEST_COLS)
