"""Deployment the catalog's way: the .test config run from its own directory, the workflow used as a Snakemake module
from a lab's directory (same tables), and the error of a run that has no config."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import REPO

pytestmark = pytest.mark.integration

SNAKEMAKE = [sys.executable, "-m", "snakemake"]
LAB_SNAKEFILE = """\
configfile: "config/config.yaml"


module snnconv:
    snakefile:
        "{snakefile}"
    config:
        config


use rule * from snnconv
"""


def run(cwd: Path, *args: str, timeout: int = 900) -> subprocess.CompletedProcess:
    """snakemake in ``cwd`` (the user's working directory) with ``args``."""
    return subprocess.run([*SNAKEMAKE, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def catalog(tmp_path_factory) -> tuple[Path, str]:
    """The .test directory (config/config.yaml) copied and run with the checkout's Snakefile, as the catalog does;
    returns the directory and the console output."""
    work = tmp_path_factory.mktemp("catalog")
    shutil.copytree(REPO / ".test" / "config", work / "config")
    proc = run(work, "-s", str(REPO / "Snakefile"), "--cores", "2")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return work, proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def catalog_run(catalog) -> Path:
    return catalog[0]


def test_default_console_shows_progress_without_job_details(catalog):
    """The workflow profile's `quiet`: each finished job's rule and the count, no files/reasons/log records."""
    _, out = catalog
    assert re.search(r"^\d+ of (\d+) steps \(100%\) done$", out, re.MULTILINE)
    assert "Finished jobid" in out and "(Rule: train_ann)" in out
    for detail in ("reason:", "wildcards:", "Shell command", " INFO snnconv", "resources:"):
        assert detail not in out, f"{detail!r} on the console"


def test_module_run_gives_the_same_tables(catalog_run, tmp_path):
    """A lab's own directory: config/config.yaml and a Snakefile that imports every rule of this workflow."""
    lab = tmp_path / "lab"
    shutil.copytree(REPO / ".test" / "config", lab / "config")
    (lab / "Snakefile").write_text(LAB_SNAKEFILE.format(snakefile=REPO / "Snakefile"))
    proc = run(lab, "--cores", "2")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    ours = sorted(p.name for p in (catalog_run / "results" / "tables").iterdir())
    assert ours and ours == sorted(p.name for p in (lab / "results" / "tables").iterdir())
    assert "accuracy_main.csv" in ours
    for name in ours:
        a, b = catalog_run / "results" / "tables" / name, lab / "results" / "tables" / name
        assert a.read_bytes() == b.read_bytes(), f"{name} differs between the checkout's run and the module run"
    assert (lab / "logs" / "simulate").is_dir(), "the module's rules log into the lab's directory"


def test_readme_module_snakefile_is_the_tested_one():
    """The README's "Use as a module" Snakefile is the one run above (with the path to the checkout)."""
    section = (REPO / "README.md").read_text().split("## Use as a module", 1)[1].split("\n## ", 1)[0]
    assert LAB_SNAKEFILE.format(snakefile="/path/to/snnconv/Snakefile") in section


def test_no_config_names_the_file_and_how_to_supply_it(tmp_path):
    proc = run(tmp_path, "-s", str(REPO / "Snakefile"), "-n", "--cores", "1", timeout=300)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert f"no config: {tmp_path / 'config' / 'config.yaml'} does not exist" in out
    assert "--configfile" in out and "config: config" in out and str(REPO / "config" / "config.yaml") in out
