"""Checks a figures folder against the accuracy table: every plotted mean, count and interval is recomputed
from ``accuracy_all.csv`` (the pinned figure test and the tiny workflow run both use it).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

ALIASES = ("l4", "uniform-l4")


REPLICATE = ["dataset", "arch", "seed", "input_seed", "t"]


def summary(values: pd.Series) -> pd.Series:
    """mean and 95 % t-interval bounds (NaN bounds for one value)."""
    n, mean = len(values), float(values.mean())
    if n < 2:
        return pd.Series({"mean": mean, "n": n, "ci_low": math.nan, "ci_high": math.nan})
    half = stats.t.ppf(0.975, n - 1) * float(values.std(ddof=1)) / math.sqrt(n)
    return pd.Series({"mean": mean, "n": n, "ci_low": mean - half, "ci_high": mean + half})


def compare(fig: pd.DataFrame, want: pd.DataFrame, keys: list[str], what: str) -> None:
    """Row-by-row equality of mean, n and the interval on ``keys`` (every figure row must be explained)."""
    assert len(fig), f"{what}: the figure plots nothing"
    merged = fig.merge(want, on=keys, how="left", suffixes=("", "_want"), validate="one_to_one")
    missing = merged[merged["mean_want"].isna()]
    assert missing.empty, f"{what}: rows with no counterpart in the table:\n{missing[keys]}"
    np.testing.assert_allclose(merged["mean"], merged["mean_want"], rtol=0, atol=1e-9, err_msg=what)
    assert (merged["n"] == merged["n_want"]).all(), what
    for col in ("ci_low", "ci_high"):
        a, b = merged[col].to_numpy(float), merged[f"{col}_want"].to_numpy(float)
        assert np.array_equal(np.isnan(a), np.isnan(b)), f"{what}: {col} missing/present mismatch"
        np.testing.assert_allclose(a[~np.isnan(a)], b[~np.isnan(b)], rtol=0, atol=2e-4, err_msg=f"{what} {col}")


def per_group(df: pd.DataFrame, by: list[str], value: str) -> pd.DataFrame:
    """:func:`summary` of ``value`` per group."""
    return df.groupby(by, sort=False)[value].apply(summary).unstack().reset_index()


def check_figures_against_table(figures: Path, tables: Path) -> list[str]:
    """Assert each figure CSV found in ``figures`` matches ``tables/accuracy_all.csv``; returns the checked names."""
    table = pd.read_csv(tables / "accuracy_all.csv")
    checked = []
    path = figures / "accuracy_vs_T.csv"
    if path.exists():
        fig = pd.read_csv(path)
        compare(
            fig,
            per_group(table, ["dataset", "arch", "norm", "t"], "accuracy"),
            ["dataset", "arch", "norm", "t"],
            "accuracy_vs_T",
        )
        checked.append(path.name)
    path = figures / "low_T_gap.csv"
    if path.exists():
        fig = pd.read_csv(path)
        gap = table.assign(gap=table["accuracy"] - table["ann_accuracy"], T=table["t"])
        compare(
            fig, per_group(gap, ["dataset", "arch", "norm", "T"], "gap"), ["dataset", "arch", "norm", "T"], "low_T_gap"
        )
        checked.append(path.name)
    for name in ("firing_rates.csv", "firing_rates_vs_t.csv"):
        path = figures / name
        if path.exists():
            fig = pd.read_csv(path)
            cols = [c for c in table.columns if c.startswith("rate_")]
            long = table.melt(id_vars=REPLICATE + ["norm"], value_vars=cols, var_name="layer", value_name="rate")
            long = long.dropna(subset=["rate"]).assign(layer=lambda d: d["layer"].str.slice(len("rate_")))
            compare(
                fig.drop(columns=["layer_order"]),
                per_group(long, ["dataset", "arch", "norm", "layer", "t"], "rate"),
                ["dataset", "arch", "norm", "layer", "t"],
                name,
            )
            if name == "firing_rates.csv":  # the bar chart shows the rates at the last simulated step
                last = table.groupby(["dataset", "arch"])["t"].max().rename("t_last").reset_index()
                at = fig.merge(last, on=["dataset", "arch"])
                assert (at["t"] == at["t_last"]).all(), f"{name}: rates not at the last step"
            checked.append(name)
    path = figures / "coefficient_sweep.csv"
    if path.exists():
        fig = pd.read_csv(path)
        compare(
            fig, sweep_from_table(table), ["dataset", "arch", "mode", "base", "curve", "k", "T"], "coefficient_sweep"
        )
        checked.append(path.name)
    path = tables / "accuracy_main.csv"
    if path.exists():
        main = pd.read_csv(path)
        acc = main[main["quantity"] == "accuracy"].rename(columns={"T": "t"}).astype({"t": int})
        compare(
            acc.drop(columns=["std", "label"]),
            per_group(table, ["dataset", "arch", "norm", "t"], "accuracy"),
            ["dataset", "arch", "norm", "t"],
            "accuracy_main",
        )
        ann = table[["dataset", "arch", "seed", "ann_accuracy"]].drop_duplicates()
        ann_main = main[main["quantity"] == "ann_accuracy"][["dataset", "arch", "mean", "n"]]
        compare(
            ann_main.assign(ci_low=math.nan, ci_high=math.nan)
            if (ann_main["n"] == 1).all()
            else main[main["quantity"] == "ann_accuracy"][["dataset", "arch", "mean", "n", "ci_low", "ci_high"]],
            per_group(ann, ["dataset", "arch"], "ann_accuracy"),
            ["dataset", "arch"],
            "accuracy_main ANN",
        )
        checked.append(path.name)
    return checked


def sweep_from_table(table: pd.DataFrame) -> pd.DataFrame:
    """Paired gain accuracy(adjusted) − accuracy(its base) per replicate, summarised per curve × k × T."""
    adjusted = table[table["method"].isin(["lp", "uniform"])]
    rows = []
    for norm, g in adjusted.groupby("norm", sort=False):
        first = g.iloc[0]
        curve = (
            "uniform" if first["method"] == "uniform" else ("Linf" if math.isinf(first["p"]) else f"L{first['p']:g}")
        )
        base = table[table["norm"] == first["base"]][REPLICATE + ["accuracy"]]
        m = g[REPLICATE + ["accuracy"]].merge(base, on=REPLICATE, suffixes=("", "_base"))
        m["diff"] = m["accuracy"] - m["accuracy_base"]
        rows.append(
            m.assign(
                norm=norm,
                curve=curve,
                k=float(first["k"]),
                mode=first["mode"],
                base=first["base"],
                alias=norm in ALIASES,
            )
        )
    diff = pd.concat(rows, ignore_index=True)
    # an alias (l4, uniform-l4) duplicating a canonical name with the same parameters is not plotted twice
    canonical = diff[~diff["alias"]][["curve", "k", "mode", "base"]].drop_duplicates()
    dup = diff.merge(canonical.assign(has=True), on=["curve", "k", "mode", "base"], how="left")["has"].eq(True)
    diff = diff[~(diff["alias"].to_numpy() & dup.to_numpy())].assign(T=lambda d: d["t"])
    return per_group(diff, ["dataset", "arch", "mode", "base", "curve", "k", "T"], "diff")
