"""Figure 2 and its table: the measured membrane-increment std against ‖w_j‖_p and the exact prediction.

The correlations come from :mod:`snnconv.analysis.correlations` (which states the claim and the method);
this module draws the summary and the scatter grid and writes the correlation table.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ..analysis.correlations import EXACT, P_VALUES, best_at_precision, best_predictor, predictors, spearman
from . import style
from .labels import net_label, p_label


def predictor_label(name: str) -> str:
    """Mathtext label of a predictor."""
    if name == EXACT:
        return r"$\sqrt{\mathrm{Var}_{\mathrm{exact}}}$"
    return rf"$\|w\|_{{{p_label(math.inf if name == 'Linf' else float(name[1:]))}}}$"


# -------------------------------------------------------------------------------------------------- figures


def layer_label(layer: str, readout: bool) -> str:
    """'linear7 (readout)' for the non-spiking output layer."""
    return f"{layer} (readout)" if readout else str(layer)


def plot_correlation_summary(corr: pd.DataFrame, stem: str | Path) -> None:
    """Compact figure: correlation (Spearman top, Pearson bottom) vs p, one line per layer, per network."""
    import matplotlib as mpl

    if corr.empty:
        style.savefig(style.empty_figure("no membrane statistics"), stem)
        return
    if "readout" not in corr.columns:
        corr = corr.assign(readout=False)
    nets = corr[["dataset", "arch"]].drop_duplicates().apply(tuple, axis=1).tolist()
    preds = list(dict.fromkeys(corr["predictor"]))
    xs = np.arange(len(preds))
    lp_x = [x for x, p in zip(xs, preds) if p != EXACT]
    fig, axes = style.figure(
        2, len(nets), width=min(style.FULL_WIDTH, 2.3 * len(nets) + 0.6), panel_height=1.45, sharey="row"
    )
    mean = (
        corr.groupby(["dataset", "arch", "layer_index", "layer", "readout", "predictor"], sort=False)[
            ["spearman", "pearson"]
        ]
        .mean()
        .reset_index()
    )
    cmap = mpl.colormaps["viridis"]
    for r, m in enumerate(("spearman", "pearson")):
        low = float(np.nanmin(mean[m])) if mean[m].notna().any() else 0.0  # one y range per (shared) row
        for j, (dataset, arch) in enumerate(nets):
            ax = axes[r, j]
            sub = mean[(mean["dataset"] == dataset) & (mean["arch"] == arch)]
            layers = sub[["layer_index", "layer", "readout"]].drop_duplicates().sort_values("layer_index")
            for li, (idx, name, readout) in enumerate(layers.itertuples(index=False)):
                ml = sub[sub["layer_index"] == idx].set_index("predictor").reindex(preds)
                color = cmap(0.85 * li / max(1, len(layers) - 1))
                ax.plot(
                    lp_x,
                    ml[m].values[: len(lp_x)],
                    marker="o",
                    color=color,
                    label=layer_label(name, readout),
                    ls="--" if readout else "-",
                )
                if EXACT in preds:
                    ax.plot([xs[-1]], [ml[m].values[-1]], marker="D", color=color, ls="none")
            if "L4" in preds:
                ax.axvline(preds.index("L4"), color=style.FAMILY_COLORS["l4"], lw=0.8, alpha=0.5)
            ax.set_xticks(xs, [predictor_label(p) if p != EXACT else "exact" for p in preds])
            ax.set_ylim(max(-1.0, math.floor((low - 0.05) * 10) / 10), 1.02)
            if r == 0:
                ax.set_title(net_label(dataset, arch))
            else:
                ax.legend(title="layer", loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=2, fontsize=6)
            if j == 0:
                ax.set_ylabel("Spearman " r"$\rho$" if m == "spearman" else "Pearson r")
    fig.suptitle("Correlation of the measured membrane-increment std with each predictor, per layer", fontsize=7)
    style.savefig(fig, stem)


def plot_variance_scatter(stats: pd.DataFrame, stem: str | Path, p_values: Sequence[float] = P_VALUES) -> None:
    """Scatter grid: rows = network × layer, columns = ‖w‖_p for each p and the exact prediction.

    Both axes are relative to the layer mean (per seed), so seeds overlay and y = x (grey) is exact
    proportionality; each panel states its Spearman ρ. Neurons of one conv channel share its norm
    (vertical stripes): their std still differs with position, which only the exact prediction sees.
    """
    if stats.empty:
        style.savefig(style.empty_figure("no membrane statistics"), stem)
        return
    preds = predictors(p_values)
    groups = list(stats.groupby(["dataset", "arch", "layer_index", "layer"], sort=False))
    fig, axes = style.figure(
        len(groups), len(preds), width=style.FULL_WIDTH, panel_height=1.05, constrained_layout=False
    )
    fig.subplots_adjust(
        left=0.1,
        right=0.99,
        bottom=0.5 / (1.05 * len(groups) + 0.5),
        top=1 - 0.3 / (1.05 * len(groups) + 0.5),
        wspace=0.35,
        hspace=0.55,
    )
    for i, ((dataset, arch, _li, layer), g) in enumerate(groups):
        readout = bool(not g["spiking"].iloc[0]) if "spiking" in g.columns else False
        rel = g.groupby("seed")
        y = g["std_current"] / rel["std_current"].transform("mean")
        for j, (name, col) in enumerate(preds):
            ax = axes[i, j]
            x = g[col] / rel[col].transform("mean")
            color = (
                style.FAMILY_COLORS["l4"]
                if name == "L4"
                else (style.FAMILY_COLORS["model"] if name == EXACT else style.FAMILY_COLORS["max"])
            )
            ax.scatter(x, y, s=3, color=color, alpha=0.6, lw=0, rasterized=True)
            lo, hi = float(np.nanmin([x.min(), y.min()])), float(np.nanmax([x.max(), y.max()]))
            pad = 0.06 * max(hi - lo, 1e-3)
            ax.plot([lo - pad, hi + pad], [lo - pad, hi + pad], color="0.6", lw=0.6, zorder=0)
            ax.set_xlim(lo - pad, hi + pad)
            ax.set_ylim(lo - pad, hi + pad)
            rho = np.mean([spearman(s[col], s["std_current"]) for _, s in g.groupby("seed")])
            ax.text(0.03, 0.97, rf"$\rho$={rho:.2f}", transform=ax.transAxes, va="top", fontsize=6)
            ax.tick_params(labelsize=5.5)
            if i == 0:
                ax.set_title(predictor_label(name) + " (rel.)", fontsize=7)
            if j == 0:
                ax.set_ylabel(f"{net_label(dataset, arch)}\n{layer_label(layer, readout)}\nstd (rel.)", fontsize=6)
    style.savefig(fig, stem)


# --------------------------------------------------------------------------------------------------- tables


def correlation_table(corr: pd.DataFrame, stem: str | Path) -> pd.DataFrame:
    """Write the correlation table (csv: every network/layer/predictor; tex/md: seed-mean per layer,
    "ρ (r)" per predictor, best L_p in bold, plus the mean over all layers). Returns the tidy frame."""
    from .tables import bold, latex_escape, write_table

    preds = list(dict.fromkeys(corr["predictor"])) if len(corr) else []
    lp_preds = [p for p in preds if p != EXACT]
    mean = (
        corr.groupby(["dataset", "arch", "layer_index", "layer", "predictor"], sort=False)[["spearman", "pearson"]]
        .mean()
        .reset_index()
        if len(corr)
        else corr
    )
    rows = {True: [], False: []}
    for (dataset, arch, li, layer), g in (
        mean.groupby(["dataset", "arch", "layer_index", "layer"], sort=False) if len(mean) else []
    ):
        g = g.set_index("predictor")
        winners = set(best_at_precision(g.loc[lp_preds, "spearman"]))
        readout = bool(
            corr[(corr["dataset"] == dataset) & (corr["arch"] == arch) & (corr["layer_index"] == li)]
            .get("readout", pd.Series([False]))
            .any()
        )
        for latex in (True, False):
            name = layer_label(layer, readout)
            row = {
                "dataset": latex_escape(dataset) if latex else dataset,
                "arch": arch,
                "layer": latex_escape(name) if latex else name,
            }
            for p in preds:
                text = f"{g.loc[p, 'spearman']:.2f} ({g.loc[p, 'pearson']:.2f})"
                row[_header(p, latex)] = bold(text, latex) if p in winners else text
            row["best p"] = ", ".join(_p_text(w, latex) for w in lp_preds if w in winners) or "--"
            rows[latex].append(row)
    summary = best_predictor(corr)
    if len(summary):
        top = set(best_at_precision(summary.set_index("predictor")["mean"]))
        pearson_mean = corr[corr["predictor"] != EXACT].groupby("predictor")["pearson"].mean()
        exact = corr[corr["predictor"] == EXACT]
        for latex in (True, False):
            row = {"dataset": r"\emph{mean}" if latex else "*mean*", "arch": "", "layer": ""}
            for p in preds:
                if p == EXACT:
                    text = f"{exact['spearman'].mean():.2f} ({exact['pearson'].mean():.2f})"
                else:
                    s = summary.set_index("predictor").loc[p, "mean"]
                    text = f"{s:.2f} ({pearson_mean.get(p, math.nan):.2f})"
                    if p in top:
                        text = bold(text, latex)
                row[_header(p, latex)] = text
            row["best p"] = ", ".join(_p_text(w, latex) for w in lp_preds if w in top)
            rows[latex].append(row)
    tex, md = pd.DataFrame(rows[True]), pd.DataFrame(rows[False])
    if len(tex):  # LaTeX: dataset/arch only on the first row of each network
        first = tex[["dataset", "arch"]].ne(tex[["dataset", "arch"]].shift()).any(axis=1)
        tex.loc[~first, ["dataset", "arch"]] = ""
    n_body = len(tex)
    write_table(
        corr,
        tex,
        md,
        stem,
        column_format="lll" + "r" * (len(preds) + 1),
        midrules_after=[n_body - 1] if len(summary) else [],
    )
    return corr


def _header(pred: str, latex: bool) -> str:
    """Column header of a predictor."""
    if pred == EXACT:
        return r"$\sqrt{\mathrm{Var}_{\mathrm{exact}}}$" if latex else "sqrt(Var exact)"
    return (
        rf"$\|w\|_{{{p_label(math.inf if pred == 'Linf' else float(pred[1:]))}}}$"
        if latex
        else ("‖w‖∞" if pred == "Linf" else f"‖w‖{pred[1:]}")
    )


def _p_text(pred: str, latex: bool) -> str:
    """'4' / '∞' for a predictor name."""
    if pred == "Linf":
        return r"$\infty$" if latex else "∞"
    return pred[1:]
