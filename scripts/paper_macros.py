"""Rule paper_macros: every number and result-dependent phrase of the paper as LaTeX macros
(results/paper/macros.tex), plus the per-network L4 comparison table."""


import logging
from pathlib import Path
from typing import Any

import pandas as pd

from snnconv.atomic import write_text
from snnconv.plotting.collect import read_accuracy_all
from snnconv.plotting.macros import l4_comparison_table, paper_macros
from snnconv.runinfo import setup_logging

log = logging.getLogger("snnconv.plotting")


def main(table: str, correlations: str, config: dict[str, Any], macros_out: str, l4_csv: str) -> None:
    """Write the macro file and the L4 comparison table (csv, tex, md)."""
    df = read_accuracy_all(table, rates=False)
    corr = pd.read_csv(correlations)
    text, per_net = paper_macros(df, corr, config)
    write_text(macros_out, text)
    l4_comparison_table(per_net, str(Path(l4_csv).with_suffix("")), base=config["conversion"]["l4"]["base"])
    log.info("%d macros -> %s", text.count("\\newcommand"), macros_out)


if __name__ == "__main__" and "snakemake" in globals():
    setup_logging(snakemake.log[0])
    main(snakemake.input.table, snakemake.input.correlations, dict(snakemake.config), snakemake.output.macros,
         snakemake.output.l4_csv)
