"""Rule fig_firing_rates: firing rate per layer and norm choice at t = T (bars) and against t (lines)."""

from snnconv.workflow import job  # first: an error while importing the rest lands in the rule log

job.start(globals())


import logging
from pathlib import Path
from typing import Any

from snnconv.analysis.load import read_accuracy_all
from snnconv.report.firing_rates import plot_firing_rates, plot_firing_rates_vs_t

log = logging.getLogger("snnconv.report")


def main(table: str, conversion: dict[str, Any], pdf: str, vs_t_pdf: str) -> None:
    """Draw both figures (pdf, png, csv each)."""
    df = read_accuracy_all(table)
    at_T = plot_firing_rates(df, conversion, Path(pdf).with_suffix(""))
    curves = plot_firing_rates_vs_t(df, conversion, Path(vs_t_pdf).with_suffix(""))
    log.info("firing_rates: %d bars, %d curve points", len(at_T), len(curves))


def _bind(sm: Any) -> Any:
    """snakemake object → :func:`main`."""
    return main(sm.input.table, dict(sm.params.conversion), sm.output.pdf, sm.output.vs_t_pdf)


if "snakemake" in globals():
    from snnconv.workflow.job import run_job

    run_job(globals()["snakemake"], _bind)
