"""Figure 3: the L_p-family sweep — accuracy gain over the base normalization against the coefficient k.

For every adjusted norm (``lp<p>_k<k>_<mode>_<base>`` and the ``uniform_k<k>_<mode>_<base>`` control; the roles
``l4``/``uniform-l4`` are canonical names by the time results exist) the gain is
accuracy(adjusted) − accuracy(base), paired per replicate (same training seed and spike seed), at a
few T of ``report.T_points``. Small multiples: rows = dataset × arch (× mode/base), columns = T; one
line per p plus the uniform control; error bars = 95 % t-interval over replicates from n = 3 on.
:func:`plot_sweep_heatmap` draws the same means as seaborn heatmaps (curve × k, one per network and T).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.cm import ScalarMappable
from matplotlib.colors import TwoSlopeNorm
from matplotlib.lines import Line2D

from ..analysis.intervals import ci_note, drawable, n_replicates
from ..analysis.summaries import pick_T, sweep_gain
from . import style
from .labels import net_label

log = logging.getLogger(__name__)


def _curve_order(curves: Sequence[str]) -> list[str]:
    """L_p curves by increasing p, then the uniform control."""
    lp = sorted([c for c in curves if c != "uniform"], key=lambda c: math.inf if c == "Linf" else float(c[1:]))
    return lp + (["uniform"] if "uniform" in curves else [])


def plot_coefficient_sweep(
    df: pd.DataFrame, conversion_cfg: dict[str, Any], T_points: Sequence[int], stem: str | Path, n_T: int = 3
) -> pd.DataFrame:
    """Draw and save the sweep figure (``stem``.pdf/.png + .csv); returns the plotted data."""
    T_max = int(df["t"].max()) if len(df) else 0
    Ts = pick_T(T_points, n_T, T_max)
    gain = sweep_gain(df, conversion_cfg, Ts)
    style.savedata(gain, stem)
    if gain.empty:
        style.savefig(style.empty_figure("no L_p/uniform adjustment with a simulated base normalization"), stem)
        return gain
    shown = drawable(gain)  # n < 3: no interval drawn
    panels = gain[["dataset", "arch", "mode", "base"]].drop_duplicates().apply(tuple, axis=1).tolist()
    curves = _curve_order(gain["curve"].unique())
    fig, axes = style.figure(
        len(panels), len(Ts), width=min(style.FULL_WIDTH, 2.1 * len(Ts) + 0.7), panel_height=1.6, sharex=True
    )
    for i, (dataset, arch, mode, base) in enumerate(panels):
        for j, T in enumerate(Ts):
            ax = axes[i, j]
            sub = shown[
                (shown["dataset"] == dataset)
                & (shown["arch"] == arch)
                & (shown["mode"] == mode)
                & (shown["base"] == base)
                & (shown["T"] == T)
            ]
            ax.axhline(0, color="0.4", lw=0.7)
            ax.axvline(0, color="0.8", lw=0.6)
            for c in curves:
                cs = sub[sub["curve"] == c].sort_values("k")
                if cs.empty:
                    continue
                st = style.p_style("uniform" if c == "uniform" else (math.inf if c == "Linf" else float(c[1:])))
                yerr = None
                if cs["ci_low"].notna().any():
                    yerr = np.vstack([100 * (cs["mean"] - cs["ci_low"]), 100 * (cs["ci_high"] - cs["mean"])])
                ax.errorbar(
                    cs["k"],
                    100 * cs["mean"],
                    yerr=yerr,
                    color=st["color"],
                    marker=st["marker"],
                    ls=st["linestyle"],
                    lw=1.1,
                    ms=3.5,
                    capsize=1.5,
                    elinewidth=0.7,
                )
            if i == 0:
                ax.set_title(f"T = {T}")
            if j == 0:
                tail = "" if (mode, base) == ("scale", "max") else f"\n({mode}, base {base})"
                ax.set_ylabel(f"{net_label(dataset, arch)}{tail}\ngain over {base} (pp)")
            if i == len(panels) - 1:
                ax.set_xlabel("coefficient k")
    handles, labels = [], []
    for c in curves:
        st = style.p_style("uniform" if c == "uniform" else (math.inf if c == "Linf" else float(c[1:])))
        handles.append(Line2D([], [], color=st["color"], marker=st["marker"], ls=st["linestyle"]))
        labels.append(st["label"])
    style.legend_below(fig, handles, labels, ncol=len(labels))
    fig.suptitle(f"Gain of the adjustment over its base normalization ({ci_note(n_replicates(df))})", fontsize=7)
    style.savefig(fig, stem)
    return gain


def _curve_label(curve: str) -> str:
    """Row label of a heatmap: the curve's legend label (``$L_{4}$``, ``uniform control``)."""
    return style.p_style("uniform" if curve == "uniform" else (math.inf if curve == "Linf" else float(curve[1:])))[
        "label"
    ]


def plot_sweep_heatmap(gain: pd.DataFrame, stem: str | Path) -> None:
    """The sweep's mean gains (from :func:`snnconv.analysis.summaries.sweep_gain`, in percentage points) as seaborn
    heatmaps: rows = L_p curves by p and the uniform control, columns = coefficient k, one panel per network
    (× mode/base) and T, colours diverging around 0 on one shared scale. Writes ``stem``.pdf/.png."""
    if gain.empty:
        style.savefig(style.empty_figure("no L_p/uniform adjustment with a simulated base normalization"), stem)
        return
    panels = gain[["dataset", "arch", "mode", "base"]].drop_duplicates().apply(tuple, axis=1).tolist()
    Ts = sorted(gain["T"].unique())
    curves = _curve_order(gain["curve"].unique())
    ks = sorted(gain["k"].unique())
    bound = max(float(np.nanmax(np.abs(100 * gain["mean"].to_numpy(float)))), 1e-9)
    norm = TwoSlopeNorm(vcenter=0.0, vmin=-bound, vmax=bound)
    fig, axes = style.figure(
        len(panels),
        len(Ts),
        width=min(style.FULL_WIDTH, 0.45 * len(ks) * len(Ts) + 1.6),
        panel_height=0.22 * len(curves) + 0.6,
        sharex=True,
        sharey=True,
    )
    for i, (dataset, arch, mode, base) in enumerate(panels):
        for j, T in enumerate(Ts):
            ax = axes[i, j]
            sub = gain[
                (gain["dataset"] == dataset)
                & (gain["arch"] == arch)
                & (gain["mode"] == mode)
                & (gain["base"] == base)
                & (gain["T"] == T)
            ]
            grid = (100 * sub.pivot_table(index="curve", columns="k", values="mean", aggfunc="first")).reindex(
                index=curves, columns=ks
            )
            grid.index = [_curve_label(c) for c in grid.index]
            sns.heatmap(
                grid,
                ax=ax,
                cmap="vlag",
                norm=norm,
                cbar=False,
                annot=True,
                fmt=".1f",
                annot_kws={"fontsize": 6},
                linewidths=0.4,
                linecolor="white",
            )
            ax.set_xlabel("coefficient k" if i == len(panels) - 1 else "")
            ax.set_ylabel("")
            if i == 0:
                ax.set_title(f"T = {T}")
            if j == 0:
                tail = "" if (mode, base) == ("scale", "max") else f" ({mode}, {base})"
                ax.set_ylabel(f"{net_label(dataset, arch)}{tail}")
    fig.colorbar(ScalarMappable(norm=norm, cmap="vlag"), ax=axes, shrink=0.8, label="gain over base (pp)")
    fig.suptitle("Mean gain of the adjustment over its base normalization (pp)", fontsize=7)
    style.savefig(fig, stem)
