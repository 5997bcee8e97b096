"""Rule paper: copy paper sources, figures, tables and macros into paper/build and run latexmk -pdf there
(SOURCE_DATE_EPOCH fixed, so the PDF is reproducible)."""


import logging
from typing import Sequence

from snnconv.plotting.paper import build_paper
from snnconv.runinfo import setup_logging

log = logging.getLogger("snnconv.plotting")


def main(tex: str, bib: str, macros: str, figures: Sequence[str], tables: Sequence[str], pdf: str, epoch: str,
         latex_log: str | None = None) -> None:
    """Build ``pdf``."""
    build_paper(tex, bib, macros, figures, tables, pdf, epoch=epoch, log_path=latex_log)
    log.info("built %s", pdf)


if __name__ == "__main__" and "snakemake" in globals():
    setup_logging(snakemake.log[0])
    main(snakemake.input.tex, snakemake.input.bib, snakemake.input.macros, list(snakemake.input.figures),
         list(snakemake.input.tables), snakemake.output.pdf, str(snakemake.params.epoch), snakemake.log.latex)
