"""Rule fig_variance_claim: measured membrane std vs ‖w‖_p (p = 1, 2, 3, 4, ∞) and the exact prediction,
per layer; the correlation table (Pearson, Spearman, best p) and two figures (scatter grid, summary)."""

from snnconv.workflow import job  # first: an error while importing the rest lands in the rule log

job.start(globals())


import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from snnconv.analysis.correlations import best_predictor, load_stats, variance_correlations
from snnconv.report.variance_claim import correlation_table, plot_correlation_summary, plot_variance_scatter

log = logging.getLogger("snnconv.report")


def main(stats: Sequence[str], networks: Sequence[str], scatter_pdf: str, summary_pdf: str, table_csv: str) -> None:
    """Compute correlations, write the table (csv/tex/md) and both figures.

    The workflow's statistics CSVs carry their weight norms; ``networks`` serves CSVs that lack them.
    """
    data = load_stats(stats, networks)
    corr = variance_correlations(data)
    correlation_table(corr, Path(table_csv).with_suffix(""))
    plot_correlation_summary(corr, Path(summary_pdf).with_suffix(""))
    plot_variance_scatter(data, Path(scatter_pdf).with_suffix(""))
    best = best_predictor(corr)
    if len(best):
        log.info("mean Spearman per predictor:\n%s", best.to_string(index=False))
        log.info("best p: %s", best["predictor"].iloc[0])


def _bind(sm: Any) -> Any:
    """snakemake object → :func:`main`."""
    return main(list(sm.input.stats), [], sm.output.scatter_pdf, sm.output.summary_pdf, sm.output.table_csv)


if "snakemake" in globals():
    from snnconv.workflow.job import run_job

    run_job(globals()["snakemake"], _bind)
