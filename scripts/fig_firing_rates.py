"""Rule fig_firing_rates: firing rate per layer and norm choice at t = T (bars) and against t (lines)."""


import logging
from pathlib import Path
from typing import Any

from snnconv.plotting.collect import read_accuracy_all
from snnconv.plotting.firing_rates import plot_firing_rates, plot_firing_rates_vs_t
from snnconv.runinfo import setup_logging

log = logging.getLogger("snnconv.plotting")


def main(table: str, conversion: dict[str, Any], pdf: str, vs_t_pdf: str) -> None:
    """Draw both figures (pdf, png, csv each)."""
    df = read_accuracy_all(table)
    at_T = plot_firing_rates(df, conversion, Path(pdf).with_suffix(""))
    curves = plot_firing_rates_vs_t(df, conversion, Path(vs_t_pdf).with_suffix(""))
    log.info("firing_rates: %d bars, %d curve points", len(at_T), len(curves))


if __name__ == "__main__" and "snakemake" in globals():
    setup_logging(snakemake.log[0])
    main(snakemake.input.table, dict(snakemake.params.conversion), snakemake.output.pdf, snakemake.output.vs_t_pdf)
