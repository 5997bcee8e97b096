"""The console of `make run`: progress and the end-of-run summary in under 100 lines; job details stay in logs/."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

import pytest
from helpers import REPO

pytestmark = pytest.mark.integration

MAX_LINES = 100


def make_run_arguments() -> list[str]:
    """The snakemake arguments of the Makefile's `run` recipe, with CORES=2 (the CI machine's)."""
    recipe = re.search(
        r"^run: .*\n\t\$\(BIN\)/(?:snakemake|python -m snnconv\.workflow\.preflight) (.+)$",
        (REPO / "Makefile").read_text(),
        re.MULTILINE,
    )
    assert recipe, "Makefile: no `run` recipe calling snakemake"
    return recipe.group(1).replace("$(CORES)", "2").split()


def test_make_run_console_is_short_and_ends_with_the_summary(tmp_path):
    shutil.copytree(REPO / ".test" / "config", tmp_path / "config")
    cmd = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), *make_run_arguments()]
    proc = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=900)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    lines = out.splitlines()
    assert len(lines) <= MAX_LINES, f"{len(lines)} lines:\n{out}"
    assert "snnconv: run complete." in out and "Test accuracy (%)" in out
    assert " INFO snnconv" not in out, "job log records belong in logs/, not on the console"
    assert "Shell command" not in out
    assert "rule train_ann done" in (tmp_path / "logs" / "train_ann" / "digits" / "mlp" / "seed0.log").read_text()
