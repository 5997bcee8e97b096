"""Rule fig_accuracy_vs_T: accuracy against time per dataset × arch, one line per conversion.norms entry."""

from snnconv import job  # first: an error while importing the rest lands in the rule log

job.start(globals())


import logging
from pathlib import Path
from typing import Any

from snnconv.analysis.load import read_accuracy_all
from snnconv.report.accuracy_vs_T import plot_accuracy_vs_T

log = logging.getLogger("snnconv.report")


def main(table: str, conversion: dict[str, Any], pdf: str) -> None:
    """Draw the figure next to ``pdf`` (pdf, png and the plotted numbers as csv)."""
    data = plot_accuracy_vs_T(read_accuracy_all(table, rates=False), conversion, Path(pdf).with_suffix(""))
    log.info("accuracy_vs_T: %d plotted points", len(data))


def _bind(sm: Any) -> Any:
    """snakemake object → :func:`main`."""
    return main(sm.input.table, dict(sm.params.conversion), sm.output.pdf)


if "snakemake" in globals():
    from snnconv.job import run_job

    run_job(globals()["snakemake"], _bind)
