"""Load and tidy results (no statistics here: :mod:`.intervals`, :mod:`.paired`).

* :func:`load_sim_results` — the per-timestep simulation CSVs, concatenated (id columns filled from the
  path where a file lacks them);
* :func:`load_ann_accuracy` — ANN test accuracy from every ``summary.json``;
* :func:`aggregate` — both joined, plus each norm's recorded parameters (family, method, base, p, k, mode,
  v_init, from its ``conversion.json``): the tidy ``results/tables/accuracy_all.csv``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..workflow import paths as _paths

ID_COLS = ["dataset", "arch", "seed", "norm", "input_seed"]
REPLICATE_COLS = ["seed", "input_seed"]
RATE_PREFIX = "rate_"
# Result path templates come from snnconv.workflow.paths (the one module that defines and parses them back).
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


def check_numeric(
    df: pd.DataFrame,
    path: str | Path,
    column: str,
    low: float = -math.inf,
    high: float = math.inf,
    integer: bool = False,
) -> pd.Series:
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
        raise ValueError(
            f"{path}: line {row + 2} (data row {row + 1}): {column} = {_short(raw.iloc[row])} is not "
            f"{want}{bounds} ({int(bad.sum())} bad value(s) in that column)"
        )
    return values.astype(int) if integer else values


def _short(value: Any) -> str:
    """A bounded repr of a cell value for error messages."""
    from ..workflow.config_guard import short_repr

    return short_repr(value.item() if isinstance(value, np.generic) else value, 80)


def check_timesteps(t: pd.Series, path: str | Path, T: int | None = None) -> None:
    """ValueError naming ``path`` unless its timesteps are 1, 2, …, n once each in order (n = ``T`` when given).

    A simulation CSV holds every t from 1 to simulation.T (rule simulate): a CSV that ends earlier or later comes
    from another config (kept by ``--touch`` or copied in), and one with a gap or a repeated t was edited or cut.
    """
    values = t.to_numpy()
    n = len(values)
    bad = np.flatnonzero(values != np.arange(1, n + 1))
    if len(bad):
        row = int(bad[0])
        raise ValueError(
            f"{path}: line {row + 2}: t = {int(values[row])}, expected {row + 1} (a simulation CSV holds t = 1, 2, … "
            "once each, in order: this one has a gap, a repeat or another order)"
        )
    if T is not None and n != int(T):
        raise ValueError(
            f"{path}: simulated to t = {n}, but simulation.T = {int(T)} (the file comes from a run with another "
            "T: rerun its simulate job, e.g. `snakemake --forcerun simulate`, rather than marking it up to date)"
        )


def run_label(ids: dict[str, Any]) -> str:
    """'digits/mlp seed 0, norm max, input seed 1 (results/sim/…/input1.csv)': one simulation of a results table."""
    where = _paths.fill(_paths.SIM, iseed=ids["input_seed"], **{k: ids[k] for k in ("dataset", "arch", "seed", "norm")})
    return (
        f"{ids['dataset']}/{ids['arch']} seed {ids['seed']}, norm {ids['norm']}, input seed {ids['input_seed']} "
        f"({where})"
    )


def check_coverage(df: pd.DataFrame, source: str | Path, T_points: Iterable[int] = (), T: int | None = None) -> None:
    """ValueError naming ``source`` and the simulation unless every simulation in ``df`` reaches what is reported.

    Every simulation (one per :data:`ID_COLS`) must hold a row at each of ``T_points`` (report.T_points) and,
    with ``T``, end at exactly t = ``T`` (simulation.T): a table or a paper that claims T = 30 must not be made
    from runs that stop at 20 (results marked up to date with ``--touch`` after T changed).
    """
    T_points = sorted({int(t) for t in T_points})
    if df.empty:
        raise ValueError(f"{source}: holds no simulation rows")
    ends = df.groupby(ID_COLS, sort=False)["t"].max()
    if T is not None:
        off = ends[ends != int(T)]
        if len(off):
            ids = dict(zip(ID_COLS, off.index[0]))
            raise ValueError(
                f"{source}: the simulation {run_label(ids)} ends at t = {int(off.iloc[0])}, but simulation.T = "
                f"{int(T)} ({len(off)} of {len(ends)} simulations differ; results of a run with another T: rerun "
                "them, e.g. `snakemake --forcerun simulate`, rather than marking them up to date)"
            )
    if T_points:
        have = df[df["t"].isin(T_points)].groupby(ID_COLS, sort=False)["t"].nunique()
        have = have.reindex(ends.index, fill_value=0)
        short = have[have < len(T_points)]
        if len(short):
            key = short.index[0]
            ids = dict(zip(ID_COLS, key))
            sel = np.ones(len(df), dtype=bool)
            for col, value in ids.items():
                sel &= (df[col] == value).to_numpy()
            missing = sorted(set(T_points) - set(df.loc[sel, "t"]))
            raise ValueError(
                f"{source}: the simulation {run_label(ids)} has no row at t = {', '.join(map(str, missing))} "
                f"(report.T_points = {T_points}; it ends at t = {int(ends[key])}; {len(short)} of {len(ends)} "
                "simulations lack a T point: rerun them with the current simulation.T)"
            )


def load_sim_results(paths: Iterable[str | Path], T: int | None = None) -> pd.DataFrame:
    """Concatenate simulation CSVs (one row per t); id columns missing from a file come from its path.

    Every file must hold t = 1, …, n once each in order, and n = ``T`` (simulation.T) when ``T`` is given
    (:func:`check_timesteps`).
    """
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
        check_timesteps(df["t"], path, T)
        df["accuracy"] = check_numeric(df, path, "accuracy", 0.0, 1.0)
        if "ann_accuracy" in df.columns:  # the ANN on the same images (the simulate job records it)
            df["ann_accuracy"] = check_numeric(df, path, "ann_accuracy", 0.0, 1.0)
        for col in rate_columns(df):
            df[col] = check_numeric(df, path, col, low=0.0)
        for col in ("seed", "input_seed"):
            if col in df.columns:
                df[col] = check_numeric(df, path, col, low=0, integer=True)
        ids = parse_path(path, SIM_PATH)
        for col in ID_COLS:
            if col not in df.columns:
                if col not in ids:
                    raise ValueError(
                        f"{path}: no {col!r} column and the path does not follow "
                        "sim/{dataset}/{arch}/seed{seed}/{norm}/input{iseed}.csv"
                    )
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
    """Family of a converted norm from its recorded method and params: none/max/percentile/model/v0half/l4/lp/uniform,
    ``calib`` for any light-calibrated norm (an L4 adjustment on calibration too) and ``qcfs`` for the QCFS twin."""
    if params.get("calib"):
        return "calib"
    if params.get("base") == "qcfs":
        return "qcfs"
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
            row = {
                "norm": name,
                "family": family_of(method, params),
                "method": method,
                "base": params["base"],
                "p": float(params["p"]) if "p" in params else math.nan,
                "k": float(params["k"]) if params.get("k") is not None else math.nan,
                "mode": params.get("mode"),
                "v_init": float(params["v_init"]),
            }
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"{path}: not a conversion record ({type(exc).__name__}: {exc})") from exc
        if name in rows and rows[name] != row:
            raise ValueError(f"{path}: norm {name!r} was converted with {row}, but {where[name]} with {rows[name]}")
        rows.setdefault(name, row)
        where.setdefault(name, str(path))
    return pd.DataFrame(list(rows.values()), columns=["norm"] + NORM_INFO_COLS)


def aggregate(
    sim_paths: Sequence[str | Path],
    summary_paths: Sequence[str | Path],
    conversion_paths: Sequence[str | Path],
    T: int | None = None,
) -> pd.DataFrame:
    """All simulation rows + the ANN accuracy of their training seed + each norm's recorded parameters.

    ``ann_accuracy`` is the ANN's accuracy on the very images the SNN was simulated on, as the simulate job recorded
    it in its CSV; ``ann_accuracy_test`` the ANN's on its whole test set, from training (``summary.json``). CSVs
    without the column (simulated before jobs recorded it) take the whole-test-set value, as every table did then.
    With ``T`` (simulation.T), a simulation CSV that does not end at t = T is refused, naming it.
    """
    sim = load_sim_results(sim_paths, T)
    ann = load_ann_accuracy(summary_paths).rename(columns={"ann_accuracy": "ann_accuracy_test"})
    out = sim.merge(ann, on=["dataset", "arch", "seed"], how="left", validate="many_to_one")
    lost = out[out["ann_accuracy_test"].isna()][["dataset", "arch", "seed"]].drop_duplicates()
    if len(lost):
        raise ValueError(f"no ANN summary for {lost.to_dict('records')}")
    same_images = out["ann_accuracy"] if "ann_accuracy" in out.columns else pd.Series(np.nan, index=out.index)
    out["ann_accuracy"] = same_images.fillna(out["ann_accuracy_test"])
    spread = out.groupby(["dataset", "arch", "seed"])["ann_accuracy"].nunique()
    if (spread > 1).any():
        raise ValueError(
            "the ANN's accuracy differs between simulations of one network (different test images?): "
            f"{spread[spread > 1].index.tolist()}; rerun them with one simulation.test_subset"
        )
    info = norm_info(conversion_paths)
    unknown = sorted(set(out["norm"]) - set(info["norm"]))
    if unknown:
        raise ValueError(f"no conversion.json for the simulated norm(s) {unknown}")
    out = out.merge(info, on="norm", how="left")
    first = ID_COLS + ["t", "accuracy", "ann_accuracy", "ann_accuracy_test"] + NORM_INFO_COLS
    return out[first + [c for c in out.columns if c not in first]]


def read_accuracy_all(path: str | Path, rates: bool = True) -> pd.DataFrame:
    """Read ``accuracy_all.csv`` (optionally without the rate columns, which can be many)."""
    if rates:
        return pd.read_csv(path)
    header = pd.read_csv(path, nrows=0).columns
    return pd.read_csv(path, usecols=[c for c in header if not c.startswith(RATE_PREFIX)])


def order_norms(names: Iterable[str], preferred: Sequence[str]) -> list[str]:
    """``names`` in the order of ``preferred`` (config order), unknown ones after, without duplicates."""
    names = list(dict.fromkeys(names))
    return [n for n in preferred if n in names] + [n for n in names if n not in preferred]


def norm_params(df: pd.DataFrame, conversion_cfg: dict[str, Any] | None = None) -> pd.DataFrame:
    """One row per norm of ``df``: norm + :data:`NORM_INFO_COLS`, from the table's recorded columns.

    accuracy_all.csv carries each norm's parameters as its conversion.json recorded them (rule aggregate);
    only a frame without those columns (older results, hand-made test frames) falls back to parsing names.
    """
    names = list(dict.fromkeys(df["norm"]))
    if {"method", "base", "p", "k", "mode"} <= set(df.columns):
        out = df.drop_duplicates("norm").reindex(columns=["norm"] + NORM_INFO_COLS).reset_index(drop=True)
        out["v_init"] = out["v_init"].fillna(0.0)
        out["family"] = out["family"].astype(object)
        fill = out["family"].isna()
        out.loc[fill, "family"] = [_family_of_row(r) for r in out[fill].itertuples(index=False)]
        return out
    from ..convert import parse_norm

    rows = []
    for name in names:
        s = parse_norm(name, conversion_cfg or {})
        adjusted = s.adjust in ("lp", "uniform")
        rows.append(
            {
                "norm": name,
                "family": family_of(s.method, s.params()),
                "method": s.method,
                "base": s.base_name,
                "p": float(s.p) if s.adjust == "lp" else math.nan,
                "k": float(s.k) if adjusted else math.nan,
                "mode": s.mode if adjusted else None,
                "v_init": float(s.v_init),
            }
        )
    return pd.DataFrame(rows, columns=["norm"] + NORM_INFO_COLS)


def _family_of_row(row: Any) -> str:
    """:func:`family_of` for a row of recorded columns (a percentile base is named ``p<q>``)."""
    params = {"base": row.base, "v_init": row.v_init, "p": row.p}
    if isinstance(row.base, str) and row.base[:1] == "p" and row.base[1:2].isdigit():
        params["percentile"] = float(row.base[1:])
    return family_of(str(row.method), params)
