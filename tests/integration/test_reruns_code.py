"""Code changes rerun exactly the jobs whose code changed, by content (snnconv/workflow/codehash.py, docs/method.md §C9).

A copy of the workflow (Snakefile, rules, scripts, package) finishes the tiny run; then files of the copy are edited
or only touched, and a dry run with the workflow profile's rerun triggers says what would run:

* a behavioural edit of a package module reruns the rules whose scripts import it, and what depends on them;
* an edit of one rule script reruns that rule alone (and its downstream rules);
* new modification times on every file (a checkout, a copy), a comment, a docstring or reformatting rerun nothing.

Before the code digest existed, the first case scheduled nothing and the second scheduled every rule.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import REPO
from helpers.workflow import run_snakemake, tiny_config, write_config

from snnconv.workflow import codehash

pytestmark = pytest.mark.integration

PARTS = ("Snakefile", "workflow", "scripts", "snnconv", "paper")
# Rules of the default target, downstream closures included ("all" is left out).
REPORT = {"aggregate", "fig_accuracy_vs_T", "fig_coefficient_sweep", "fig_firing_rates", "fig_low_T_gap", "tables"}
SPIKING = {"simulate", "membrane_stats", "fig_variance_claim"} | REPORT
TRAIN = {"train_ann", "normalize"} | SPIKING
FUTURE = "from __future__ import annotations\n"  # once at the top of every package module: an anchor for edits


def copy_workflow(dest: Path) -> Path:
    """The workflow's files (not results, caches or .git) copied into ``dest``."""
    dest.mkdir(parents=True)
    for part in PARTS:
        src = REPO / part
        if src.is_dir():
            shutil.copytree(src, dest / part, ignore=shutil.ignore_patterns("__pycache__", "build"))
        else:
            shutil.copy2(src, dest / part)
    return dest


def dry_run(code: Path, workdir: Path, config: Path) -> set[str]:
    """Rules a dry run of the copy ``code`` schedules in ``workdir`` under the workflow profile ('all' left out)."""
    out = run_snakemake(
        workdir,
        config,
        "-n",
        "--nolock",
        "-s",
        str(code / "Snakefile"),
        "--workflow-profile",
        str(code / "workflow" / "profiles" / "default"),
        timeout=300,
    )
    text = out.stdout + out.stderr
    if "Nothing to be done" in text:
        return set()
    table = text.split("Job stats:", 1)[1].split("total", 1)[0]
    return {m.group(1) for m in re.finditer(r"^(\w+)\s+\d+\s*$", table, re.MULTILINE)} - {"all"}


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> tuple[Path, Path, Path]:
    """(copy of the workflow, finished tiny run made by it, its config)."""
    root = tmp_path_factory.mktemp("code")
    code = copy_workflow(root / "code")
    workdir = root / "run"
    config = write_config(root / "tiny.yaml", tiny_config())
    run_snakemake(workdir, config, "-q", "-s", str(code / "Snakefile"), cores=2, timeout=900)
    assert dry_run(code, workdir, config) == set()
    return code, workdir, config


@contextlib.contextmanager
def edited(path: Path, old: str, new: str) -> Iterator[None]:
    """``path`` with ``old`` (found once) replaced by ``new``; restored afterwards (with a new mtime)."""
    text = path.read_text()
    assert text.count(old) == 1, f"{path}: {old!r} found {text.count(old)} times"
    path.write_text(text.replace(old, new))
    try:
        yield
    finally:
        path.write_text(text)


def test_new_modification_times_rerun_nothing(finished):
    code, workdir, config = finished
    later = time.time() + 60
    for path in code.rglob("*"):
        if path.is_file():
            os.utime(path, (later, later))
    assert dry_run(code, workdir, config) == set()


def test_comments_docstrings_and_formatting_rerun_nothing(finished):
    code, workdir, config = finished
    neurons = code / "snnconv" / "simulate" / "neurons.py"
    with edited(neurons, 'RESETS = ("subtract", "zero")', '# a comment\nRESETS = (\n    "subtract",\n    "zero",\n)'):
        with edited(neurons, "Membrane state of shape", "The membrane state, of shape"):
            assert dry_run(code, workdir, config) == set()


def test_a_module_edit_reruns_the_rules_that_import_it(finished):
    code, workdir, config = finished
    neurons = code / "snnconv" / "simulate" / "neurons.py"
    # normalize imports the conversion package, whose light calibration runs the simulator's neuron model
    # (snnconv.convert.calibrate): an edit of that model reruns it too, never leaves it stale
    with edited(neurons, 'RESETS = ("subtract", "zero")', 'RESETS = ("subtract", "zero")\nRESETS = RESETS[::-1]'):
        assert dry_run(code, workdir, config) == SPIKING | {"normalize"}
    with edited(code / "snnconv" / "train.py", FUTURE, FUTURE + "\n_EDITED = 1"):
        assert dry_run(code, workdir, config) == TRAIN
    with edited(code / "snnconv" / "report" / "firing_rates.py", FUTURE, FUTURE + "\n_EDITED = 1"):
        assert dry_run(code, workdir, config) == {"fig_firing_rates"}
    assert dry_run(code, workdir, config) == set()  # restored: the recorded digests match again


def test_a_script_edit_reruns_its_rule_alone(finished):
    code, workdir, config = finished
    with edited(code / "scripts" / "tables.py", "def main(", "_EDITED = 1\n\n\ndef main("):
        assert dry_run(code, workdir, config) == {"tables"}


def test_every_rule_with_a_script_carries_the_digest_of_that_script():
    """A rule whose code param names another script would rerun on the wrong edits."""
    for smk in sorted((REPO / "workflow" / "rules").glob("*.smk")):
        for block in re.split(r"(?m)^(?=rule )", smk.read_text())[1:]:
            script = re.search(r'script:\n\s+"\.\./\.\./scripts/(\w+\.py)"', block)
            if script:
                assert f'code=code("{script.group(1)}")' in block, f"{smk.name}: {block.splitlines()[0]}"


def test_digest_follows_imports_and_ignores_what_changes_no_behaviour(tmp_path):
    pkg = tmp_path / "snnconv"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("from .b import g\n")
    (pkg / "a.py").write_text('"""Module a."""\n\ndef f():\n    from .sub import c  # lazy\n    return 1\n')
    (pkg / "sub" / "b.py").write_text("def g():\n    return 2\n")
    (pkg / "sub" / "c.py").write_text("X = 3\n")
    (pkg / "unused.py").write_text("Y = 4\n")
    script = tmp_path / "scripts" / "s.py"
    script.parent.mkdir()
    script.write_text("from snnconv import a\n")
    closure = {p.relative_to(tmp_path).as_posix() for p in codehash.package_closure(script, tmp_path)}
    assert closure == {
        "snnconv/__init__.py",
        "snnconv/a.py",
        "snnconv/sub/__init__.py",
        "snnconv/sub/b.py",
        "snnconv/sub/c.py",
    }

    def digest() -> str:
        codehash._read.cache_clear()
        codehash.imported_names.cache_clear()
        return codehash.digest([script, *codehash.package_closure(script, tmp_path)], tmp_path)

    before = digest()
    (pkg / "unused.py").write_text("Y = 5\n")
    (pkg / "a.py").write_text(
        '"""Module a, reworded."""\n\n\ndef f():  # note\n    from .sub import c\n\n    return 1\n'
    )
    assert digest() == before
    (pkg / "sub" / "c.py").write_text("X = 30\n")
    assert digest() != before
