"""Rule tables: accuracy at report.T_points (mean ± std), the ANN baseline and timesteps to reach the ANN
within report.within — for conversion.norms (accuracy_main) and for every converted norm (accuracy_full),
each as tidy CSV, booktabs LaTeX and Markdown."""

from snnconv import job  # first: an error while importing the rest lands in the rule log

job.start(globals())


import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from snnconv.analysis.load import read_accuracy_all
from snnconv.report.tables import accuracy_tables

log = logging.getLogger("snnconv.report")


def main(
    table: str, conversion: dict[str, Any], T_points: Sequence[int], within: float, main_csv: str, full_csv: str
) -> None:
    """Write both tables (csv, tex, md each)."""
    df = read_accuracy_all(table, rates=False)
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


def _bind(sm: Any) -> Any:
    """snakemake object → :func:`main`."""
    return main(
        sm.input.table,
        dict(sm.params.conversion),
        list(sm.params.T_points),
        float(sm.params.within),
        sm.output.main_csv,
        sm.output.full_csv,
    )


if "snakemake" in globals():
    from snnconv.job import run_job

    run_job(globals()["snakemake"], _bind)
