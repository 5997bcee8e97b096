"""The command line of publishing, ``python -m snnconv.publish``: make, verify or reseal a results snapshot.

    python -m snnconv.publish make --config CONFIG --workdir DIR --out docs/results/NAME --command "..."
    python -m snnconv.publish verify docs/results/NAME
    python -m snnconv.publish reseal docs/results/NAME   # README.md and SHA256SUMS of an older snapshot

Exit status 0 on success; 1 when the snapshot cannot be made, does not verify or cannot be resealed (the reason
on stderr; for ``verify``, every problem on stdout); 2 for a malformed command line (argparse's usage message).
``make snapshot`` in the Makefile runs ``make`` on the run in the repository.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from ..workflow import paths
from .layout import MANIFEST, TOOL, SnapshotError
from .make import MAX_PLAIN_BYTES, make_snapshot
from .manifest import read_manifest
from .run import REPO
from .verify import reseal, verify_snapshot


def megabytes(text: str) -> float:
    """A ``--max-plain-mb`` value: a finite size in MiB, zero or more (zero gzips every accuracy_all.csv)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of megabytes") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"{text!r}: a size must be a finite number of megabytes, zero or more")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``python -m snnconv.publish``: one subcommand each for make, verify and reseal."""
    parser = argparse.ArgumentParser(
        prog=TOOL, description="Publish a finished run as a results snapshot, and prove a published one."
    )
    sub = parser.add_subparsers(dest="action", metavar="{make,verify,reseal}", required=True)

    make = sub.add_parser(
        "make",
        help="publish a finished run as a snapshot folder",
        description="Copy a finished run's tables, figures, paper PDF and config into a new snapshot folder with "
        "its PROVENANCE, README.md and SHA256SUMS; refused if the run is incomplete or its tables do not follow "
        "from its data.",
    )
    make.add_argument("--config", required=True, help="the config file the run used (copied and recorded)")
    make.add_argument("--workdir", default=str(REPO), help="the finished run's folder (default: the repository)")
    make.add_argument("--out", required=True, help="the snapshot folder to create, e.g. docs/results/NAME")
    make.add_argument("--command", required=True, help="the command that produced the run, recorded verbatim")
    make.add_argument("--paper-pdf", help=f"the paper PDF (default: WORKDIR/{paths.PAPER_PDF} if present)")
    make.add_argument("--force", action="store_true", help="replace an existing snapshot folder")
    make.add_argument(
        "--max-plain-mb",
        type=megabytes,
        default=MAX_PLAIN_BYTES / 2**20,
        help="keep accuracy_all.csv gzipped (beside its rows at the report's T points) above this size "
        "(default: %(default)g)",
    )

    verify = sub.add_parser(
        "verify",
        help="check every file of a snapshot and recompute its tables; list every problem",
        description=f"Check every file against {MANIFEST} and the digests PROVENANCE records, and recompute "
        "every re-derivable table from the committed data and config; exit 1 listing every problem.",
    )
    verify.add_argument("snapshot", metavar="SNAPSHOT", help="the snapshot folder, e.g. docs/results/NAME")

    again = sub.add_parser(
        "reseal",
        help=f"regenerate README.md and {MANIFEST} of a snapshot that verifies otherwise",
        description=f"Write README.md and {MANIFEST} anew for a snapshot made before its manifest existed, "
        "only if everything else of it verifies.",
    )
    again.add_argument("snapshot", metavar="SNAPSHOT", help="the snapshot folder, e.g. docs/results/NAME")
    return parser


# The flags that chose the action before there were subcommands, and the subcommand that replaces each; any other
# option given first belongs to ``make``.
FORMER_FLAGS = {"--verify": "verify SNAPSHOT", "--manifest": "reseal SNAPSHOT"}


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The parsed command line; an option before the subcommand (the former command line) is a usage error naming
    the subcommand that replaces it."""
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0].startswith("--") and argv[0] != "--help":
        flag = argv[0].split("=", 1)[0]
        parser.error(f"{flag} comes after a subcommand now: {TOOL} {FORMER_FLAGS.get(flag, f'make {flag} ...')}")
    return parser.parse_args(argv)


def run_make(args: argparse.Namespace) -> int:
    """``make``: publish the run; the new folder's path."""
    out = make_snapshot(
        args.config,
        args.workdir,
        args.out,
        args.command,
        paper_pdf=args.paper_pdf,
        force=args.force,
        max_plain_bytes=int(args.max_plain_mb * 2**20),
    )
    print(f"snapshot written: {out}")
    return 0


def run_verify(args: argparse.Namespace) -> int:
    """``verify``: every problem on stdout and exit status 1, or one line saying what was checked."""
    problems = verify_snapshot(args.snapshot)
    for line in problems:
        print(line)
    if problems:
        print(f"{args.snapshot}: {len(problems)} problem(s)")
    else:
        n = len(read_manifest(Path(args.snapshot))[0])
        print(f"{args.snapshot}: OK, {n} files match {MANIFEST}, no drift in the re-derived tables")
    return 1 if problems else 0


def run_reseal(args: argparse.Namespace) -> int:
    """``reseal``: the manifest written."""
    print(f"written: {reseal(args.snapshot)}")
    return 0


ACTIONS: dict[str, Callable[[argparse.Namespace], int]] = {
    "make": run_make,
    "verify": run_verify,
    "reseal": run_reseal,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run one subcommand; exit status 1 with the reason on stderr when it fails (2 for a bad command line)."""
    args = parse_args(argv)
    try:
        return ACTIONS[args.action](args)
    except (SnapshotError, ValueError) as exc:
        print(f"{TOOL} {args.action}: {exc}", file=sys.stderr)
        return 1
