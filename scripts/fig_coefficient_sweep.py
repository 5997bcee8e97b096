"""Rule fig_coefficient_sweep: gain of every L_p adjustment (and the uniform control) over its base
normalization against the coefficient k, at a few of report.T_points; the same means as heatmaps."""

from snnconv.workflow import job  # first: an error while importing the rest lands in the rule log

job.start(globals())


import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from snnconv.analysis.load import check_coverage, read_accuracy_all
from snnconv.report.coefficient_sweep import plot_coefficient_sweep, plot_sweep_heatmap

log = logging.getLogger("snnconv.report")


def main(
    table: str, conversion: dict[str, Any], T_points: Sequence[int], pdf: str, heatmap_pdf: str | None = None
) -> None:
    """Draw the figure next to ``pdf`` (pdf, png, csv) and, given ``heatmap_pdf``, its heatmap (pdf, png); refuses
    results lacking a report T point, naming them."""
    df = read_accuracy_all(table, rates=False)
    check_coverage(df, table, T_points)
    data = plot_coefficient_sweep(df, conversion, T_points, Path(pdf).with_suffix(""))
    if heatmap_pdf is not None:
        plot_sweep_heatmap(data, Path(heatmap_pdf).with_suffix(""))
    log.info("coefficient_sweep: %d plotted points", len(data))


def _bind(sm: Any) -> Any:
    """snakemake object → :func:`main`."""
    return main(
        sm.input.table, dict(sm.params.conversion), list(sm.params.T_points), sm.output.pdf, sm.output.heatmap_pdf
    )


if "snakemake" in globals():
    from snnconv.workflow.job import run_job

    run_job(globals()["snakemake"], _bind)
