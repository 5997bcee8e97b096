"""Rule paper_macros: every number and result-dependent phrase of the paper as LaTeX macros
(results/paper/macros.tex), plus the per-network L4 comparison table."""

from snnconv.workflow import job  # first: an error while importing the rest lands in the rule log

job.start(globals())

import logging
from pathlib import Path
from typing import Any

import pandas as pd

from snnconv.analysis.controls import control_names
from snnconv.analysis.load import check_coverage, read_accuracy_all
from snnconv.atomic import write_text
from snnconv.paper.l4_table import l4_comparison_table
from snnconv.paper.macro_file import paper_macros

log = logging.getLogger("snnconv.paper")


def main(table: str, correlations: str, run: dict[str, Any], macros_out: str, l4_csv: str) -> None:
    """Write the macro file and the L4 comparison table (csv, tex, md); ``run`` is settings.paper(config).

    The paper prints simulation.T and the report T points, so results whose simulations do not end at that T or
    lack a T point are refused, naming the table and the simulation.
    """
    df = read_accuracy_all(table, rates=False)
    check_coverage(df, table, run["T_points"], T=int(run["simulation"]["T"]))
    corr = pd.read_csv(correlations)
    text, per_net = paper_macros(df, corr, run)
    write_text(macros_out, text)
    l4 = control_names(df, run)["l4"]
    base = str(df.loc[df["norm"] == l4, "base"].iloc[0]) if l4 else "max"
    l4_comparison_table(per_net, str(Path(l4_csv).with_suffix("")), base=base)
    log.info("%d macros -> %s", text.count("\\newcommand"), macros_out)


def _bind(sm: Any) -> None:
    """snakemake object → :func:`main`."""
    main(sm.input.table, sm.input.correlations, dict(sm.params.run), sm.output.macros, sm.output.l4_csv)


if "snakemake" in globals():
    from snnconv.workflow.job import run_job

    run_job(globals()["snakemake"], _bind)
