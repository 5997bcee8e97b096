"""Rule aggregate: every simulation CSV + the ANN accuracy of its training seed + the parsed norm name,
in one tidy table (results/tables/accuracy_all.csv) that the figure and table rules read."""


import logging
from typing import Any, Sequence

from snnconv.atomic import write_csv
from snnconv.plotting.collect import aggregate
from snnconv.runinfo import setup_logging

log = logging.getLogger("snnconv.plotting")


def main(sim_csvs: Sequence[str], summaries: Sequence[str], conversion: dict[str, Any], out: str) -> int:
    """Concatenate and write; returns the number of rows."""
    table = aggregate(sim_csvs, summaries, conversion)
    write_csv(out, table, float_format="%.6g")
    log.info("%d rows from %d simulation files, %d ANN summaries -> %s", len(table), len(sim_csvs), len(summaries), out)
    return len(table)


if __name__ == "__main__" and "snakemake" in globals():
    setup_logging(snakemake.log[0])
    main(list(snakemake.input.sims), list(snakemake.input.summaries), dict(snakemake.params.conversion),
         snakemake.output.table)
