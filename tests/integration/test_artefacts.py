"""The artefact catalogue (snnconv/workflow/artefacts.py) agrees with the workflow, the report captions and the paper.

The catalogue is the one place that names the figures and tables; these tests check that what it says is what
the rest of the repository does: every caption file it names exists (and every caption is named), every figure
and table the paper includes is a catalogue entry marked ``paper`` (and the other way round), every file the
rules write under results/figures and results/tables is a catalogue file of the same rule, and every job's log
and benchmark path is the catalogue's template filled with the job's wildcards.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from snnconv import paths
from snnconv.workflow import artefacts

pytestmark = pytest.mark.integration  # a Snakemake dry run and fresh interpreters
REPO = Path(__file__).resolve().parents[2]
CAPTIONS = REPO / "workflow" / "report"
RULES = REPO / "workflow" / "rules"


def test_stems_are_unique_per_kind_and_files_unique():
    keys = [(a.stem, a.kind) for a in artefacts.CATALOGUE]
    assert len(keys) == len(set(keys))
    files = [f for a in artefacts.CATALOGUE for f in a.files()]
    assert len(files) == len(set(files))
    assert artefacts.get("accuracy_all", artefacts.TABLE).path("csv") == paths.ACCURACY_ALL
    assert {a.rule for a in artefacts.CATALOGUE} <= set(artefacts.JOBS)


def test_every_caption_file_exists_and_every_caption_is_used():
    named = {a.caption for a in artefacts.CATALOGUE if a.caption}
    assert all((CAPTIONS / c).is_file() for c in named), sorted(c for c in named if not (CAPTIONS / c).is_file())
    on_disk = {p.name for p in CAPTIONS.glob("*.rst")} - {"workflow.rst"}  # workflow.rst: the report's front page
    assert on_disk == named


def _paper_includes() -> tuple[set[str], set[str]]:
    tex = (REPO / "paper" / "main.tex").read_text()
    tex = "\n".join(line.split("%", 1)[0] for line in tex.splitlines())  # comments are not includes
    figures = set(re.findall(r"\\includegraphics(?:\[[^\]]*\])?\{([^}]+)\.pdf\}", tex))
    tables = set(re.findall(r"\\input\{tables/([^}]+)\.tex\}", tex))
    return figures, tables


def test_the_paper_includes_exactly_the_catalogues_paper_artefacts():
    figures, tables = _paper_includes()
    assert figures == {a.stem for a in artefacts.figures() if a.paper}
    assert tables == {a.stem for a in artefacts.tables() if a.paper}


def test_published_and_headline_artefacts_are_built_by_default():
    for a in artefacts.CATALOGUE:
        if a.published or a.headline:
            assert a.default and set(a.published_formats) <= set(a.formats), a


def test_every_rule_names_its_log_and_benchmark_through_the_template():
    """No hand-written log or benchmark path is left in the rule files: each rule asks the template by its name."""
    rules_seen = set()
    for smk in sorted(RULES.glob("*.smk")):
        text = smk.read_text()
        assert not re.search(r"[\"'](logs|benchmarks)/", text), f"{smk.name}: a hand-written log/benchmark path"
        for block in re.split(r"^(?=rule )", text, flags=re.M)[1:]:
            rule = re.match(r"rule (\w+):", block).group(1)
            if "log:" not in block and "benchmark:" not in block:
                continue  # a target rule (all, nir): no job of its own
            rules_seen.add(rule)
            assert f'artefacts.job_log("{rule}")' in block, rule
            assert f'artefacts.job_benchmark("{rule}")' in block, rule
    assert rules_seen == set(artefacts.JOBS)


@pytest.fixture(scope="module")
def planned_jobs() -> list[dict[str, str]]:
    """Every job of ``snakemake -n all paper`` on config/config.yaml, with its rule, files and wildcards."""
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", "-n", "all", "paper", "--configfile", "config/config.yaml"]
        + ["--workflow-profile", "workflow/profiles/verbose"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    jobs: list[dict[str, str]] = []
    for line in (proc.stdout + proc.stderr).splitlines():
        head = re.match(r"\s*(?:local)?rule (\w+):$", line)
        if head:
            jobs.append({"rule": head.group(1)})
            continue
        field = re.match(r"\s+(output|log|benchmark|wildcards): (.*)$", line)
        if field and jobs:
            jobs[-1][field.group(1)] = field.group(2)
    assert len(jobs) > 10
    return jobs


@pytest.mark.integration
def test_every_figure_and_table_written_is_a_catalogue_file_of_its_rule(planned_jobs):
    want = {(a.rule, f) for a in artefacts.CATALOGUE for f in a.files()}
    got = {
        (job["rule"], f)
        for job in planned_jobs
        for f in job.get("output", "").split(", ")
        if f.startswith((paths.FIGURES + "/", paths.TABLES + "/"))
    }
    assert got == want


@pytest.mark.integration
def test_every_job_log_and_benchmark_is_the_template_filled(planned_jobs):
    checked = set()
    for job in planned_jobs:
        if job["rule"] == "all":
            continue
        wildcards = dict(kv.split("=", 1) for kv in job["wildcards"].split(", ")) if "wildcards" in job else {}
        assert job["benchmark"] == artefacts.job_benchmark(job["rule"]).format(**wildcards)
        assert job["log"].split(", ")[0] == artefacts.job_log(job["rule"]).format(**wildcards)
        checked.add(job["rule"])
    assert {"simulate", "normalize", "train_ann", "aggregate", "tables", "paper", "paper_macros"} <= checked


def test_rule_of_benchmark_inverts_the_template():
    example = {"dataset": "mnist", "arch": "vgg", "seed": "3", "base": "p99.9", "norm": "lp4_k-0.25_scale_max-v0half"}
    for rule in artefacts.JOBS:
        assert artefacts.rule_of_benchmark(artefacts.job_benchmark(rule).format(**example)) == rule
