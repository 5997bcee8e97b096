"""Rule aggregate: every simulation CSV + the ANN accuracy of its training seed + the norm's recorded parameters,
in one tidy table (results/tables/accuracy_all.csv) that the figure and table rules read."""

from snnconv.workflow import job  # first: an error while importing the rest lands in the rule log

job.start(globals())


import logging
from collections.abc import Sequence
from typing import Any

from snnconv.analysis.load import aggregate
from snnconv.atomic import write_csv

log = logging.getLogger("snnconv.analysis")


def main(
    sim_csvs: Sequence[str], summaries: Sequence[str], conversions: Sequence[str], out: str, T: int | None = None
) -> int:
    """Concatenate and write; returns the number of rows. Each norm's parameters come from its conversion.json;
    with ``T`` (simulation.T) a simulation CSV that does not hold t = 1..T is refused, naming it."""
    table = aggregate(sim_csvs, summaries, conversions, T)
    write_csv(out, table, float_format="%.6g")
    log.info("%d rows from %d simulation files, %d ANN summaries -> %s", len(table), len(sim_csvs), len(summaries), out)
    return len(table)


def _bind(sm: Any) -> Any:
    """snakemake object → :func:`main`."""
    return main(
        list(sm.input.sims), list(sm.input.summaries), list(sm.input.conversions), sm.output.table, int(sm.params.T)
    )


if "snakemake" in globals():
    from snnconv.workflow.job import run_job

    run_job(globals()["snakemake"], _bind)
