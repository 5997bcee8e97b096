# The reproduction report: macros from the results (rule paper_macros), then latexmk (rule paper).
# Not part of the default target: `snakemake paper` (or `make paper`) builds paper/build/main.pdf.
# latexmk/pdflatex come from the system (.ci/apt_packages.sh), not from the conda environment.
# The macros join the report group of the figures and tables (figures.smk); the paper itself is built on the login
# node, where LaTeX is (docs/slurm.md).

import os

from snnconv import resources

# What the paper includes, from the artefact catalogue (snnconv/workflow/artefacts.py).
PAPER_FIGURES = artefacts.paper_files(artefacts.FIGURE)
# Sources live in the repository (also when run with --directory elsewhere); the PDF in the working directory.
PAPER_SOURCES = {k: str(resources.paper_source(f)) for k, f in (("tex", "main.tex"), ("bib", "refs.bib"))}
PAPER_TABLES = artefacts.paper_files(artefacts.TABLE)


rule paper_macros:
    input:
        table=ACCURACY_ALL,
        correlations=artefacts.get("variance_correlation", artefacts.TABLE).path("csv"),
    output:
        **outputs("paper_macros"),
        macros=paths.PAPER_MACROS,
    log:
        artefacts.job_log("paper_macros"),
    benchmark:
        artefacts.job_benchmark("paper_macros")
    group:
        "report"
    conda:
        ENV
    resources:
        **cluster.report_job(),
        **cluster.grouped(),
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
        # of deleting it first; the build itself writes aside and renames (snnconv/paper/build.py), so a killed
        # or failed build leaves the previous paper in place.
        pdf=update(paths.PAPER_PDF),
    log:
        main=artefacts.job_log("paper"),
        latex=artefacts.log_path("paper", "latexmk"),
    benchmark:
        artefacts.job_benchmark("paper")
    conda:
        ENV
    params:
        code=code("build_paper.py"),
        epoch=os.environ.get("SOURCE_DATE_EPOCH", "1637193600"),  # fixed: reproducible PDF bytes
    script:
        "../../scripts/build_paper.py"
