"""Rule paper: copy paper sources, figures, tables and macros into paper/build and run latexmk -pdf there
(SOURCE_DATE_EPOCH fixed, so the PDF is reproducible)."""

from snnconv.workflow import job  # first: an error while importing the rest lands in the rule log

job.start(globals())


import logging
from collections.abc import Sequence
from typing import Any

from snnconv.paper.build import build_paper

log = logging.getLogger("snnconv.paper")


def main(
    tex: str,
    bib: str,
    macros: str,
    figures: Sequence[str],
    tables: Sequence[str],
    pdf: str,
    epoch: str,
    latex_log: str | None = None,
) -> None:
    """Build ``pdf``."""
    build_paper(tex, bib, macros, figures, tables, pdf, epoch=epoch, log_path=latex_log)
    log.info("built %s", pdf)


def _bind(sm: Any) -> Any:
    """snakemake object → :func:`main`."""
    return main(
        sm.input.tex,
        sm.input.bib,
        sm.input.macros,
        list(sm.input.figures),
        list(sm.input.tables),
        sm.output.pdf,
        str(sm.params.epoch),
        sm.log.latex,
    )


if "snakemake" in globals():
    from snnconv.workflow.job import run_job

    run_job(globals()["snakemake"], _bind)
