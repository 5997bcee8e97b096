"""The one snakemake command line of the SLURM tests."""

from __future__ import annotations

import sys
from pathlib import Path

from helpers import REPO, TINY


def snakemake_cmd(workdir: Path, *args: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "snakemake",
        "-s",
        str(REPO / "Snakefile"),
        "--directory",
        str(workdir),
        "--configfile",
        str(TINY),
        *args,
    ]
