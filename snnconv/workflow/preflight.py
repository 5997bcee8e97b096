"""Checks of a ``snakemake`` command line that Snakemake itself makes before any workflow code runs.

Snakemake reads every ``--configfile`` while parsing its command line, before the Snakefile (and so before
:func:`snnconv.workflow.config.validate_config`) runs. Two mistakes therefore never reach the workflow's own checks:

* ``--configfile`` takes every following word up to the next option, so a target written after it
  (``snakemake --configfile x.yaml paper``) is read as a config file: a Python traceback (``No such file or
  directory: 'paper'``, or ``Is a directory`` in the repository, where ``paper/`` is a folder);
* every YAML problem of a config file, a ``!!python/object`` tag included, gets one sentence about tabs and no
  file name.

``python -m snnconv.workflow.preflight <snakemake arguments>`` checks those arguments first (each config file exists, is a
file and reads as a YAML mapping; a config "file" named like a rule or a result path is reported as a misplaced
target) and then runs Snakemake with exactly the same arguments. ``make run`` and ``make paper`` go through it.
The workflow reads its default ``config/config.yaml`` with :func:`snnconv.workflow.config.read_config_file` too, so a
broken default file is named whichever way Snakemake is started. DAG-time code: no torch import.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from .config import ConfigError, read_config_file

REPO = Path(__file__).resolve().parents[2]
CONFIGFILE_OPTIONS = ("--configfile", "--configfiles")


def configfile_args(argv: Sequence[str]) -> list[str]:
    """The words Snakemake reads as config files: after ``--configfile``/``--configfiles`` up to the next option
    (``nargs="+"``), and the value of ``--configfile=PATH``."""
    out: list[str] = []
    taking = False
    for word in argv:
        if word.startswith("-"):
            name, eq, value = word.partition("=")
            taking = name in CONFIGFILE_OPTIONS and not eq
            if name in CONFIGFILE_OPTIONS and eq:
                out.append(value)
            continue
        if taking:
            out.append(word)
    return out


def rule_names(rules_dir: Path = REPO / "workflow" / "rules", snakefile: Path = REPO / "Snakefile") -> set[str]:
    """Names of the workflow's rules, read from its files (no Snakemake import)."""
    names: set[str] = set()
    for path in [snakefile, *sorted(rules_dir.glob("*.smk"))]:
        if path.is_file():
            names |= set(re.findall(r"^(?:rule|checkpoint) (\w+):", path.read_text(), re.MULTILINE))
    return names


def looks_like_target(word: str, rules: Iterable[str]) -> bool:
    """Whether ``word`` reads as a Snakemake target: a rule name, or a path of the workflow's outputs."""
    return word in set(rules) or word.startswith(("results/", "paper/")) or word.endswith((".pdf", ".csv", ".png"))


def check_configfiles(argv: Sequence[str], rules: Iterable[str] | None = None) -> None:
    """ConfigError naming the word and the problem for the first config file on ``argv`` that Snakemake would fail
    to read: a target written after ``--configfile``, a missing file, a folder, or a file that is not a YAML mapping.
    """
    rules = rule_names() if rules is None else set(rules)
    for word in configfile_args(argv):
        path = Path(word)
        if not path.is_file() and looks_like_target(word, rules):
            raise ConfigError(
                f"--configfile {word}: {word!r} names a target (a rule or a result), not a config file: --configfile "
                "reads every word after it up to the next option, so write the targets first "
                f"(snakemake {word} --configfile FILE …) or put another option between"
            )
        if not path.exists():
            raise ConfigError(f"--configfile {word}: no such file")
        read_config_file(path)


def main(argv: Sequence[str] | None = None) -> int:
    """Check the config files of a snakemake command line, then run snakemake with it; 1 with the reason if not."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        check_configfiles(argv)
    except ConfigError as exc:
        print(f"snakemake not started: {exc}", file=sys.stderr)
        return 1
    from snakemake.cli import main as snakemake_main

    snakemake_main(argv)  # exits with Snakemake's status
    return 0


if __name__ == "__main__":
    sys.exit(main())
