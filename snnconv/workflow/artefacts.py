"""The one catalogue of the figures and tables the workflow writes, and the one template of logs and benchmarks.

An :class:`Artefact` is one figure or table: its stem (``results/figures/<stem>.<format>``), the formats its rule
writes, the rule, the name under which the rule's script reads each file (``snakemake.output.<key><format>``),
the caption of Snakemake's HTML report (``workflow/report/<caption>``), whether the paper shows it, whether a
published results snapshot must hold it, and whether the snapshot's README inlines it (headline). Every place
that needs these facts derives them from :data:`CATALOGUE`: the rules' ``output:`` and the default target
(``workflow/rules/figures.smk``), the paper's inputs (``paper.smk``), the snapshot tool
(:mod:`snnconv.publish`) and the summary. Adding a figure drawn from the results table (a
chart) is one entry here plus the module of snnconv.report that draws it: its rule is generated from the entry
(docs/figures.md, "Adding a figure").

Every rule's log and benchmark path comes from :func:`log_path` / :func:`benchmark_path` with the group and
stem of :data:`JOBS`; the snapshot tool maps a benchmark file back to its rule with the same table.

No torch import (read while Snakemake builds the DAG).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from . import paths

FIGURE, TABLE = "figure", "table"
LOGS, BENCHMARKS = "logs", "benchmarks"


@dataclass(frozen=True)
class Artefact:
    """One figure or table of the workflow (see the module docstring for the fields)."""

    stem: str
    kind: str  # FIGURE | TABLE
    formats: tuple[str, ...]
    rule: str  # the rule that writes it
    key: str = ""  # prefix of its output names in the rule (snakemake.output.<key><name>)
    caption: str | None = None  # workflow/report/<caption>, shown with its report file in Snakemake's report
    paper: bool = False  # paper/main.tex includes it
    published: bool = False  # a results snapshot must hold it (its PNG, or its CSV and Markdown)
    headline: bool = False  # the snapshot's README inlines it
    default: bool = True  # built by `snakemake` (the default target); else only for the paper
    drawer: str = ""  # a chart: the module of snnconv.report whose draw() makes it from accuracy_all.csv

    def __post_init__(self) -> None:
        """A chart's rule is generated from this entry, so its name follows from the stem (one spelling)."""
        if self.drawer and (self.kind != FIGURE or self.rule != chart_rule(self.stem)):
            raise ValueError(
                f"artefact {self.stem!r}: a chart (drawer {self.drawer!r}) is a figure whose rule is "
                f"{chart_rule(self.stem)!r}, got kind {self.kind!r} and rule {self.rule!r}"
            )

    @property
    def folder(self) -> str:
        """Where it is written: results/figures or results/tables."""
        return paths.FIGURES if self.kind == FIGURE else paths.TABLES

    def path(self, fmt: str) -> str:
        """Its file of format ``fmt``."""
        if fmt not in self.formats:
            raise KeyError(f"{self.stem} ({self.kind}) is not written as .{fmt} (formats {self.formats})")
        return f"{self.folder}/{self.stem}.{fmt}"

    def files(self) -> list[str]:
        """Every file it is written as, in :attr:`formats` order."""
        return [self.path(fmt) for fmt in self.formats]

    @property
    def report_format(self) -> str:
        """The file Snakemake's HTML report shows with the caption: the PNG of a figure, the CSV of a table."""
        return "png" if self.kind == FIGURE else "csv"

    @property
    def paper_format(self) -> str:
        """The file the paper includes: the PDF of a figure, the LaTeX of a table."""
        return "pdf" if self.kind == FIGURE else "tex"

    @property
    def published_formats(self) -> tuple[str, ...]:
        """The files a snapshot publishes: a figure's PNG, a table's CSV and Markdown."""
        return ("png",) if self.kind == FIGURE else ("csv", "md")

    def output_name(self, fmt: str) -> str:
        """The name of its ``fmt`` file among its rule's outputs (a figure's plotted numbers are ``data``)."""
        return self.key + ("data" if self.kind == FIGURE and fmt == "csv" else fmt)


def chart_rule(stem: str) -> str:
    """The rule that draws chart ``stem``: ``fig_<stem>`` (workflow/rules/figures.smk makes one per chart)."""
    return f"fig_{stem}"


PLOTTED = ("pdf", "png", "csv")  # a figure with its plotted numbers beside it
DRAWN = ("pdf", "png")
TABULAR = ("csv", "tex", "md")


CATALOGUE: tuple[Artefact, ...] = (
    # figures, in the paper's order where the paper shows them
    Artefact(
        "accuracy_vs_T",
        formats=PLOTTED,
        rule=chart_rule("accuracy_vs_T"),
        drawer="accuracy_vs_T",
        caption="accuracy_vs_T.rst",
        kind=FIGURE,
        paper=True,
        published=True,
    ),
    Artefact(
        "low_T_gap",
        formats=PLOTTED,
        rule=chart_rule("low_T_gap"),
        drawer="low_T_gap",
        caption="low_T_gap.rst",
        kind=FIGURE,
        paper=True,
        published=True,
    ),
    Artefact(
        "variance_correlation",
        formats=DRAWN,
        rule="fig_variance_claim",
        key="summary_",
        caption="variance_correlation.rst",
        kind=FIGURE,
        paper=True,
        published=True,
    ),
    Artefact(
        "coefficient_sweep",
        formats=PLOTTED,
        rule="fig_coefficient_sweep",
        caption="coefficient_sweep.rst",
        kind=FIGURE,
        paper=True,
        published=True,
    ),
    Artefact(
        "firing_rates",
        formats=PLOTTED,
        rule="fig_firing_rates",
        caption="firing_rates.rst",
        kind=FIGURE,
        paper=True,
        published=True,
    ),
    Artefact(
        "firing_rates_vs_t",
        formats=PLOTTED,
        rule="fig_firing_rates",
        key="vs_t_",
        caption="firing_rates_vs_t.rst",
        kind=FIGURE,
        published=True,
    ),
    Artefact(
        "variance_claim",
        formats=DRAWN,
        rule="fig_variance_claim",
        key="scatter_",
        caption="variance_claim.rst",
        kind=FIGURE,
        published=True,
    ),
    Artefact(
        "coefficient_sweep_heatmap",
        formats=DRAWN,
        rule="fig_coefficient_sweep",
        key="heatmap_",
        caption="coefficient_sweep_heatmap.rst",
        kind=FIGURE,
    ),
    # tables (the paper's, in its order, among them); accuracy_all: every simulation row, which the snapshot
    # copies on its own terms (verbatim or gzipped)
    Artefact("accuracy_all", formats=("csv",), rule="aggregate", kind=TABLE),
    Artefact(
        "accuracy_main",
        formats=TABULAR,
        rule="tables",
        key="main_",
        caption="accuracy_table.rst",
        kind=TABLE,
        paper=True,
        published=True,
        headline=True,
    ),
    Artefact(
        "accuracy_full",
        formats=TABULAR,
        rule="tables",
        key="full_",
        caption="accuracy_table.rst",
        kind=TABLE,
        published=True,
    ),
    Artefact(
        "best_method",
        formats=TABULAR,
        rule="tables",
        key="best_",
        caption="best_method.rst",
        kind=TABLE,
        published=True,
        headline=True,
    ),
    Artefact("l4_comparison", formats=TABULAR, rule="paper_macros", key="l4_", default=False, kind=TABLE, paper=True),
    Artefact(
        "variance_correlation",
        formats=TABULAR,
        rule="fig_variance_claim",
        key="table_",
        caption="variance_correlation_table.rst",
        kind=TABLE,
        paper=True,
        published=True,
        headline=True,
    ),
)


def figures() -> list[Artefact]:
    """Every figure of the catalogue."""
    return [a for a in CATALOGUE if a.kind == FIGURE]


def charts() -> list[Artefact]:
    """The figures drawn from accuracy_all.csv by a ``draw()`` of snnconv.report, one generated rule each."""
    return [a for a in CATALOGUE if a.drawer]


def tables() -> list[Artefact]:
    """Every table of the catalogue."""
    return [a for a in CATALOGUE if a.kind == TABLE]


def get(stem: str, kind: str) -> Artefact:
    """The catalogue entry of a figure or table (a stem may name one of each: ``variance_correlation``)."""
    for a in CATALOGUE:
        if a.stem == stem and a.kind == kind:
            return a
    raise KeyError(f"no {kind} {stem!r} in the artefact catalogue (snnconv/workflow/artefacts.py)")


def of_rule(rule: str) -> list[Artefact]:
    """The figures and tables a rule writes."""
    return [a for a in CATALOGUE if a.rule == rule]


def default_targets() -> list[str]:
    """Every file of every artefact the default target builds (the paper's own tables are not among them)."""
    return [f for a in CATALOGUE if a.default for f in a.files()]


def paper_files(kind: str) -> list[str]:
    """The files the paper includes: its figures' PDFs or its tables' LaTeX, in the paper's order."""
    return [a.path(a.paper_format) for a in CATALOGUE if a.paper and a.kind == kind]


def published(kind: str) -> list[str]:
    """Stems of the figures or tables a results snapshot must hold."""
    return [a.stem for a in CATALOGUE if a.published and a.kind == kind]


def headline_tables() -> list[str]:
    """Stems of the tables the snapshot's README inlines."""
    return [a.stem for a in CATALOGUE if a.headline and a.kind == TABLE]


# ------------------------------------------------------------------------------------- logs and benchmarks


def log_path(group: str, stem: str) -> str:
    """The log of a job: ``logs/<group>/<stem>.log`` (``stem`` may hold wildcards)."""
    return f"{LOGS}/{group}/{stem}.log"


def benchmark_path(group: str, stem: str) -> str:
    """The benchmark TSV of a job: ``benchmarks/<group>/<stem>.tsv`` (``stem`` may hold wildcards)."""
    return f"{BENCHMARKS}/{group}/{stem}.tsv"


_PER_MODEL = "{dataset}/{arch}/seed{seed}"
# Per rule: the folder its jobs' logs and benchmarks go to, and the file stem (one per job: its wildcards).
JOBS: dict[str, tuple[str, str]] = {
    "download_data": ("download_data", "{dataset}"),
    "prepare_data": ("prepare_data", "{dataset}"),
    "train_ann": ("train_ann", _PER_MODEL),
    "train_qcfs": ("train_qcfs", _PER_MODEL),
    "normalize": ("normalize", _PER_MODEL + "/{base}"),
    "simulate": ("simulate", _PER_MODEL + "/{norm}"),
    "membrane_stats": ("membrane_stats", _PER_MODEL + "/{norm}"),
    "export_nir": ("export_nir", _PER_MODEL + "/{norm}"),
    "aggregate": ("figures", "aggregate"),
    "fig_variance_claim": ("figures", "variance_claim"),
    "fig_coefficient_sweep": ("figures", "coefficient_sweep"),
    "fig_firing_rates": ("figures", "firing_rates"),
    "tables": ("figures", "tables"),
    "paper_macros": ("paper", "paper_macros"),
    "paper": ("paper", "paper"),
    **{a.rule: ("figures", a.stem) for a in charts()},
}


def job_log(rule: str) -> str:
    """The log path template of ``rule``'s jobs."""
    return log_path(*JOBS[rule])


def job_benchmark(rule: str) -> str:
    """The benchmark path template of ``rule``'s jobs."""
    return benchmark_path(*JOBS[rule])


def _template_regex(template: str) -> re.Pattern[str]:
    """A full-match regex for a path template (each ``{wildcard}`` matches one or more characters but ``/``)."""
    parts = re.split(r"\{[^{}]+\}", template)
    return re.compile("[^/]+?".join(re.escape(p) for p in parts) + "$")


def rule_of_benchmark(relpath: str) -> str:
    """The rule whose benchmark template ``relpath`` (``benchmarks/...``) matches, else its first folder."""
    for rule in JOBS:
        if _template_regex(job_benchmark(rule)).fullmatch(relpath):
            return rule
    parts = relpath.split("/")
    return parts[1] if len(parts) > 2 else relpath.rsplit("/", 1)[-1].rsplit(".", 1)[0]
