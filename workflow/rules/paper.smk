# The reproduction report: macros from the results (rule paper_macros), then latexmk (rule paper).
# Not part of the default target: `snakemake paper` (or `make paper`) builds paper/build/main.pdf.
# latexmk/pdflatex come from the system (.ci/apt_packages.sh), not from the conda environment.

import os

from snnconv import resources

PAPER_FIGURES = [
    f"{FIGURES}/{name}.pdf"
    for name in ("accuracy_vs_T", "low_T_gap", "variance_correlation", "coefficient_sweep", "firing_rates")
]
# Sources live in the repository (also when run with --directory elsewhere); the PDF in the working directory.
PAPER_SOURCES = {k: str(resources.paper_source(f)) for k, f in (("tex", "main.tex"), ("bib", "refs.bib"))}
PAPER_TABLES = [f"{TABLES}/accuracy_main.tex", f"{TABLES}/variance_correlation.tex", f"{TABLES}/l4_comparison.tex"]


rule paper_macros:
    input:
        table=ACCURACY_ALL,
        correlations=f"{TABLES}/variance_correlation.csv",
    output:
        macros=paths.PAPER_MACROS,
        l4_csv=f"{TABLES}/l4_comparison.csv",
        l4_tex=f"{TABLES}/l4_comparison.tex",
        l4_md=f"{TABLES}/l4_comparison.md",
    log:
        "logs/paper/paper_macros.log",
    benchmark:
        "benchmarks/paper/paper_macros.tsv"
    conda:
        ENV
    params:
        code=code("paper_macros.py"),
        run=settings.paper(config),
    script:
        "../../scripts/paper_macros.py"


rule paper:
    input:
        tex=PAPER_SOURCES["tex"],
        bib=PAPER_SOURCES["bib"],
        macros=paths.PAPER_MACROS,
        figures=PAPER_FIGURES,
        tables=PAPER_TABLES,
    output:
        # update(): Snakemake keeps the previous PDF while the job runs, and restores it if the job fails, instead
        # of deleting it first; the build itself writes aside and renames (snnconv/report/paper.py), so a killed
        # or failed build leaves the previous paper in place.
        pdf=update("paper/build/main.pdf"),
    log:
        main="logs/paper/paper.log",
        latex="logs/paper/latexmk.log",
    benchmark:
        "benchmarks/paper/paper.tsv"
    conda:
        ENV
    params:
        code=code("build_paper.py"),
        epoch=os.environ.get("SOURCE_DATE_EPOCH", "1637193600"),  # fixed: reproducible PDF bytes
    script:
        "../../scripts/build_paper.py"
