"""Rule fig_accuracy_vs_T: accuracy against time per dataset × arch, one line per conversion.norms entry."""


import logging
from pathlib import Path
from typing import Any

from snnconv.plotting.accuracy_vs_T import plot_accuracy_vs_T
from snnconv.plotting.collect import read_accuracy_all
from snnconv.runinfo import setup_logging

log = logging.getLogger("snnconv.plotting")


def main(table: str, conversion: dict[str, Any], pdf: str) -> None:
    """Draw the figure next to ``pdf`` (pdf, png and the plotted numbers as csv)."""
    data = plot_accuracy_vs_T(read_accuracy_all(table, rates=False), conversion, Path(pdf).with_suffix(""))
    log.info("accuracy_vs_T: %d plotted points", len(data))


if __name__ == "__main__" and "snakemake" in globals():
    setup_logging(snakemake.log[0])
    main(snakemake.input.table, dict(snakemake.params.conversion), snakemake.output.pdf)
