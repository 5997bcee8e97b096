"""Rule fig_coefficient_sweep: gain of every L_p adjustment (and the uniform control) over its base
normalization against the coefficient k, at a few of report.T_points."""


import logging
from pathlib import Path
from typing import Any, Sequence

from snnconv.plotting.coefficient_sweep import plot_coefficient_sweep
from snnconv.plotting.collect import read_accuracy_all
from snnconv.runinfo import setup_logging

log = logging.getLogger("snnconv.plotting")


def main(table: str, conversion: dict[str, Any], T_points: Sequence[int], pdf: str) -> None:
    """Draw the figure next to ``pdf`` (pdf, png, csv)."""
    data = plot_coefficient_sweep(read_accuracy_all(table, rates=False), conversion, T_points, Path(pdf).with_suffix(""))
    log.info("coefficient_sweep: %d plotted points", len(data))


if __name__ == "__main__" and "snakemake" in globals():
    setup_logging(snakemake.log[0])
    main(snakemake.input.table, dict(snakemake.params.conversion), list(snakemake.params.T_points),
         snakemake.output.pdf)
