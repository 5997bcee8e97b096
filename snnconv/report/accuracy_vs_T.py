"""Figure 1: SNN accuracy against simulation time, one panel per dataset × architecture.

One line per norm of ``conversion.norms`` (the Lp sweep is left out to keep it readable: see the
coefficient-sweep figure), a 95 % t-interval band over replicates from n = 3 on, the ANN's
accuracy as a black dashed line, log-scaled time axis.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from matplotlib.lines import Line2D

from ..analysis.intervals import ann_reference, ci_note, drawable, n_replicates
from ..analysis.load import norm_params, order_norms
from ..analysis.summaries import accuracy_curves
from . import style


def _grid(df: pd.DataFrame) -> tuple[list[str], list[str]]:
    """Datasets (rows) and architectures (columns) in order of appearance."""
    return list(dict.fromkeys(df["dataset"])), list(dict.fromkeys(df["arch"]))


def plot_accuracy_vs_T(
    df: pd.DataFrame, conversion_cfg: dict[str, Any], stem: str | Path, norms: Sequence[str] | None = None
) -> pd.DataFrame:
    """Draw and save the figure (``stem``.pdf/.png) and its data (``stem``.csv); returns the data."""
    norms = list(norms if norms is not None else conversion_cfg.get("norms", []))
    curves = accuracy_curves(df, norms)
    stem = Path(stem)
    if curves.empty:
        style.savefig(style.empty_figure("no simulation results for conversion.norms"), stem)
        style.savedata(curves, stem)
        return curves
    norms = order_norms(curves["norm"].unique(), norms)
    shown = drawable(curves)
    styles = style.norm_styles(norms, conversion_cfg, norm_params(df, conversion_cfg))
    ann = ann_reference(df)
    datasets, archs = _grid(curves)
    fig, axes = style.figure(
        len(datasets), len(archs), width=min(style.FULL_WIDTH, 2.4 * len(archs) + 0.6), panel_height=1.9, sharex=True
    )
    for i, dataset in enumerate(datasets):
        for j, arch in enumerate(archs):
            ax = axes[i, j]
            panel = shown[(shown["dataset"] == dataset) & (shown["arch"] == arch)]
            if panel.empty:
                ax.axis("off")
                continue
            for norm in norms:
                c = panel[panel["norm"] == norm].sort_values("t")
                if c.empty:
                    continue
                st = styles[norm]
                ax.plot(c["t"], 100 * c["mean"], color=st["color"], linestyle=st["linestyle"], lw=1.2)
                if c["ci_low"].notna().any():  # n < 3: blanked by drawable()
                    ax.fill_between(c["t"], 100 * c["ci_low"], 100 * c["ci_high"], color=st["color"], alpha=0.18, lw=0)
            a = ann[(ann["dataset"] == dataset) & (ann["arch"] == arch)]
            if len(a):
                ax.axhline(100 * float(a["mean"].iloc[0]), color=style.FAMILY_COLORS["ann"], ls="--", lw=1.0)
            style.log_time_axis(ax)
            ax.set_ylim(0, 100)
            ax.set_title(f"{dataset} / {arch}")
            if j == 0:
                ax.set_ylabel("accuracy (%)")
            if i == len(datasets) - 1:
                ax.set_xlabel("timestep t")
    handles = [Line2D([], [], color=styles[n]["color"], ls=styles[n]["linestyle"]) for n in norms]
    labels = [styles[n]["label"] for n in norms]
    handles.append(Line2D([], [], color=style.FAMILY_COLORS["ann"], ls="--"))
    labels.append("ANN")
    style.legend_below(fig, handles, labels, ncol=4)
    fig.suptitle(f"Accuracy vs. time ({ci_note(n_replicates(df[df['norm'].isin(norms)]))})", fontsize=7)
    style.savefig(fig, stem)
    style.savedata(curves, stem)
    return curves
