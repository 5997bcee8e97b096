"""Rule fig_variance_claim: measured membrane std vs ‖w‖_p (p = 1, 2, 3, 4, ∞) and the exact prediction,
per layer; the correlation table (Pearson, Spearman, best p) and two figures (scatter grid, summary)."""


import logging
from pathlib import Path
from typing import Sequence

from snnconv.plotting.variance_claim import (best_predictor, correlation_table, load_stats, plot_correlation_summary,
                                             plot_variance_scatter, variance_correlations)
from snnconv.runinfo import setup_logging

log = logging.getLogger("snnconv.plotting")


def main(stats: Sequence[str], networks: Sequence[str], scatter_pdf: str, summary_pdf: str, table_csv: str) -> None:
    """Compute correlations, write the table (csv/tex/md) and both figures."""
    data = load_stats(stats, networks)
    corr = variance_correlations(data)
    correlation_table(corr, Path(table_csv).with_suffix(""))
    plot_correlation_summary(corr, Path(summary_pdf).with_suffix(""))
    plot_variance_scatter(data, Path(scatter_pdf).with_suffix(""))
    best = best_predictor(corr)
    if len(best):
        log.info("mean Spearman per predictor:\n%s", best.to_string(index=False))
        log.info("best p: %s", best["predictor"].iloc[0])


if __name__ == "__main__" and "snakemake" in globals():
    setup_logging(snakemake.log[0])
    main(list(snakemake.input.stats), list(snakemake.input.networks), snakemake.output.scatter_pdf,
         snakemake.output.summary_pdf, snakemake.output.table_csv)
