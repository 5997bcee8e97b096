"""Figure 5: the low-latency gap — SNN − ANN accuracy at each T of ``report.T_points``, per method.

A forest plot: rows = dataset × arch, columns = T (the panels of a row share one x-scale), one point per
norm (95 % t-interval over replicates from n = 3 on), the ANN at 0. The gap is paired: each replicate's accuracy minus the ANN accuracy of its training seed.
The controls of the L4 adjustment — ``uniform-l4`` (same mean adjustment, no per-neuron structure) and
``max-v0half`` (v_init = θ/2, the other cheap low-latency fix) — are always drawn right beside ``l4``
(if they were not simulated under those names, a sweep name with the same parameters stands in).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..analysis.controls import control_names
from ..analysis.intervals import ci_note, drawable, n_replicates
from ..analysis.load import norm_params
from ..analysis.summaries import low_T_gap
from . import style
from .labels import net_label

log = logging.getLogger(__name__)
L4 = "l4"


def gap_norms(df: pd.DataFrame, conversion_cfg: dict[str, Any], norms: Sequence[str] | None = None) -> list[str]:
    """``norms`` (default ``conversion.norms``) in config order, the two controls moved right after l4."""
    have = set(df["norm"])
    norms = [n for n in (norms if norms is not None else conversion_cfg["norms"]) if n in have]
    ctl = control_names(df, conversion_cfg)
    if ctl["l4"] is None:
        return norms
    extras = [ctl["uniform"], ctl["v0half"]]
    for name, kind in zip(extras, ("uniform-l4", "max-v0half")):
        if name is None:
            log.warning("control %s of the L4 adjustment was not simulated: it cannot be shown", kind)
    out = [n for n in norms if n not in extras and n != ctl["l4"]]
    pos = next((i for i, n in enumerate(norms) if n == ctl["l4"]), len(out))
    pos = len([n for n in norms[:pos] if n not in extras])
    return out[:pos] + [ctl["l4"]] + [e for e in extras if e] + out[pos:]


def _xlim(sub: pd.DataFrame) -> tuple[float, float, set[str]]:
    """x range (pp) of one panel and the far-off low outliers left off-scale.

    The lowest point is off-scale when its distance to the next is more than twice the spread (CIs
    included) of the remaining points — e.g. an unnormalized network at 10 % next to methods within a
    few points of the ANN; at most a third of the points are treated so.
    """
    if sub.empty:
        return -1.0, 1.0, set()
    means = 100 * sub["mean"].astype(float)
    lows = 100 * sub["ci_low"].fillna(sub["mean"]).astype(float)
    highs = 100 * sub["ci_high"].fillna(sub["mean"]).astype(float)
    core = list(means.sort_values(kind="stable").index)
    off: list[int] = []
    while len(off) < len(means) // 3 and len(core) > 2:
        rest = core[1:]
        span = max(float(highs[rest].max()), 0.0) - float(lows[rest].min())
        if float(means[rest].min()) - float(means[core[0]]) > 2 * max(span, 1.0):
            off.append(core[0])
            core = rest
        else:
            break
    lo = min(float(lows[core].min()), 0.0)
    hi = max(float(highs[core].max()), 0.0)
    pad = 0.08 * max(hi - lo, 0.5)
    return lo - pad, hi + pad, set(sub.loc[off, "norm"])


def plot_low_T_gap(
    df: pd.DataFrame,
    conversion_cfg: dict[str, Any],
    T_points: Sequence[int],
    stem: str | Path,
    norms: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Draw and save the gap forest plot (``stem``.pdf/.png + .csv); returns the plotted data."""
    T_max = int(df["t"].max()) if len(df) else 0
    Ts = sorted(t for t in T_points if t <= T_max)
    order = gap_norms(df, conversion_cfg, norms)
    gap = low_T_gap(df, order, Ts)
    style.savedata(gap, stem)
    if gap.empty:
        style.savefig(style.empty_figure("no simulation results at report.T_points"), stem)
        return gap
    styles = style.norm_styles(order, conversion_cfg, norm_params(df, conversion_cfg))
    nets = gap[["dataset", "arch"]].drop_duplicates().apply(tuple, axis=1).tolist()
    y = {n: len(order) - 1 - i for i, n in enumerate(order)}
    # panels of one row (one network, every T) share their x-scale, so a gap shrinking with T reads directly
    fig, axes = style.figure(
        len(nets),
        len(Ts),
        width=min(style.FULL_WIDTH, 1.25 * len(Ts) + 1.4),
        panel_height=0.16 * len(order) + 0.6,
        sharey=True,
        sharex="row",
    )
    shown = drawable(gap)  # n < 3: no interval drawn
    ctl = control_names(df, conversion_cfg)
    for i, (dataset, arch) in enumerate(nets):
        row = shown[(shown["dataset"] == dataset) & (shown["arch"] == arch)]
        lo, hi, _ = _xlim(row)
        for j, T in enumerate(Ts):
            ax = axes[i, j]
            sub = row[row["T"] == T]
            ax.axvline(0, color=style.FAMILY_COLORS["ann"], ls="--", lw=0.8)
            if ctl["l4"] in y:  # shade the l4 + controls block so the comparison is read together
                block = [y[n] for n in (ctl["l4"], ctl["uniform"], ctl["v0half"]) if n in y]
                ax.axhspan(min(block) - 0.45, max(block) + 0.45, color="0.92", zorder=0, lw=0)
            for norm in order:
                r = sub[sub["norm"] == norm]
                if r.empty:
                    continue
                r = r.iloc[0]
                st = styles[norm]
                m = 100 * r["mean"]
                if (
                    m < lo
                ):  # far-off outlier (left off the row's common scale): an arrow at the left edge with its value
                    ax.annotate(
                        f"\u2190 {m:.0f}",
                        (lo, y[norm]),
                        xytext=(1, 0),
                        textcoords="offset points",
                        va="center",
                        fontsize=6,
                        color=st["color"],
                    )
                    continue
                xerr = (
                    None
                    if np.isnan(r["ci_low"])
                    else [[100 * (r["mean"] - r["ci_low"])], [100 * (r["ci_high"] - r["mean"])]]
                )
                ax.errorbar(
                    [m],
                    [y[norm]],
                    xerr=xerr,
                    color=st["color"],
                    marker=st["marker"],
                    ms=4,
                    capsize=1.5,
                    elinewidth=0.8,
                    ls="none",
                )
            ax.set_xlim(lo, hi)
            ax.set_yticks(list(y.values()), [styles[n]["label"] for n in y])
            ax.grid(axis="y", visible=False)
            ax.tick_params(axis="x", labelsize=6)
            if i == 0:
                ax.set_title(f"T = {T}")
            if j == 0:
                ax.set_ylabel(net_label(dataset, arch))
            if i == len(nets) - 1:
                ax.set_xlabel("SNN − ANN (pp)")
    fig.suptitle(f"Accuracy gap to the ANN ({ci_note(n_replicates(df[df['norm'].isin(order)]))})", fontsize=7)
    style.savefig(fig, stem)
    return gap


def draw(df: pd.DataFrame, *, conversion: dict[str, Any], T_points: Sequence[int], stem: str | Path) -> pd.DataFrame:
    """The chart entry point (the generic figure rule calls it): the gap at each of ``T_points``."""
    return plot_low_T_gap(df, conversion, T_points, stem)
