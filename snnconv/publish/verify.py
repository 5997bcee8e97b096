"""Verifying a results snapshot file by file, and resealing one made before its manifest existed.

:func:`verify_snapshot` proves a snapshot: every file listed in ``SHA256SUMS`` is there with that digest, no
other file is there, every file a snapshot must hold (from PROVENANCE) is listed, the digests that PROVENANCE
records (config, paper PDF, data) match, and everything that can be re-derived is: the summary tables with the
pipeline's own code from the committed data and config (:func:`verify_tables`), the reduced
``accuracy_at_T.csv`` from the full data, the variance table's Markdown from its CSV, the effective config from
the config. A truncated or corrupt gzip is reported by name. An empty list of problems: the snapshot is intact.

:func:`reseal` writes README.md and SHA256SUMS anew for a snapshot that verifies in every other respect.
No torch import.
"""

from __future__ import annotations

import gzip
import hashlib
import math
import re
import tempfile
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from ..atomic import sha256_file, write_text
from ..workflow.config import validate_config
from .layout import (
    ACCURACY_ALL,
    ACCURACY_ALL_GZ,
    CONFIG_COPY,
    EFFECTIVE_CONFIG,
    FIGURES,
    MANIFEST,
    PAPER_COPY,
    PROVENANCE,
    README,
    TABLES,
    SnapshotError,
    read_provenance,
    read_yaml_mapping,
    required_files,
)
from .manifest import read_manifest, snapshot_files, write_manifest
from .readme import readme

# Relative tolerance of a recomputed float cell against the committed one (:func:`_cell_problem`).
FLOAT_RTOL = 1e-12


def _cell_problem(a: str, b: str) -> bool:
    """Whether committed cell ``a`` and recomputed cell ``b`` differ: exact for integers and text, 1e-12 relative for floats."""
    if a == b:
        return False
    try:
        x, y = float(a), float(b)
    except ValueError:
        return True
    if re.fullmatch(r"[+-]?\d+", a) and re.fullmatch(r"[+-]?\d+", b):
        return True
    if math.isnan(x) and math.isnan(y):
        return False
    return not abs(x - y) <= FLOAT_RTOL * max(abs(x), abs(y))


def compare_csv(committed: Path, recomputed: Path) -> list[str]:
    """Differences between a committed table and its recomputation: columns, row count, then cell by cell."""
    a = pd.read_csv(committed, dtype=str, keep_default_na=False)
    b = pd.read_csv(recomputed, dtype=str, keep_default_na=False)
    if list(a.columns) != list(b.columns):
        return [f"{committed}: columns {list(a.columns)} != recomputed {list(b.columns)}"]
    if len(a) != len(b):
        return [f"{committed}: {len(a)} rows != {len(b)} recomputed"]
    out = []
    for col in a.columns:
        for row, (x, y) in enumerate(zip(a[col], b[col])):
            if _cell_problem(x, y):
                out.append(f"{committed}: line {row + 2}, column {col!r}: committed {x!r}, recomputed {y!r}")
    return out


def _accuracy_data(tables: Path) -> Path:
    """The snapshot's accuracy_all (plain or gzipped); SnapshotError if neither is there."""
    for name in (ACCURACY_ALL, ACCURACY_ALL_GZ):
        if (tables / name).is_file():
            return tables / name
    raise SnapshotError(f"{tables}: neither {ACCURACY_ALL} nor {ACCURACY_ALL_GZ} (the data the tables come from)")


def _recompute(df: pd.DataFrame, tables: Path, cfg: dict[str, Any], work: Path) -> list[str]:
    """Write every recomputable table of the snapshot into ``work`` with the pipeline's own code; their stems."""
    from ..report.tables import accuracy_tables, best_method_table
    from ..workflow import settings

    report, conversion = settings.report(cfg), settings.report_norms(cfg)
    T_points, within = list(report["T_points"]), float(report["within"])
    accuracy_tables(
        df,
        T_points,
        within,
        work / "accuracy_main",
        norms=list(conversion["norms"]),
        conversion_cfg=conversion,
        label_norms=True,
    )
    accuracy_tables(df, T_points, within, work / "accuracy_full")
    best_method_table(df, T_points, list(conversion["norms"]), work / "best_method")
    stems = ["accuracy_main", "accuracy_full", "best_method"]
    if (tables / "variance_correlation.csv").is_file():
        from ..report.variance_claim import correlation_table

        correlation_table(pd.read_csv(tables / "variance_correlation.csv"), work / "variance_correlation")
        stems.append("variance_correlation")  # its Markdown and LaTeX follow from its CSV
    if (tables / "l4_comparison.csv").is_file() and (tables / "variance_correlation.csv").is_file():
        from ..analysis.controls import control_names
        from ..paper.l4_table import l4_comparison_table
        from ..paper.macro_file import paper_macros

        run = settings.paper(cfg)
        _, per_net = paper_macros(df, pd.read_csv(tables / "variance_correlation.csv"), run)
        l4 = control_names(df, run)["l4"]
        base = str(df.loc[df["norm"] == l4, "base"].iloc[0]) if l4 else "max"
        l4_comparison_table(per_net, str(work / "l4_comparison"), base=base)
        stems.append("l4_comparison")
    return stems


def _config(snap: Path) -> dict[str, Any]:
    """The snapshot's effective config (config.effective.yaml, else config.yaml), validated."""
    config = snap / EFFECTIVE_CONFIG
    return validate_config(read_yaml_mapping(config if config.is_file() else snap / CONFIG_COPY))


def verify_tables(snapshot_dir: str | Path) -> list[str]:
    """Recompute the snapshot's summary tables from its committed data and config; every difference found.

    The data is checked against the SHA-256 that PROVENANCE recorded (a truncated or corrupt gzip is a problem
    naming it) and must cover simulation.T and every report T point; each recomputed table's CSV is compared cell
    by cell (:func:`compare_csv`) and its Markdown byte for byte, and a reduced ``accuracy_at_T.csv`` is compared
    with the rows of the full data at the report's T points. An empty list: no drift.
    """
    from ..analysis.load import check_coverage, read_accuracy_all

    snap = Path(snapshot_dir)
    prov = read_provenance(snap)
    tables = snap / TABLES
    data = _accuracy_data(tables)
    try:
        actual = sha256_file(data) if data.suffix == ".csv" else _gunzip_sha256(data)
        cfg = _config(snap)
        df = read_accuracy_all(data, rates=False)
    except (EOFError, OSError, zlib.error, pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        return [
            f"{data}: cannot be read ({type(exc).__name__}: {exc}); truncated or corrupt, the tables cannot be re-derived"
        ]
    problems = []
    recorded = (prov.get("accuracy_all") or {}).get("sha256")
    if recorded and recorded != actual:
        problems.append(f"{data}: SHA-256 {actual} != {recorded} recorded in {PROVENANCE} (the data was edited)")
    try:
        check_coverage(df, data, cfg["report"]["T_points"], T=cfg["simulation"]["T"])
    except ValueError as exc:
        problems.append(str(exc))
    with tempfile.TemporaryDirectory(prefix="snnconv-verify-") as work:
        for stem in _recompute(df, tables, cfg, Path(work)):
            committed = tables / f"{stem}.csv"
            if not committed.is_file():
                problems.append(f"{committed}: missing (the pipeline makes it from this data)")
                continue
            problems += compare_csv(committed, Path(work) / f"{stem}.csv")
            md = tables / f"{stem}.md"
            if not md.is_file():
                problems.append(f"{md}: missing")
            elif md.read_text() != (Path(work) / f"{stem}.md").read_text():
                problems.append(f"{md}: differs from the Markdown recomputed from the data")
        reduced = (prov.get("accuracy_all") or {}).get("reduced")
        if reduced:
            problems += _check_reduced(data, tables / reduced, cfg["report"]["T_points"], Path(work))
    return problems


def _check_reduced(data: Path, reduced: Path, T_points: Sequence[int], work: Path) -> list[str]:
    """The reduced table (the data's rows at the T points, all columns) against its recomputation from ``data``."""
    if not reduced.is_file():
        return [f"{reduced}: missing (PROVENANCE records it as the data's rows at the report's T points)"]
    full = pd.concat(
        [chunk[chunk["t"].isin(list(T_points))] for chunk in pd.read_csv(data, chunksize=200_000)], ignore_index=True
    )
    full.to_csv(work / reduced.name, index=False)
    return compare_csv(reduced, work / reduced.name)


def _gunzip_sha256(path: Path) -> str:
    """SHA-256 of a gzip file's uncompressed bytes (EOFError, gzip.BadGzipFile or zlib.error if it is damaged)."""
    digest = hashlib.sha256()
    with gzip.open(path, "rb") as handle:
        for block in iter(lambda: handle.read(2**20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_files(snap: Path, prov: dict[str, Any]) -> list[str]:
    """Every listed file present with its digest, no unlisted file, no link, every required file listed."""
    listed, problems = read_manifest(snap)
    if not listed and problems:
        return problems
    present = snapshot_files(snap)
    for rel in present:
        path = snap / rel
        if path.is_symlink():
            problems.append(f"{path}: a symbolic link; a snapshot holds only its own files")
        elif rel not in listed:
            problems.append(f"{path}: not part of the snapshot (not in {MANIFEST}); remove it or remake the snapshot")
        elif sha256_file(path) != listed[rel]:
            problems.append(
                f"{path}: SHA-256 {sha256_file(path)} != {listed[rel]} in {MANIFEST} (changed after the snapshot was made)"
            )
    for rel in sorted(set(listed) - set(present)):
        problems.append(f"{snap / rel}: missing (listed in {MANIFEST})")
    for rel in required_files(prov):
        if rel not in listed:
            problems.append(f"{snap / rel}: not in {MANIFEST}, but every snapshot holds it")
    return problems


def check_recorded(snap: Path, prov: dict[str, Any]) -> list[str]:
    """The digests PROVENANCE records (the config copy, the paper PDF) against the files."""
    problems = []
    checks = [(snap / CONFIG_COPY, (prov.get("config") or {}).get("sha256"), "config.sha256")]
    if prov.get("paper_pdf"):
        checks.append((snap / PAPER_COPY, prov["paper_pdf"].get("sha256"), "paper_pdf.sha256"))
    elif (snap / PAPER_COPY).exists():
        problems.append(f"{snap / PAPER_COPY}: {PROVENANCE} records no paper PDF for this run")
    for path, recorded, key in checks:
        if not path.is_file():
            continue  # reported by check_files
        if not recorded:
            problems.append(f"{snap / PROVENANCE}: no {key} recorded for {path.name}")
        elif sha256_file(path) != recorded:
            problems.append(f"{path}: SHA-256 {sha256_file(path)} != {recorded} recorded in {PROVENANCE} ({key})")
    return problems


def _leaves(value: Any, prefix: str = "") -> dict[str, Any]:
    """Dotted key -> value of every leaf of a nested mapping (lists are leaves)."""
    if not isinstance(value, dict):
        return {prefix: value}
    out: dict[str, Any] = {}
    for key, sub in value.items():
        out |= _leaves(sub, f"{prefix}.{key}" if prefix else str(key))
    return out


def check_configs(snap: Path) -> list[str]:
    """config.effective.yaml is a valid config, unchanged by validation (defaults a newer schema adds aside), that
    holds every setting of config.yaml unchanged."""
    if not (snap / EFFECTIVE_CONFIG).is_file() or not (snap / CONFIG_COPY).is_file():
        return []  # reported by check_files
    try:
        effective = read_yaml_mapping(snap / EFFECTIVE_CONFIG)
        given = read_yaml_mapping(snap / CONFIG_COPY)
        filled = validate_config(yaml.safe_load(yaml.safe_dump(effective)))
    except (SnapshotError, ValueError) as exc:
        return [f"{snap / EFFECTIVE_CONFIG}: not a valid config ({exc})"]
    problems = []
    now = _leaves(filled)  # a newer schema may add defaults; it must not change a value the run had
    for key, value in _leaves(effective).items():
        if now.get(key, value) != value:
            problems.append(f"{snap / EFFECTIVE_CONFIG}: {key} = {value!r} is not what validation gives ({now[key]!r})")
    have = _leaves(effective)
    for key, value in _leaves(given).items():
        if key not in have or have[key] != value:
            problems.append(
                f"{snap / EFFECTIVE_CONFIG}: {key} = {have.get(key, '<absent>')!r}, but {CONFIG_COPY} sets {value!r}"
            )
    return problems


def verify_snapshot(snapshot_dir: str | Path) -> list[str]:
    """Every problem of a snapshot: files against SHA256SUMS, recorded digests, configs, re-derived tables.

    An empty list proves that every file is the one the snapshot was made with and that every re-derivable table
    follows from the committed data and config by the current code.
    """
    snap = Path(snapshot_dir)
    if not snap.is_dir():
        return [f"{snap}: no such folder"]
    try:
        prov = read_provenance(snap)
    except SnapshotError as exc:
        return [str(exc)]
    problems = check_files(snap, prov) + check_recorded(snap, prov) + check_configs(snap)
    try:
        problems += verify_tables(snap)
    except (SnapshotError, ValueError) as exc:
        problems.append(str(exc))
    return problems


def reseal(snapshot_dir: str | Path) -> Path:
    """Regenerate README.md and SHA256SUMS of a snapshot made before the manifest existed, once everything else of
    it verifies (recorded digests, configs, re-derived tables, no file beyond what the tool writes)."""
    snap = Path(snapshot_dir)
    prov = read_provenance(snap)
    problems = check_recorded(snap, prov) + check_configs(snap) + verify_tables(snap)
    known = set(required_files(prov)) | {f"{TABLES}/{p.name}" for p in (snap / TABLES).glob("*.csv")}
    known |= {f"{TABLES}/{p.name}" for p in (snap / TABLES).glob("*.md")} | {MANIFEST}
    known |= {f"{FIGURES}/{p.name}" for p in (snap / FIGURES).glob("*.png")}  # the tool copies every PNG figure
    problems += [
        f"{snap / rel}: not a file the snapshot tool writes" for rel in snapshot_files(snap) if rel not in known
    ]
    problems += [
        f"{snap / rel}: missing" for rel in required_files(prov) if rel != README and not (snap / rel).is_file()
    ]
    if problems:
        raise SnapshotError(f"{snap} does not verify, so it is not resealed: {'; '.join(problems[:5])}")
    write_text(snap / README, readme(snap, prov, snap.name))
    return write_manifest(snap)
