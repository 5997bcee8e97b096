"""Load and tidy results for figures, tables and the paper.

* :func:`load_sim_results` — the per-timestep simulation CSVs, concatenated (id columns filled from the
  path where a file lacks them);
* :func:`load_ann_accuracy` — ANN test accuracy from every ``summary.json``;
* :func:`aggregate` — both joined, plus the parsed norm name (family, method, p, k, mode, base):
  the tidy ``results/tables/accuracy_all.csv``;
* :func:`mean_ci` — mean over replicates with a Student-t confidence interval.

Replicates: every (training seed, input seed) pair counts as one replicate. Input seeds under one
training seed share the network, so the CI describes spike-sampling plus training-seed variability as
sampled; with a single replicate the CI is NaN and no band is drawn.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import re
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd

from .. import paths as _paths

log = logging.getLogger(__name__)

ID_COLS = ["dataset", "arch", "seed", "norm", "input_seed"]
REPLICATE_COLS = ["seed", "input_seed"]
RATE_PREFIX = "rate_"
# Result path templates come from snnconv.paths (the one module that defines and parses them back).
SIM_PATH, MODEL_PATH, STATS_PATH, SNN_PATH = _paths.SIM, _paths.SUMMARY, _paths.STATS, _paths.NETWORK
NORM_INFO_COLS = ["family", "method", "base", "p", "k", "mode", "v_init"]


def parse_path(path: str | Path, template: str) -> dict[str, Any]:
    """Wildcards of a result path (seeds as int, ``iseed`` as ``input_seed``); empty dict if it does not match."""
    ids = _paths.search(template, Path(path).as_posix())
    if "iseed" in ids:
        ids["input_seed"] = ids.pop("iseed")
    return ids


def rate_columns(df: pd.DataFrame) -> list[str]:
    """The per-layer cumulative firing-rate columns (``rate_<layer>``), in file order."""
    return [c for c in df.columns if c.startswith(RATE_PREFIX)]


def check_numeric(df: pd.DataFrame, path: str | Path, column: str, low: float = -math.inf, high: float = math.inf,
                  integer: bool = False) -> pd.Series:
    """``df[column]`` as numbers; ValueError naming file, line and value for a non-number, NaN/inf, a value
    outside [low, high] or (``integer``) a fraction, so a bad CSV stops where it enters."""
    raw = df[column]
    values = pd.to_numeric(raw, errors="coerce").astype(float)
    bad = ~np.isfinite(values) | (values < low) | (values > high)
    if integer:
        bad |= values != np.round(values)
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        want = "an integer" if integer else "a finite number"
        bounds = f" in [{low:g}, {high:g}]" if math.isfinite(low) or math.isfinite(high) else ""
        raise ValueError(f"{path}: line {row + 2} (data row {row + 1}): {column} = {_short(raw.iloc[row])} is not "
                         f"{want}{bounds} ({int(bad.sum())} bad value(s) in that column)")
    return values.astype(int) if integer else values


def _short(value: Any) -> str:
    """A bounded repr of a cell value for error messages."""
    from ..config_guard import short_repr

    return short_repr(value.item() if isinstance(value, np.generic) else value, 80)


def load_sim_results(paths: Iterable[str | Path]) -> pd.DataFrame:
    """Concatenate simulation CSVs (one row per t); id columns missing from a file come from its path."""
    frames = []
    for path in paths:
        df = pd.read_csv(path)
        if "input_seed" not in df.columns and "iseed" in df.columns:
            df = df.rename(columns={"iseed": "input_seed"})
        missing = [c for c in ("t", "accuracy") if c not in df.columns]
        if missing:
            raise ValueError(f"{path}: simulation CSV lacks column(s) {missing}")
        if df.empty:
            raise ValueError(f"{path}: simulation CSV has a header but no rows")
        df["t"] = check_numeric(df, path, "t", low=0, integer=True)
        df["accuracy"] = check_numeric(df, path, "accuracy", 0.0, 1.0)
        for col in rate_columns(df):
            df[col] = check_numeric(df, path, col, low=0.0)
        for col in ("seed", "input_seed"):
            if col in df.columns:
                df[col] = check_numeric(df, path, col, low=0, integer=True)
        ids = parse_path(path, SIM_PATH)
        for col in ID_COLS:
            if col not in df.columns:
                if col not in ids:
                    raise ValueError(f"{path}: no {col!r} column and the path does not follow "
                                     "sim/{dataset}/{arch}/seed{seed}/{norm}/input{iseed}.csv")
                df.insert(0, col, ids[col])
        frames.append(df)
    if not frames:
        return pd.DataFrame(columns=ID_COLS + ["t", "accuracy"])
    out = pd.concat(frames, ignore_index=True, sort=False)
    out["seed"] = out["seed"].astype(int)
    out["input_seed"] = out["input_seed"].astype(int)
    out["t"] = out["t"].astype(int)
    # rate columns of different architectures differ: keep the union, ids first
    rates = list(dict.fromkeys(c for f in frames for c in rate_columns(f)))
    first = ID_COLS + ["t", "accuracy"]
    rest = [c for c in out.columns if c not in first and c not in rates]
    return out[first + rest + rates]


def load_ann_accuracy(paths: Iterable[str | Path]) -> pd.DataFrame:
    """dataset, arch, seed, ann_accuracy from ANN ``summary.json`` files (key ``test_accuracy``)."""
    rows = []
    for path in paths:
        with open(path) as handle:
            summary = json.load(handle)
        ids = parse_path(path, MODEL_PATH)
        row = {k: summary.get(k, ids.get(k)) for k in ("dataset", "arch", "seed")}
        if any(v is None for v in row.values()):
            raise ValueError(f"{path}: cannot tell dataset/arch/seed (neither in the JSON nor the path)")
        if "test_accuracy" not in summary:
            raise ValueError(f"{path}: no 'test_accuracy' key")
        row["seed"] = int(row["seed"])
        value = summary["test_accuracy"]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
            raise ValueError(f"{path}: test_accuracy = {_short(value)} is not a number in [0, 1]")
        row["ann_accuracy"] = float(value)
        rows.append(row)
    return pd.DataFrame(rows, columns=["dataset", "arch", "seed", "ann_accuracy"])


def family_of(method: str, params: dict[str, Any]) -> str:
    """Family of a converted norm from its recorded method and params: none/max/percentile/model/v0half/l4/lp/uniform."""
    if method == "uniform":
        return "uniform"
    if method == "lp":
        return "l4" if float(params["p"]) == 4 else "lp"
    if params.get("v_init"):
        return "v0half"
    return "percentile" if "percentile" in params else str(params["base"])


def norm_info(conversion_paths: Iterable[str | Path]) -> pd.DataFrame:
    """norm, family, method, base, p, k, mode, v_init of every converted norm, read from its ``conversion.json``.

    The report never re-parses names against the current config: what a method was is what its conversion
    recorded. Two conversions of one name with different parameters are an error naming both files.
    """
    rows: dict[str, dict[str, Any]] = {}
    where: dict[str, str] = {}
    for path in conversion_paths:
        with open(path) as handle:
            meta = json.load(handle)
        try:
            name, method, params = meta["norm"], meta["method"], meta["params"]
            row = {"norm": name, "family": family_of(method, params), "method": method, "base": params["base"],
                   "p": float(params["p"]) if "p" in params else math.nan,
                   "k": float(params["k"]) if params.get("k") is not None else math.nan,
                   "mode": params.get("mode"), "v_init": float(params["v_init"])}
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"{path}: not a conversion record ({type(exc).__name__}: {exc})") from exc
        if name in rows and rows[name] != row:
            raise ValueError(f"{path}: norm {name!r} was converted with {row}, but {where[name]} with {rows[name]}")
        rows.setdefault(name, row)
        where.setdefault(name, str(path))
    return pd.DataFrame(list(rows.values()), columns=["norm"] + NORM_INFO_COLS)


def aggregate(sim_paths: Sequence[str | Path], summary_paths: Sequence[str | Path],
              conversion_paths: Sequence[str | Path]) -> pd.DataFrame:
    """All simulation rows + the ANN accuracy of their training seed + each norm's recorded parameters."""
    sim = load_sim_results(sim_paths)
    ann = load_ann_accuracy(summary_paths)
    out = sim.merge(ann, on=["dataset", "arch", "seed"], how="left", validate="many_to_one")
    lost = out[out["ann_accuracy"].isna()][["dataset", "arch", "seed"]].drop_duplicates()
    if len(lost):
        raise ValueError(f"no ANN summary for {lost.to_dict('records')}")
    info = norm_info(conversion_paths)
    unknown = sorted(set(out["norm"]) - set(info["norm"]))
    if unknown:
        raise ValueError(f"no conversion.json for the simulated norm(s) {unknown}")
    out = out.merge(info, on="norm", how="left")
    first = ID_COLS + ["t", "accuracy", "ann_accuracy"] + NORM_INFO_COLS
    return out[first + [c for c in out.columns if c not in first]]


def read_accuracy_all(path: str | Path, rates: bool = True) -> pd.DataFrame:
    """Read ``accuracy_all.csv`` (optionally without the rate columns, which can be many)."""
    if rates:
        return pd.read_csv(path)
    header = pd.read_csv(path, nrows=0).columns
    return pd.read_csv(path, usecols=[c for c in header if not c.startswith(RATE_PREFIX)])


# ---------------------------------------------------------------------------------------------- statistics

# Two-sided 95 % Student-t critical values t_{0.975, df}, df = 1..30 (standard tables).
_T975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145,
         2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048,
         2.045, 2.042]


def _t_cdf(x: float, df: int) -> float:
    """Student-t CDF by Simpson integration of the density (x ≥ 0; accurate to ~1e-7 here)."""
    c = math.exp(math.lgamma((df + 1) / 2) - math.lgamma(df / 2)) / math.sqrt(df * math.pi)
    # substitute t = tan(a) so the heavy tail of small df is integrated on a finite, smooth range
    b, n = math.atan(x), 2000
    h = b / n
    f = lambda a: c * (1 + math.tan(a) ** 2 / df) ** (-(df + 1) / 2) / math.cos(a) ** 2  # noqa: E731
    s = f(0) + f(b) + sum((4 if i % 2 else 2) * f(i * h) for i in range(1, n))
    return 0.5 + s * h / 3


@functools.lru_cache(maxsize=None)
def t_critical(df: int, level: float = 0.95) -> float:
    """Two-sided critical value of Student's t with ``df`` degrees of freedom (NaN for df < 1)."""
    if df < 1:
        return math.nan
    if abs(level - 0.95) < 1e-12 and df <= len(_T975):
        return _T975[df - 1]
    target = 0.5 + level / 2
    lo, hi = 0.0, 1.0
    while _t_cdf(hi, df) < target:
        hi *= 2
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if _t_cdf(mid, df) < target else (lo, mid)
    return (lo + hi) / 2


def mean_ci(df: pd.DataFrame, by: Sequence[str], value: str = "accuracy", level: float = 0.95) -> pd.DataFrame:
    """Mean of ``value`` over the rows of each ``by`` group (the replicates) with a t-based CI.

    Returns ``by`` + mean, std, n, sem, ci_low, ci_high. With n = 1, std/sem/CI are NaN (no band).
    """
    by = list(by)
    if df.empty:
        return pd.DataFrame(columns=by + ["mean", "std", "n", "sem", "ci_low", "ci_high"])
    g = df.groupby(by, sort=False, observed=True, dropna=False)[value]
    out = g.agg(mean="mean", std="std", n="count").reset_index()
    out["n"] = out["n"].astype(int)
    out["sem"] = out["std"] / np.sqrt(out["n"])
    crit = out["n"].map(lambda n: t_critical(int(n) - 1, level))
    half = crit * out["sem"]
    out["ci_low"] = out["mean"] - half
    out["ci_high"] = out["mean"] + half
    return out


def n_replicates(df: pd.DataFrame) -> int:
    """Number of (training seed, input seed) replicates in ``df`` (max over dataset × arch × norm)."""
    if df.empty:
        return 0
    keys = [c for c in ("dataset", "arch", "norm") if c in df.columns]
    return int(df.groupby(keys)[REPLICATE_COLS].apply(lambda g: len(g.drop_duplicates())).max())


def ci_note(n: int) -> str:
    """Caption fragment saying what the bands/error bars are (or that there are none)."""
    if n <= 1:
        return "single replicate: no confidence interval"
    return f"95% t-CI over {n} replicates (training seed × input seed)"


def ann_reference(df: pd.DataFrame) -> pd.DataFrame:
    """ANN accuracy per dataset × arch: mean over training seeds (+ std, n)."""
    per_seed = df[["dataset", "arch", "seed", "ann_accuracy"]].drop_duplicates()
    return mean_ci(per_seed, ["dataset", "arch"], "ann_accuracy")


def at_times(df: pd.DataFrame, T_points: Iterable[int]) -> pd.DataFrame:
    """Rows at the given timesteps only (column ``T`` = t); T points beyond the simulation are dropped."""
    T_points = sorted(set(int(t) for t in T_points))
    out = df[df["t"].isin(T_points)].copy()
    out["T"] = out["t"]
    return out


def paired_difference(df: pd.DataFrame, norms: Iterable[str], reference: dict[str, str] | str,
                      keys: Sequence[str] = ("dataset", "arch", "seed", "input_seed", "t")) -> pd.DataFrame:
    """accuracy(norm) − accuracy(reference norm) per replicate and t (same spike seed: a paired comparison).

    ``reference`` is one norm name or a {norm: reference} map. Norms whose reference was not simulated
    are dropped (with a log message). Returns keys + norm + reference + diff.
    """
    keys = list(keys)
    ref_of = reference if isinstance(reference, dict) else {n: reference for n in norms}
    have = set(df["norm"].unique())
    rows = []
    for norm in norms:
        ref = ref_of.get(norm)
        if norm not in have:
            continue
        if ref not in have:
            log.warning("norm %s: reference %s was not simulated; no difference computed", norm, ref)
            continue
        a = df[df["norm"] == norm][keys + ["accuracy"]]
        b = df[df["norm"] == ref][keys + ["accuracy"]].rename(columns={"accuracy": "ref_accuracy"})
        m = a.merge(b, on=keys, how="inner")
        m["norm"], m["reference"] = norm, ref
        m["diff"] = m["accuracy"] - m["ref_accuracy"]
        rows.append(m)
    if not rows:
        return pd.DataFrame(columns=keys + ["norm", "reference", "accuracy", "ref_accuracy", "diff"])
    return pd.concat(rows, ignore_index=True)


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
        rows.append({"dataset": dataset, "arch": arch, "norm": norm, "T_max": t_max,
                     "ann_accuracy": float(g["ann_accuracy"].iloc[0]), "t_within": t_within,
                     "label": str(t_within) if len(hit) else f"> {t_max}"})
    return pd.DataFrame(rows, columns=["dataset", "arch", "norm", "T_max", "ann_accuracy", "t_within", "label"])


def order_norms(names: Iterable[str], preferred: Sequence[str]) -> list[str]:
    """``names`` in the order of ``preferred`` (config order), unknown ones after, without duplicates."""
    names = list(dict.fromkeys(names))
    return [n for n in preferred if n in names] + [n for n in names if n not in preferred]
