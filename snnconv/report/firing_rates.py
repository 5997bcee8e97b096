"""Figure 4: firing rates per layer and norm choice — at t = T (bars) and against t (lines).

Rates are the simulator's cumulative mean spike rates per recorded layer (``rate_<layer>`` columns),
averaged over replicates. Only ``conversion.norms`` are shown (the sweep would crowd the bars).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.lines import Line2D

from ..analysis.intervals import ci_note, drawable, mean_ci, n_replicates
from ..analysis.load import norm_params, order_norms
from ..analysis.summaries import log_grid, rates_at_T, rates_long
from . import style
from .labels import net_label


def plot_firing_rates(
    df: pd.DataFrame, conversion_cfg: dict[str, Any], stem: str | Path, norms: Sequence[str] | None = None
) -> pd.DataFrame:
    """Bars of the rate at t = T per layer (hue = norm) per dataset × arch; saves figure + data."""
    norms = list(norms if norms is not None else conversion_cfg["norms"])
    at_T = rates_at_T(df, norms)
    style.savedata(at_T, stem)
    if at_T.empty:
        style.savefig(style.empty_figure("no firing-rate columns (rate_<layer>) in the simulation results"), stem)
        return at_T
    norms = order_norms(at_T["norm"].unique(), norms)
    shown = drawable(at_T)  # n < 3: no error bars
    styles = style.norm_styles(norms, conversion_cfg, norm_params(df, conversion_cfg))
    nets = at_T[["dataset", "arch"]].drop_duplicates().apply(tuple, axis=1).tolist()
    ncols = min(len(nets), 3)
    nrows = int(np.ceil(len(nets) / ncols))
    fig, axes = style.figure(nrows, ncols, width=min(style.FULL_WIDTH, 2.4 * ncols + 0.6), panel_height=1.7)
    width = 0.8 / len(norms)
    for k, (dataset, arch) in enumerate(nets):
        ax = axes[k // ncols, k % ncols]
        sub = shown[(shown["dataset"] == dataset) & (shown["arch"] == arch)]
        layers = sub[["layer_order", "layer"]].drop_duplicates().sort_values("layer_order")["layer"].tolist()
        x = np.arange(len(layers))
        for n_i, norm in enumerate(norms):
            s = sub[sub["norm"] == norm].set_index("layer").reindex(layers)
            yerr = None
            if s["ci_low"].notna().any():
                yerr = np.vstack([100 * (s["mean"] - s["ci_low"]), 100 * (s["ci_high"] - s["mean"])])
            ax.bar(
                x - 0.4 + width * (n_i + 0.5),
                100 * s["mean"],
                width,
                yerr=yerr,
                color=styles[norm]["color"],
                error_kw={"elinewidth": 0.6, "capsize": 0},
                edgecolor="white",
                linewidth=0.3,
            )
        ax.set_xticks(x, layers, rotation=30 if len(layers) > 4 else 0)
        ax.set_title(f"{net_label(dataset, arch)}  (t = {int(sub['t'].max())})")
        if k % ncols == 0:
            ax.set_ylabel("mean firing rate (%)")
        ax.grid(axis="x", visible=False)
    for k in range(len(nets), nrows * ncols):
        axes[k // ncols, k % ncols].axis("off")
    handles = [Line2D([], [], color=styles[n]["color"], lw=5) for n in norms]
    style.legend_below(fig, handles, [styles[n]["label"] for n in norms], ncol=4)
    fig.suptitle(f"Firing rate at t = T ({ci_note(n_replicates(df))})", fontsize=7)
    style.savefig(fig, stem)
    return at_T


def plot_firing_rates_vs_t(
    df: pd.DataFrame, conversion_cfg: dict[str, Any], stem: str | Path, norms: Sequence[str] | None = None
) -> pd.DataFrame:
    """Cumulative firing rate against t: rows = dataset × arch, columns = layers, one line per norm."""
    norms = list(norms if norms is not None else conversion_cfg["norms"])
    T = int(df["t"].max()) if len(df) else 0
    long = rates_long(df, norms, t=log_grid(T))
    curves = mean_ci(long, ["dataset", "arch", "norm", "layer_order", "layer", "t"], "rate") if len(long) else long
    style.savedata(curves, stem)
    if curves.empty:
        style.savefig(style.empty_figure("no firing-rate columns (rate_<layer>) in the simulation results"), stem)
        return curves
    norms = order_norms(curves["norm"].unique(), norms)
    styles = style.norm_styles(norms, conversion_cfg, norm_params(df, conversion_cfg))
    nets = curves[["dataset", "arch"]].drop_duplicates().apply(tuple, axis=1).tolist()
    n_layers = int(curves.groupby(["dataset", "arch"])["layer"].nunique().max())
    fig, axes = style.figure(
        len(nets), n_layers, width=min(style.FULL_WIDTH, 1.8 * n_layers + 0.6), panel_height=1.5, sharex=True
    )
    for i, (dataset, arch) in enumerate(nets):
        sub = curves[(curves["dataset"] == dataset) & (curves["arch"] == arch)]
        layers = sub[["layer_order", "layer"]].drop_duplicates().sort_values("layer_order")["layer"].tolist()
        for j in range(n_layers):
            ax = axes[i, j]
            if j >= len(layers):
                ax.axis("off")
                continue
            for norm in norms:
                c = sub[(sub["norm"] == norm) & (sub["layer"] == layers[j])].sort_values("t")
                if c.empty:
                    continue
                st = styles[norm]
                ax.plot(c["t"], 100 * c["mean"], color=st["color"], ls=st["linestyle"], lw=1.1)
            style.log_time_axis(ax)
            ax.set_title(f"{net_label(dataset, arch)}: {layers[j]}", fontsize=7)
            if j == 0:
                ax.set_ylabel("rate (%)")
            if i == len(nets) - 1:
                ax.set_xlabel("timestep t")
    handles = [Line2D([], [], color=styles[n]["color"], ls=styles[n]["linestyle"]) for n in norms]
    style.legend_below(fig, handles, [styles[n]["label"] for n in norms], ncol=4)
    n = n_replicates(df[df["norm"].isin(norms)])
    fig.suptitle(f"Cumulative firing rate against t (mean over n = {n} replicates; no interval drawn)", fontsize=7)
    style.savefig(fig, stem)
    return curves
