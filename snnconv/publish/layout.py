"""What a results snapshot (``docs/results/<name>/``) holds: its file names, the files every snapshot must hold,
its PROVENANCE read back, and the error every step of publishing raises.

The one home of these names; making (:mod:`.make`), verifying and resealing (:mod:`.verify`), the manifest
(:mod:`.manifest`) and the README (:mod:`.readme`) take them from here. A snapshot folder holds::

    PROVENANCE              where its numbers came from (YAML: command, config, code, packages, machine, times)
    README.md               generated summary: provenance, headline tables, figures, file list
    config.yaml             the config the run was given, verbatim
    config.effective.yaml   that config as the workflow ran it (defaults filled in)
    main.pdf                the paper, when it was built for the run
    tables/                 the summary tables (CSV and Markdown) and accuracy_all.csv, or for a large run
                            accuracy_all.csv.gz beside accuracy_at_T.csv (its rows at the report's T points)
    figures/                the figures (PNG)
    SHA256SUMS              the SHA-256 of every other file (``sha256sum -c`` reads it), written last

The run-side paths a snapshot is made from (``results/tables``, ``results/figures``, the paper PDF) are
:mod:`snnconv.workflow.paths`; which figures and tables are published is the artefact catalogue's
(:mod:`snnconv.workflow.artefacts`). No torch import.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from ..workflow import artefacts, paths

TOOL = "python -m snnconv.publish"  # the command line that makes, verifies and reseals snapshots

PROVENANCE = "PROVENANCE"
MANIFEST = "SHA256SUMS"
README = "README.md"
CONFIG_COPY = "config.yaml"
EFFECTIVE_CONFIG = "config.effective.yaml"
PAPER_COPY = "main.pdf"
TABLES = "tables"
FIGURES = "figures"
ACCURACY_ALL = Path(paths.ACCURACY_ALL).name  # the run's every simulation row, the data the tables come from
ACCURACY_ALL_GZ = f"{ACCURACY_ALL}.gz"  # how a large accuracy_all is kept
REDUCED = "accuracy_at_T.csv"  # beside a gzipped accuracy_all: its rows at the report's T points, readable as is
# Tables that cannot be recomputed from the snapshot (they need the membrane statistics of results/stats/).
NOT_REDERIVABLE = ("variance_correlation",)


class SnapshotError(RuntimeError):
    """A snapshot cannot be made (incomplete run, existing target, stale paper); the message says what and where."""


def published_outputs() -> list[str]:
    """The figures and tables a snapshot publishes (the artefact catalogue's ``published``), as a run writes them:
    a figure's PNG, a table's CSV and Markdown."""
    ordered = [*artefacts.tables(), *artefacts.figures()]  # tables first: the run's numbers, then its pictures
    return [a.path(fmt) for a in ordered if a.published for fmt in a.published_formats]


def required_files(prov: dict[str, Any]) -> list[str]:
    """The files every snapshot holds, by what its PROVENANCE says was published."""
    need = [PROVENANCE, README, CONFIG_COPY, EFFECTIVE_CONFIG]
    need += [Path(p).relative_to(paths.RESULTS).as_posix() for p in published_outputs()]  # figures/, tables/
    acc = prov.get("accuracy_all") or {}
    need += [f"{TABLES}/{acc['kept_as']}"] if acc.get("kept_as") else [f"{TABLES}/{ACCURACY_ALL}"]
    need += [f"{TABLES}/{acc['reduced']}"] if acc.get("reduced") else []
    need += [PAPER_COPY] if prov.get("paper_pdf") else []
    return need


def read_yaml_mapping(path: Path) -> dict[str, Any]:
    """A YAML file that must hold a mapping; SnapshotError naming the file otherwise."""
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise SnapshotError(f"{path}: cannot read the config ({exc})") from exc
    if not isinstance(data, dict):
        raise SnapshotError(f"{path}: a config must be a YAML mapping, got {type(data).__name__}")
    return data


def read_provenance(snapshot_dir: str | Path) -> dict[str, Any]:
    """The PROVENANCE of a snapshot, as a mapping; SnapshotError naming the file if it is missing or malformed."""
    path = Path(snapshot_dir) / PROVENANCE
    return read_yaml_mapping(path) if path.is_file() else _missing(path)


def _missing(path: Path) -> dict[str, Any]:
    """Raise SnapshotError for a file a snapshot must hold."""
    raise SnapshotError(f"{path}: missing (not a snapshot made by {TOOL}?)")
