"""The one snakemake command line of the SLURM tests, and what a verbose dry run says about each job."""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
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


@dataclass(frozen=True)
class PlannedJob:
    """One job of a ``snakemake -n --verbose`` run as Snakemake prints it."""

    rule: str
    group: str | None  # the group job it is bundled into; None where submitted alone, or in a local run
    resources: dict[str, str]


def planned_jobs(output: str) -> list[PlannedJob]:
    """Every job of a verbose dry run's ``output``, in the printed order: its rule, its group job and its resources
    (``key=value`` as printed). A group job's members follow its ``Group job NAME`` line, indented."""
    jobs: list[PlannedJob] = []
    group: str | None = None
    rule: str | None = None
    for line in output.splitlines():
        header = re.search(r"Group job (\w+)", line)
        start = re.match(r"( *)(?:local)?rule (\w+):$", line)
        if header:
            group = header.group(1)
        elif start:
            rule = start.group(2)
            if not start.group(1):  # an unindented job is submitted on its own
                group = None
        elif rule is not None and line.strip().startswith("resources: "):
            pairs = line.strip().removeprefix("resources: ").split(", ")
            jobs.append(PlannedJob(rule, group, dict(pair.split("=", 1) for pair in pairs)))
            rule = None
    return jobs
