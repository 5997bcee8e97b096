"""One plotting style for every figure: seaborn's theme ("paper" context, "ticks" style) with the project's
settings on top (:data:`RC`), Okabe–Ito colours with a FIXED colour per norm family, fonts readable at column
width (3.4 in), and :func:`savefig`, which writes PDF + PNG atomically. Figures draw the numbers of
:mod:`snnconv.analysis` (means and intervals); seaborn lays them out and draws them, it computes none of them.

Families (docs/method.md "Norm names"): ``none``, ``max``, ``percentile``, ``model``, the v0 = θ/2
control ``v0half``, the reconstructed ``l4`` adjustment (any L_p adjustment with p = 4), the other
``lp`` adjustments of the sweep and the ``uniform`` control. Members of one family (p99 and p99.9, say)
share the family's hue and differ in shade and marker. ANN references are black dashed lines.
"""

from __future__ import annotations

import colorsys
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # headless: figures are only ever written to files
import logging  # noqa: E402

import matplotlib.colors as mcolors  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from ..atomic import atomic_path  # noqa: E402
from .labels import label_of, norm_info, p_label  # noqa: E402

logging.getLogger("fontTools").setLevel(logging.WARNING)  # PDF font subsetting chatter

COLUMN_WIDTH = 3.4  # inches, one column of a two-column paper
FULL_WIDTH = 7.0  # inches, both columns
PNG_DPI = 200

# Okabe & Ito (2008), "Color Universal Design": safe for the common colour-vision deficiencies.
OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
    "grey": "#8C8C8C",
}

FAMILY_COLORS = {
    "ann": OKABE_ITO["black"],
    "none": OKABE_ITO["grey"],
    "max": OKABE_ITO["blue"],
    "percentile": OKABE_ITO["sky_blue"],
    "model": OKABE_ITO["bluish_green"],
    "v0half": OKABE_ITO["orange"],
    "l4": OKABE_ITO["vermillion"],
    "lp": "#8C510A",  # brown: the other exponents of the sweep (shaded by p)
    "uniform": OKABE_ITO["reddish_purple"],
    "calib": OKABE_ITO["yellow"],  # light calibration (Li et al. 2021), on any base or adjustment
    "qcfs": "#5E3C99",  # purple: the QCFS-trained twin (Bu et al. 2022)
}
FAMILY_ORDER = ["none", "max", "percentile", "model", "v0half", "l4", "lp", "uniform", "calib", "qcfs"]
# Controls are drawn dashed/dash-dotted so they read as controls even in greyscale.
FAMILY_LINESTYLES = {"uniform": (0, (4, 1.5)), "v0half": (0, (5, 1.5, 1, 1.5))}
MARKERS = ["o", "s", "^", "D", "v", "P", "X", "<", ">", "*"]
# The exponents of the L_p family, in a fixed order of increasing p (p = 4 is the L4 colour).
P_COLORS = {1.0: "#F6B26B", 2.0: "#B45F06", 3.0: "#783F04", 4.0: FAMILY_COLORS["l4"], math.inf: "#4D2600"}

RC = {
    "font.size": 8,
    "axes.titlesize": 8,
    "axes.labelsize": 8,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "legend.fontsize": 7,
    "legend.title_fontsize": 7,
    "legend.frameon": False,
    "lines.linewidth": 1.3,
    "lines.markersize": 3.5,
    "axes.linewidth": 0.6,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.linewidth": 0.4,
    "grid.alpha": 0.35,
    "xtick.major.width": 0.6,
    "ytick.major.width": 0.6,
    "figure.dpi": 100,
    "savefig.dpi": PNG_DPI,
    "savefig.bbox": None,  # constrained layout already fits; "tight" would cost a second draw
    "savefig.pad_inches": 0.02,
    "pdf.fonttype": 42,  # embed TrueType: text stays selectable and editable
    "ps.fonttype": 42,
    "font.family": "DejaVu Sans",
    "mathtext.fontset": "dejavusans",
    "axes.prop_cycle": matplotlib.cycler(
        color=[
            OKABE_ITO[c]
            for c in ("blue", "vermillion", "bluish_green", "orange", "reddish_purple", "sky_blue", "black", "yellow")
        ]
    ),
}


def apply_style() -> None:
    """Install the project style (idempotent): seaborn's paper/ticks theme, the Okabe–Ito palette, then :data:`RC`.
    Every plotting function calls it first."""
    sns.set_theme(context="paper", style="ticks", palette=RC["axes.prop_cycle"].by_key()["color"], rc=RC)


def dashes(linestyle: Any) -> Any:
    """A matplotlib line style as seaborn's ``dashes`` entry: "" for solid, the on/off sequence otherwise."""
    if linestyle in ("-", "solid", None):
        return ""
    if linestyle in ("--", "dashed"):
        return (4, 1.5)
    return tuple(linestyle[1])


def shade(color: str, amount: float) -> str:
    """``color`` lightened (amount > 0) or darkened (amount < 0), keeping its hue."""
    r, g, b = mcolors.to_rgb(color)
    h, l, s = colorsys.rgb_to_hls(r, g, b)
    l = min(0.9, max(0.1, l + amount * (1 - l) if amount > 0 else l * (1 + amount)))
    return mcolors.to_hex(colorsys.hls_to_rgb(h, l, s))


def norm_family(name: str, conversion_cfg: dict[str, Any] | None = None, params: pd.DataFrame | None = None) -> str:
    """Family of a norm: none/max/percentile/model/v0half/l4/lp/uniform (see module docstring), "ann" for the ANN."""
    return "ann" if name == "ANN" else str(norm_info([name], conversion_cfg, params)[name]["family"])


def norm_styles(
    names: Iterable[str], conversion_cfg: dict[str, Any] | None = None, params: pd.DataFrame | None = None
) -> dict[str, dict[str, Any]]:
    """Colour, line style, marker and label per norm name: fixed hue per family, shades within it.

    ``params``: the results' recorded parameters (:func:`snnconv.analysis.load.norm_params`); names not in it
    are parsed.
    """
    names = list(dict.fromkeys(names))
    info = norm_info(names, conversion_cfg, params)
    seen: dict[str, int] = {}
    styles: dict[str, dict[str, Any]] = {}
    for name in names:
        fam = "ann" if name == "ANN" else str(info[name]["family"])
        i = seen.get(fam, 0)
        seen[fam] = i + 1
        color = FAMILY_COLORS[fam]
        if fam == "lp":
            color = P_COLORS.get(float(info[name]["p"]), color)
        if i:  # second, third … member of a family: alternate darker/lighter shades
            color = shade(color, (-0.3, 0.35, -0.5, 0.55)[(i - 1) % 4])
        styles[name] = {
            "color": color,
            "linestyle": FAMILY_LINESTYLES.get(fam, "-") if name != "ANN" else "--",
            "marker": MARKERS[(FAMILY_ORDER.index(fam) + i) % len(MARKERS)] if fam in FAMILY_ORDER else "o",
            "label": "ANN" if name == "ANN" else label_of(info[name]),
            "family": fam,
        }
    return styles


def p_style(p: float | str) -> dict[str, Any]:
    """Colour/marker/label of one exponent p of the L_p family (or ``"uniform"`` for the control)."""
    if p == "uniform":
        return {
            "color": FAMILY_COLORS["uniform"],
            "marker": "x",
            "linestyle": FAMILY_LINESTYLES["uniform"],
            "label": "uniform control",
        }
    pf = float(p)
    known = sorted(P_COLORS)
    color = P_COLORS.get(pf) or shade(FAMILY_COLORS["lp"], 0.3)
    marker = MARKERS[known.index(pf) % len(MARKERS)] if pf in known else "*"
    return {"color": color, "marker": marker, "linestyle": "-", "label": rf"$L_{{{p_label(pf)}}}$"}


def figure(nrows: int = 1, ncols: int = 1, width: float = FULL_WIDTH, panel_height: float = 1.6, **kwargs: Any):
    """A styled figure of ``nrows × ncols`` panels, ``width`` inches wide; axes always a 2-D array."""
    apply_style()
    kwargs.setdefault("squeeze", False)
    kwargs.setdefault("constrained_layout", True)
    return plt.subplots(nrows, ncols, figsize=(width, max(1.2, panel_height * nrows + 0.5)), **kwargs)


def empty_figure(message: str, width: float = COLUMN_WIDTH):
    """A small figure that says why there is nothing to plot (so every rule still has its outputs)."""
    fig, axes = figure(1, 1, width=width, panel_height=1.2)
    ax = axes[0, 0]
    ax.axis("off")
    ax.text(0.5, 0.5, message, ha="center", va="center", wrap=True, fontsize=8, transform=ax.transAxes)
    return fig


def savefig(fig, stem: str | Path, close: bool = True) -> list[Path]:
    """Write ``stem.pdf`` and ``stem.png`` atomically (reproducible bytes: no creation dates); returns paths."""
    stem = Path(stem)
    if stem.suffix in (".pdf", ".png"):
        stem = stem.with_suffix("")
    written = []
    for fmt, meta in (("pdf", {"CreationDate": None, "Creator": None, "Producer": None}), ("png", {"Software": None})):
        path = stem.with_name(stem.name + "." + fmt)
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format=fmt, metadata=meta)
        written.append(path)
    if close:
        plt.close(fig)
    return written


def log_time_axis(ax) -> None:
    """Log-scaled timestep axis with plain tick labels (1, 10, 100)."""
    from matplotlib.ticker import FuncFormatter, NullFormatter

    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())


def savedata(frame, stem: str | Path) -> Path:
    """Write the plotted numbers beside the figure as ``stem.csv`` (atomically); returns the path."""
    from ..atomic import write_csv

    stem = Path(stem)
    path = (
        stem.with_name(stem.with_suffix("").name + ".csv")
        if stem.suffix in (".pdf", ".png")
        else stem.with_name(stem.name + ".csv")
    )
    write_csv(path, frame)
    return path


def legend_below(fig, handles: list, labels: list, ncol: int | None = None) -> None:
    """One shared legend under all panels."""
    if not handles:
        return
    ncol = ncol or min(len(labels), 4)
    fig.legend(handles, labels, loc="outside lower center", ncol=ncol, handlelength=2.2, columnspacing=1.2)
