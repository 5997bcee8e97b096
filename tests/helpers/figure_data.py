"""Shared synthetic data for the figure/table/paper tests: one small results tree, rendered once.

The tree (tests/helpers/synthetic.py) has the pipeline's exact shapes; :func:`rendered` runs the rule
scripts' ``main`` functions on it (aggregate, every figure, the tables, the paper macros) and caches the
output folder for the whole test session, so each test only checks what it needs.
"""

from __future__ import annotations

import atexit
import importlib.util
import shutil
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any

from helpers import REPO
from snnconv.workflow import artefacts

RAW_CONFIG: dict[str, Any] = {
    "datasets": ["digits"],
    "archs": ["mlp", "cnn"],
    "seeds": [0],
    "conversion": {
        "norms": ["none", "max", "p99.9", "model", "max-v0half", "l4", "uniform-l4"],
        "l4": {"k": 0.5, "mode": "scale", "base": "max"},
        "sweep": {"p": [1, 4, "inf"], "k": [-0.5, 0.5], "mode": ["scale"], "base": ["max"], "uniform": True},
    },
    "simulation": {"T": 60, "input_seeds": [0, 1]},
    "stats": {"norms": ["max"]},
    "report": {"T_points": [5, 20, 60], "within": 0.01},
}

_CACHE: dict[str, Any] = {}


def config() -> dict[str, Any]:
    """The validated synthetic config (defaults filled in)."""
    import copy

    from snnconv.workflow.config import validate_config

    return validate_config(copy.deepcopy(RAW_CONFIG))


def script(name: str) -> ModuleType:
    """Import ``scripts/<name>.py`` as a module (its snakemake block does not run)."""
    spec = importlib.util.spec_from_file_location(f"snnconv_script_{name}", REPO / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def synthetic_tree() -> dict[str, Any]:
    """Write the synthetic results tree once; returns root, config and the paths by kind."""
    if "tree" not in _CACHE:
        from helpers.synthetic import write_synthetic_results

        root = Path(tempfile.mkdtemp(prefix="snnconv_figs_"))
        atexit.register(shutil.rmtree, root, True)  # removed when the test session ends
        cfg = config()
        paths = write_synthetic_results(root / "results", cfg)
        _CACHE["tree"] = {"root": root, "config": cfg, "paths": paths}
    return _CACHE["tree"]


def rendered() -> dict[str, Any]:
    """Run aggregate, every figure, the tables and the macros once (via the rule scripts)."""
    if "rendered" in _CACHE:
        return _CACHE["rendered"]
    from snnconv.report import style

    tree = synthetic_tree()
    root, cfg, paths = tree["root"], tree["config"], tree["paths"]
    labels: dict[str, dict[str, Any]] = {}
    original = style.savefig

    def recording_savefig(fig, stem, close=True):  # noqa: ANN001 - records what a reader would see
        labels[Path(stem).name] = {
            "titles": [ax.get_title() for ax in fig.axes],
            "xlabels": [ax.get_xlabel() for ax in fig.axes],
            "ylabels": [ax.get_ylabel() for ax in fig.axes],
            "legend": [
                t.get_text()
                for leg in fig.legends + [ax.get_legend() for ax in fig.axes if ax.get_legend()]
                for t in leg.get_texts()
            ],
            "suptitle": fig._suptitle.get_text() if fig._suptitle else "",
            "n_axes": len(fig.axes),
            "xlims": [ax.get_xlim() for ax in fig.axes],
            "n_bands": sum(len(ax.collections) for ax in fig.axes),  # fill_between bands, error-bar lines
            "texts": [t.get_text() for ax in fig.axes for t in ax.texts],  # heatmap annotations
        }
        return original(fig, stem, close)

    style.savefig = recording_savefig
    try:
        _render(root, cfg, paths)
    finally:
        style.savefig = original
    fig, tab = root / "results" / "figures", root / "results" / "tables"
    _CACHE["rendered"] = {
        **tree,
        "figures": fig,
        "tables": tab,
        "table": str(tab / "accuracy_all.csv"),
        "macros": root / "results" / "paper" / "macros.tex",
        "labels": labels,
    }
    return _CACHE["rendered"]


def _render(root: Path, cfg: dict[str, Any], paths: dict[str, Any]) -> None:
    """The rule scripts, in DAG order."""
    fig, tab = root / "results" / "figures", root / "results" / "tables"
    table = str(tab / "accuracy_all.csv")
    from snnconv.workflow import settings

    conv, T_points = settings.report_norms(cfg), cfg["report"]["T_points"]
    script("aggregate").main(
        [str(p) for p in paths["sim"]], [str(p) for p in paths["summary"]], [str(p) for p in paths["conversion"]], table
    )
    for chart in artefacts.charts():
        script("figure").main(table, chart.drawer, conv, T_points, str(fig / f"{chart.stem}.pdf"))
    script("fig_variance_claim").main(
        [str(p) for p in paths["stats"]],
        [str(p) for p in paths["network"]],
        str(fig / "variance_claim.pdf"),
        str(fig / "variance_correlation.pdf"),
        str(tab / "variance_correlation.csv"),
    )
    script("fig_coefficient_sweep").main(
        table, conv, T_points, str(fig / "coefficient_sweep.pdf"), str(fig / "coefficient_sweep_heatmap.pdf")
    )
    script("fig_firing_rates").main(table, conv, str(fig / "firing_rates.pdf"), str(fig / "firing_rates_vs_t.pdf"))
    script("tables").main(
        table,
        conv,
        T_points,
        cfg["report"]["within"],
        str(tab / "accuracy_main.csv"),
        str(tab / "accuracy_full.csv"),
        str(tab / "best_method.csv"),
    )
    script("paper_macros").main(
        table,
        str(tab / "variance_correlation.csv"),
        settings.paper(cfg),
        str(root / "results" / "paper" / "macros.tex"),
        str(tab / "l4_comparison.csv"),
    )
