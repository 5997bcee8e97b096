"""Rule tables: accuracy at report.T_points (mean ± std), the ANN baseline and timesteps to reach the ANN
within report.within — for conversion.norms (accuracy_main) and for every converted norm (accuracy_full),
each as tidy CSV, booktabs LaTeX and Markdown."""


import logging
from pathlib import Path
from typing import Any, Sequence

from snnconv.plotting.collect import read_accuracy_all
from snnconv.plotting.tables import accuracy_tables
from snnconv.runinfo import setup_logging

log = logging.getLogger("snnconv.plotting")


def main(table: str, conversion: dict[str, Any], T_points: Sequence[int], within: float, main_csv: str,
         full_csv: str) -> None:
    """Write both tables (csv, tex, md each)."""
    df = read_accuracy_all(table, rates=False)
    main_tab = accuracy_tables(df, T_points, within, Path(main_csv).with_suffix(""), norms=list(conversion["norms"]),
                               conversion_cfg=conversion, label_norms=True)
    full_tab = accuracy_tables(df, T_points, within, Path(full_csv).with_suffix(""))
    log.info("tables: %d main rows, %d full rows", len(main_tab), len(full_tab))


if __name__ == "__main__" and "snakemake" in globals():
    setup_logging(snakemake.log[0])
    main(snakemake.input.table, dict(snakemake.params.conversion), list(snakemake.params.T_points),
         float(snakemake.params.within), snakemake.output.main_csv, snakemake.output.full_csv)
