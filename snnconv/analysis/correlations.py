"""Does the std of the pre-firing membrane increment grow with ‖w_j‖_4? The numbers behind figure 2.

Per sampled neuron, the membrane-statistics CSV holds the measured std of the per-step membrane increment
(``std_current``) and the exact independent-input prediction ``var_pred_exact`` = Σ_i w_i² r_i(1−r_i).
Here ‖w_j‖_p for p ∈ {1, 2, 3, 4, ∞} is computed from the converted network (row j of the flattened
weight; for a conv layer, neuron j's output channel) and, per layer, the measured std is correlated with
each norm and with √var_pred_exact (Pearson and Spearman, scipy.stats). The best p is whichever
correlates best: the answer is reported, whatever it is.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps

from .load import SNN_PATH, STATS_PATH, parse_path

log = logging.getLogger(__name__)

P_VALUES: tuple[float, ...] = (1.0, 2.0, 3.0, 4.0, math.inf)
EXACT = "exact"
STATS_COLS = ["layer", "layer_index", "neuron", "std_current", "var_pred_exact"]


def predictor_name(p: float) -> str:
    """'L1', 'L4', 'Linf' for an exponent."""
    return "Linf" if math.isinf(float(p)) else f"L{float(p):g}"


def lp_norms(weight: Any, p: float) -> np.ndarray:
    """‖w_j‖_p per output neuron/channel: the conversion package's ``lp_norms`` as a float64 array."""
    from ..convert import lp_norms as _lp

    return _lp(weight.double(), p).numpy().astype(np.float64)


def weight_norms(net: Any, p_values: Sequence[float] = P_VALUES) -> pd.DataFrame:
    """layer_index, layer, unit, op, spiking and one ``norm_L<p>`` column per p, for every layer of ``net``."""
    frames = []
    for li, layer in enumerate(net.layers):
        cols: dict[str, Any] = {
            "layer_index": li,
            "layer": layer.name or f"layer{li}",
            "unit": np.arange(layer.n_out),
            "op": layer.op["type"],
            "spiking": bool(layer.spiking),
        }
        for p in p_values:
            cols[f"norm_{predictor_name(p)}"] = lp_norms(layer.weight, p)
        frames.append(pd.DataFrame(cols))
    return pd.concat(frames, ignore_index=True)


def _unit_of(stats: pd.DataFrame, ops: dict[int, str]) -> pd.Series:
    """The weight row of each sampled neuron: its channel in a conv layer, else the neuron index."""
    is_conv = stats["layer_index"].map(ops).eq("conv2d")
    if "channel" in stats.columns:
        return stats["channel"].where(is_conv, stats["neuron"]).astype(int)
    if is_conv.any():
        raise ValueError("membrane statistics of a conv layer need a 'channel' column")
    return stats["neuron"].astype(int)


def attach_weight_norms(stats: pd.DataFrame, net: Any, p_values: Sequence[float] = P_VALUES) -> pd.DataFrame:
    """``stats`` plus ``norm_L<p>`` columns and ``pred_std_exact`` = √var_pred_exact."""
    missing = [c for c in STATS_COLS if c not in stats.columns]
    if missing:
        raise ValueError(f"membrane-statistics table lacks column(s) {missing}")
    norms = weight_norms(net, p_values)
    ops = norms.drop_duplicates("layer_index").set_index("layer_index")["op"].to_dict()
    unknown = set(stats["layer_index"]) - set(ops)
    if unknown:
        raise ValueError(f"layer_index {sorted(unknown)} not in the network ({len(ops)} layers)")
    out = stats.drop(columns=[c for c in ("unit", "op", "spiking") if c in stats.columns])
    out["unit"] = _unit_of(out, ops)
    names = norms.drop_duplicates("layer_index").set_index("layer_index")["layer"]
    mismatch = out[out["layer"].astype(str) != out["layer_index"].map(names)]
    if len(mismatch):
        log.warning(
            "layer names in the statistics differ from the network's: %s",
            mismatch[["layer", "layer_index"]].drop_duplicates().to_dict("records"),
        )
    out = out.merge(norms.drop(columns=["layer"]), on=["layer_index", "unit"], how="left", validate="many_to_one")
    if out[f"norm_{predictor_name(p_values[0])}"].isna().any():
        raise ValueError("some sampled neurons have no weight row (unit index out of range)")
    out["pred_std_exact"] = np.sqrt(out["var_pred_exact"].clip(lower=0))
    return out


def _finite_pairs(x: Iterable[float], y: Iterable[float]) -> tuple[np.ndarray, np.ndarray]:
    """x and y as float64 arrays, pairs with a non-finite member dropped."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    ok = np.isfinite(x) & np.isfinite(y)
    return x[ok], y[ok]


def pearson(x: Iterable[float], y: Iterable[float]) -> float:
    """Pearson's r (:func:`scipy.stats.pearsonr`); NaN with fewer than 3 points or a constant variable."""
    x, y = _finite_pairs(x, y)
    if len(x) < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return math.nan
    return float(sps.pearsonr(x, y).statistic)


def spearman(x: Iterable[float], y: Iterable[float]) -> float:
    """Spearman's ρ, average ranks for ties (:func:`scipy.stats.spearmanr`); NaN as for :func:`pearson`."""
    x, y = _finite_pairs(x, y)
    if len(x) < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return math.nan
    return float(sps.spearmanr(x, y).statistic)


def predictors(p_values: Sequence[float] = P_VALUES) -> list[tuple[str, str]]:
    """(predictor name, column) pairs: every L_p norm, then the exact prediction."""
    return [(predictor_name(p), f"norm_{predictor_name(p)}") for p in p_values] + [(EXACT, "pred_std_exact")]


def variance_correlations(stats: pd.DataFrame, p_values: Sequence[float] = P_VALUES) -> pd.DataFrame:
    """Per network and layer, Pearson and Spearman correlation of measured std with every predictor.

    ``stats`` comes from :func:`attach_weight_norms` with id columns (dataset, arch, seed, norm).
    Returns dataset, arch, seed, norm, layer_index, layer, readout, predictor, p, pearson, spearman, n.
    """
    keys = [c for c in ("dataset", "arch", "seed", "norm") if c in stats.columns] + ["layer_index", "layer"]
    rows = []
    for key, g in stats.groupby(keys, sort=False):
        for name, col in predictors(p_values):
            p = math.nan if name == EXACT else (math.inf if name == "Linf" else float(name[1:]))
            readout = bool(not g["spiking"].iloc[0]) if "spiking" in g.columns else False
            rows.append(
                {
                    **dict(zip(keys, key)),
                    "readout": readout,
                    "predictor": name,
                    "p": p,
                    "pearson": pearson(g[col], g["std_current"]),
                    "spearman": spearman(g[col], g["std_current"]),
                    "n": int(len(g)),
                }
            )
    return pd.DataFrame(rows)


def best_predictor(corr: pd.DataFrame, metric: str = "spearman") -> pd.DataFrame:
    """Mean correlation per L_p predictor over all layers/networks, ranked (best first).

    Columns: predictor, p, mean, min, n_layers, wins (layers where it is the best L_p, ties shared).
    """
    if corr.empty or metric not in corr.columns:
        return pd.DataFrame(columns=["predictor", "p", "mean", "min", "n_layers", "wins"])
    lp = corr[corr["predictor"] != EXACT].dropna(subset=[metric])
    if lp.empty:
        return pd.DataFrame(columns=["predictor", "p", "mean", "min", "n_layers", "wins"])
    layer_keys = [c for c in ("dataset", "arch", "seed", "norm", "layer_index") if c in lp.columns]
    top = lp.groupby(layer_keys)[metric].transform("max")
    lp = lp.assign(win=(lp[metric] >= top - 1e-12).astype(float))
    out = (
        lp.groupby(["predictor", "p"], sort=False)
        .agg(mean=(metric, "mean"), min=(metric, "min"), n_layers=(metric, "count"), wins=("win", "sum"))
        .reset_index()
    )
    return out.sort_values(["mean", "p"], ascending=[False, True], ignore_index=True)


def best_at_precision(values: pd.Series, decimals: int = 2) -> list[Any]:
    """The labels of ``values`` whose value, rounded as printed, equals the rounded maximum (NaN ignored).

    The one rule for "the best L_p predictor": values that print alike tie, and every tied one is a best.
    The correlation table bolds these and the paper's verdict words them, so they cannot disagree.
    """
    printed = values.astype(float).round(decimals)
    if not printed.notna().any():
        return []
    return [label for label, v in printed.items() if v >= printed.max()]


def load_stats(
    stats_paths: Sequence[str | Path],
    network_paths: Sequence[str | Path] = (),
    p_values: Sequence[float] = P_VALUES,
) -> pd.DataFrame:
    """Read every membrane-statistics CSV; one that lacks the weight norms (rule membrane_stats writes them) gets
    those of its network, matched by path among ``network_paths``."""
    from ..network import load_network

    nets = {}
    for path in network_paths:
        ids = parse_path(path, SNN_PATH)
        nets[(ids.get("dataset"), ids.get("arch"), ids.get("seed"), ids.get("norm"))] = path
    frames = []
    for path in stats_paths:
        stats = pd.read_csv(path)
        ids = parse_path(path, STATS_PATH)
        for col in ("dataset", "arch", "seed", "norm"):
            if col not in stats.columns:
                if col not in ids:
                    raise ValueError(
                        f"{path}: no {col!r} column and the path is not stats/{{dataset}}/{{arch}}/seed{{seed}}/{{norm}}.csv"
                    )
                stats.insert(0, col, ids[col])
        have = {f"norm_{predictor_name(p)}" for p in p_values} | {"pred_std_exact", "unit"}
        if have <= set(stats.columns):
            frames.append(stats)
            continue
        key = tuple(stats[c].iloc[0] if len(stats) else ids.get(c) for c in ("dataset", "arch", "seed", "norm"))
        key = (key[0], key[1], int(key[2]), key[3])
        if key not in nets:
            raise ValueError(f"{path}: no network.pt among the inputs for {key}")
        frames.append(attach_weight_norms(stats, load_network(nets[key]), p_values))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
