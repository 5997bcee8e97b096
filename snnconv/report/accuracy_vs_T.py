"""Figure 1: SNN accuracy against simulation time, one panel per dataset × architecture.

Faceted with seaborn (rows: datasets, columns: architectures). One line per norm of ``conversion.norms`` (the Lp sweep is left out to keep it readable: see the
coefficient-sweep figure), a 95 % t-interval band over replicates from n = 3 on, the ANN's
accuracy as a black dashed line, log-scaled time axis.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from matplotlib.lines import Line2D

from ..analysis.intervals import ann_reference, ci_note, drawable, n_replicates
from ..analysis.load import norm_params, order_norms
from ..analysis.summaries import accuracy_curves
from . import style
from .labels import net_label


def _grid(df: pd.DataFrame) -> tuple[list[str], list[str]]:
    """Datasets (rows) and architectures (columns) in order of appearance."""
    return list(dict.fromkeys(df["dataset"])), list(dict.fromkeys(df["arch"]))


def _panel(
    data: pd.DataFrame, norms: list[str], styles: dict[str, dict[str, Any]], ann: pd.DataFrame, **_: Any
) -> None:
    """One facet: a line per norm (the analysis layer's means), its 95 % band where drawable, the ANN dashed."""
    ax = plt.gca()
    present = [n for n in norms if n in set(data["norm"])]
    plot = data[data["norm"].isin(present)].assign(accuracy=lambda d: 100 * d["mean"])
    sns.lineplot(
        data=plot,
        x="t",
        y="accuracy",
        hue="norm",
        hue_order=present,
        palette={n: styles[n]["color"] for n in present},
        style="norm",
        style_order=present,
        dashes={n: style.dashes(styles[n]["linestyle"]) for n in present},
        estimator=None,
        errorbar=None,
        linewidth=1.2,
        legend=False,
        ax=ax,
    )
    for norm in present:
        c = plot[plot["norm"] == norm].sort_values("t")
        if c["ci_low"].notna().any():  # n < 3: blanked by drawable()
            st = styles[norm]
            ax.fill_between(c["t"], 100 * c["ci_low"], 100 * c["ci_high"], color=st["color"], alpha=0.18, lw=0)
    a = ann[(ann["dataset"] == data["dataset"].iloc[0]) & (ann["arch"] == data["arch"].iloc[0])]
    if len(a):
        ax.axhline(100 * float(a["mean"].iloc[0]), color=style.FAMILY_COLORS["ann"], ls="--", lw=1.0)


def plot_accuracy_vs_T(
    df: pd.DataFrame, conversion_cfg: dict[str, Any], stem: str | Path, norms: Sequence[str] | None = None
) -> pd.DataFrame:
    """Draw and save the figure (``stem``.pdf/.png) and its data (``stem``.csv); returns the data.

    Faceted by seaborn: rows = datasets, columns = architectures, one facet per network that exists.
    """
    norms = list(norms if norms is not None else conversion_cfg["norms"])
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
    style.apply_style()
    width = min(style.FULL_WIDTH, 2.4 * len(archs) + 0.6)
    grid = sns.FacetGrid(
        shown,
        row="dataset",
        col="arch",
        row_order=datasets,
        col_order=archs,
        height=1.9,
        aspect=(width / len(archs)) / 1.9,
        sharex=True,
        sharey=True,
        despine=False,
        margin_titles=False,
    )
    grid.map_dataframe(_panel, norms=norms, styles=styles, ann=ann)
    grid.set_axis_labels("timestep t", "accuracy (%)")
    for (dataset, arch), ax in zip(
        [(d, a) for d in datasets for a in archs], grid.axes.flat
    ):  # a dataset without this architecture: no panel
        if shown[(shown["dataset"] == dataset) & (shown["arch"] == arch)].empty:
            ax.axis("off")
            continue
        ax.set_title(net_label(dataset, arch))
        style.log_time_axis(ax)
        ax.set_ylim(0, 100)
    fig = grid.figure
    fig.set_layout_engine("constrained")
    handles = [Line2D([], [], color=styles[n]["color"], ls=styles[n]["linestyle"]) for n in norms]
    labels = [styles[n]["label"] for n in norms]
    handles.append(Line2D([], [], color=style.FAMILY_COLORS["ann"], ls="--"))
    labels.append("ANN")
    style.legend_below(fig, handles, labels, ncol=4)
    fig.suptitle(f"Accuracy vs. time ({ci_note(n_replicates(df[df['norm'].isin(norms)]))})", fontsize=7)
    style.savefig(fig, stem)
    style.savedata(curves, stem)
    return curves


def draw(df: pd.DataFrame, *, conversion: dict[str, Any], T_points: Sequence[int], stem: str | Path) -> pd.DataFrame:
    """The chart entry point (the generic figure rule calls it): every t of the curves, so ``T_points`` is unused."""
    del T_points
    return plot_accuracy_vs_T(df, conversion, stem)
