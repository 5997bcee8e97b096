"""Rule tables: accuracy at report.T_points (mean ± std), the ANN baseline and timesteps to reach the ANN
within report.within — for conversion.norms (accuracy_main) and for every converted norm (accuracy_full) —
and the best norm per T with its lead over the runner-up against the seed spread (best_method), each as tidy
CSV, booktabs LaTeX and Markdown."""

from snnconv.workflow import job  # first: an error while importing the rest lands in the rule log

job.start(globals())


import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from snnconv.analysis.load import check_coverage, read_accuracy_all
from snnconv.report.tables import accuracy_tables, best_method_table

log = logging.getLogger("snnconv.report")


def main(
    table: str,
    conversion: dict[str, Any],
    T_points: Sequence[int],
    within: float,
    main_csv: str,
    full_csv: str,
    best_csv: str | None = None,
) -> None:
    """Write the accuracy tables and, with ``best_csv``, the best-method table (csv, tex, md each); refuses
    results that lack a T point (a column of the tables) in some simulation, naming the table and the simulation."""
    df = read_accuracy_all(table, rates=False)
    check_coverage(df, table, T_points)
    main_tab = accuracy_tables(
        df,
        T_points,
        within,
        Path(main_csv).with_suffix(""),
        norms=list(conversion["norms"]),
        conversion_cfg=conversion,
        label_norms=True,
    )
    full_tab = accuracy_tables(df, T_points, within, Path(full_csv).with_suffix(""))
    log.info("tables: %d main rows, %d full rows", len(main_tab), len(full_tab))
    if best_csv is not None:
        best = best_method_table(df, T_points, list(conversion["norms"]), Path(best_csv).with_suffix(""))
        for r in best[best["scope"] == "main"].itertuples(index=False):
            log.info(
                "%s/%s T=%d: best %s %.4f, lead %+.4f over %s (%s)",
                r.dataset,
                r.arch,
                r.T,
                r.best,
                r.best_mean,
                r.lead,
                r.runner_up,
                "clear" if r.clear else "within the spread",
            )


def _bind(sm: Any) -> Any:
    """snakemake object → :func:`main`."""
    return main(
        sm.input.table,
        dict(sm.params.conversion),
        list(sm.params.T_points),
        float(sm.params.within),
        sm.output.main_csv,
        sm.output.full_csv,
        sm.output.best_csv,
    )


if "snakemake" in globals():
    from snnconv.workflow.job import run_job

    run_job(globals()["snakemake"], _bind)
