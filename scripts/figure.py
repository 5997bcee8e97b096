"""The rule of every chart (a figure of snnconv/workflow/artefacts.py with a ``drawer``): read accuracy_all.csv,
refuse it unless every simulation reaches each report T point, and call ``snnconv.report.<drawer>.draw``."""

from snnconv.workflow import job  # first: an error while importing the rest lands in the rule log

job.start(globals())

import importlib
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from snnconv.analysis.load import check_coverage, read_accuracy_all

log = logging.getLogger("snnconv.report")


def main(table: str, drawer: str, conversion: dict[str, Any], T_points: Sequence[int], pdf: str) -> None:
    """Draw chart ``drawer`` next to ``pdf`` (pdf, png and the plotted numbers as csv). A drawer module that sets
    ``READS_RATES = True`` gets the firing-rate columns too (left out otherwise: they are most of the table)."""
    module = importlib.import_module(f"snnconv.report.{drawer}")
    df = read_accuracy_all(table, rates=bool(getattr(module, "READS_RATES", False)))
    check_coverage(df, table, T_points)
    data = module.draw(df, conversion=conversion, T_points=list(T_points), stem=Path(pdf).with_suffix(""))
    log.info("%s: %d plotted points", drawer, len(data))


def _bind(sm: Any) -> Any:
    """snakemake object → :func:`main`."""
    return main(sm.input.table, sm.params.drawer, dict(sm.params.conversion), list(sm.params.T_points), sm.output.pdf)


if "snakemake" in globals():
    from snnconv.workflow.job import run_job

    run_job(globals()["snakemake"], _bind)
