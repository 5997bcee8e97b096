"""The artefact catalogue (snnconv/workflow/artefacts.py) agrees with the workflow, the report captions and the paper.

The catalogue is the one place that names the figures and tables; these tests check that what it says is what
the rest of the repository does: every caption file it names exists (and every caption is named), every figure
and table the paper includes is a catalogue entry marked ``paper`` (and the other way round), every file the
rules write under results/figures and results/tables is a catalogue file of the same rule, and every job's log
and benchmark path is the catalogue's template filled with the job's wildcards.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from snnconv.workflow import artefacts, paths

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
        if "for chart in artefacts.charts():" in text:  # the generated chart rules
            assert "artefacts.job_log(chart.rule)" in text and "artefacts.job_benchmark(chart.rule)" in text
            rules_seen |= {a.rule for a in artefacts.charts()}
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


def _worked_example() -> tuple[str, str, str]:
    """The catalogue entry, the module's path and its source, as docs/figures.md's "Adding a figure" prints them."""
    doc = (REPO / "docs" / "figures.md").read_text()
    section = doc.split("### Adding a figure", 1)[1].split("\n## ", 1)[0]
    blocks = [textwrap.dedent(body) for _, body in re.findall(r"\n( *)```python\n(.*?)\n\1```", section, re.S)]
    module = re.search(r"The module, `(snnconv/report/\w+\.py)`", section)
    assert len(blocks) == 2 and module, "docs/figures.md: the worked example needs an entry, a module path and a module"
    return blocks[0], module.group(1), blocks[1]


def _workflow_copy(dest: Path) -> Path:
    """The files a dry run and a rule script need, copied (the checkout itself is never edited)."""
    dest.mkdir(parents=True)
    for name in ("Snakefile", "workflow", "snnconv", "scripts", "config"):
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(src, dest / name)
    return dest


def test_adding_a_chart_is_one_catalogue_entry_plus_one_module(tmp_path):
    """docs/figures.md's worked example, applied to a copy of the workflow: Snakemake plans the generated rule with
    the catalogue's files, log and benchmark, and the generic script draws the figure from a results table."""
    entry, module_path, source = _worked_example()
    root = _workflow_copy(tmp_path / "repo")
    catalogue = root / "snnconv" / "workflow" / "artefacts.py"
    head = "CATALOGUE: tuple[Artefact, ...] = (\n"
    text = catalogue.read_text()
    assert text.count(head) == 1
    catalogue.write_text(text.replace(head, head + textwrap.indent(entry, "    ") + ",\n"))
    (root / module_path).write_text(source)
    stem = Path(module_path).stem

    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", "-n", "--configfile", "config/config.yaml"]
        + ["--workflow-profile", str(REPO / "workflow" / "profiles" / "verbose")],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout + proc.stderr
    job = out.split(f"rule fig_{stem}:", 1)[1].split("\n\n", 1)[0]
    for f in (f"results/figures/{stem}.pdf", f"results/figures/{stem}.png", f"results/figures/{stem}.csv"):
        assert f in job, job
    assert f"logs/figures/{stem}.log" in job and f"benchmarks/figures/{stem}.tsv" in job, job

    from helpers.figure_data import config, rendered

    from snnconv.workflow import settings

    pdf = tmp_path / "out" / f"{stem}.pdf"
    draw = subprocess.run(
        [
            sys.executable,
            "-c",
            "import runpy, sys, json; m = runpy.run_path('scripts/figure.py'); "
            "m['main'](sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), [], sys.argv[4])",
            rendered()["table"],
            stem,
            json.dumps(settings.report_norms(config())),
            str(pdf),
        ],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert draw.returncode == 0, draw.stderr[-3000:]
    assert all(pdf.with_suffix(ext).stat().st_size > 0 for ext in (".pdf", ".png", ".csv"))
    assert len(pd.read_csv(pdf.with_suffix(".csv"))) > 0
