"""A non-editable `pip install .` gives a working package: the config schema and the paper's sources as package data
(importlib.resources), and the `snnconv` console entry point, from a folder that is not the checkout."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import REPO

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """`pip install --no-deps --target` of the checkout (a wheel built from it, not an editable link), built from a
    copy of the sources so that the build leaves nothing in the checkout."""
    target, source = tmp_path_factory.mktemp("site"), tmp_path_factory.mktemp("src") / "snnconv"
    skip = (".git", ".venv", "results", "logs", "benchmarks", ".snakemake", "build", "docs", "tests", "bench", "data")
    shutil.copytree(REPO, source, symlinks=True, ignore=shutil.ignore_patterns(*skip, "__pycache__", "*.egg-info"))
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "--target", str(target),
         str(source)],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return target


def run_installed(target: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    """``args`` run with the installed copy first on the path, from ``cwd``."""
    env = {**os.environ, "PYTHONPATH": str(target)}
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_schema_and_paper_sources_are_package_data(installed, tmp_path):
    code = (
        "import snnconv, snnconv.resources as r; from snnconv.workflow.config import load_schema, validate_config; "
        "assert snnconv.__file__.startswith(sys.argv[1]), snnconv.__file__; "
        "assert not r.schema_path().is_symlink() and r.schema_path().is_file(); "
        "assert 'properties' in load_schema(); "
        "c = validate_config({'datasets': ['digits'], 'archs': ['mlp'], 'seeds': [0]}); "
        "assert c['simulation']['T'] == 200; "
        "assert '\\\\documentclass' in r.paper_source('main.tex').read_text(); "
        "assert '@' in r.paper_source('refs.bib').read_text(); print('ok')"
    )
    proc = run_installed(installed, tmp_path, sys.executable, "-c", "import sys; " + code, str(installed))
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stdout + proc.stderr
    schema = installed / "snnconv" / "resources" / "config.schema.yaml"
    assert schema.read_bytes() == (REPO / "workflow" / "schemas" / "config.schema.yaml").read_bytes()


def test_console_entry_point(installed, tmp_path):
    proc = run_installed(installed, tmp_path, str(installed / "bin" / "snnconv"), "simulate", "--help")
    assert proc.returncode == 0 and "usage: snnconv simulate" in proc.stdout, proc.stdout + proc.stderr
