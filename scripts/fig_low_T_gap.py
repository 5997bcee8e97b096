"""Rule fig_low_T_gap: SNN − ANN accuracy at every report T per method, the L4 controls beside l4."""

from snnconv import job  # first: an error while importing the rest lands in the rule log

job.start(globals())


import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from snnconv.analysis.load import check_coverage, read_accuracy_all
from snnconv.report.low_T_gap import plot_low_T_gap

log = logging.getLogger("snnconv.report")


def main(table: str, conversion: dict[str, Any], T_points: Sequence[int], pdf: str) -> None:
    """Draw the figure next to ``pdf`` (pdf, png, csv); refuses results lacking a report T point, naming them."""
    df = read_accuracy_all(table, rates=False)
    check_coverage(df, table, T_points)
    data = plot_low_T_gap(df, conversion, T_points, Path(pdf).with_suffix(""))
    log.info("low_T_gap: %d plotted points", len(data))


def _bind(sm: Any) -> Any:
    """snakemake object → :func:`main`."""
    return main(sm.input.table, dict(sm.params.conversion), list(sm.params.T_points), sm.output.pdf)


if "snakemake" in globals():
    from snnconv.job import run_job

    run_job(globals()["snakemake"], _bind)
