"""One run of the real workflow on tests/configs/tiny.yaml (the session's ``tiny_run`` fixture and the slow runs)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from helpers import REPO, TINY

SNAKEMAKE = [sys.executable, "-m", "snakemake"]


def run_snakemake(
    workdir: Path,
    *args: str,
    config: Path = TINY,
    check: bool = True,
    timeout: int = 600,
) -> subprocess.CompletedProcess:
    """Run the repository's Snakefile in ``workdir`` with ``config``; returns the completed process."""
    cmd = [
        *SNAKEMAKE,
        "-s",
        str(REPO / "Snakefile"),
        "--directory",
        str(workdir),
        "--configfile",
        str(config),
        "--cores",
        "2",
        *args,
    ]
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}")
    return proc
