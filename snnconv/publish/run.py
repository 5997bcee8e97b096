"""Inspecting a finished run before it is published: is it complete, how long each rule took, when it ran, which
code and which config made it.

Everything here reads the run folder (``results/``, ``benchmarks/``, ``.snakemake/metadata``) and the code's git
repository; nothing is written. :mod:`.make` records the answers in a snapshot's PROVENANCE. No torch import.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import json
import math
import re
import subprocess
from pathlib import Path
from typing import Any

import pandas as pd

from ..workflow import artefacts, paths
from ..workflow.config import validate_config
from ..workflow.vocab import ARCHS, DATASETS
from .layout import SnapshotError, published_outputs, read_yaml_mapping

# The code's repository: its git state is recorded, and by default it is the run folder too.
REPO = Path(__file__).resolve().parents[2]
# The Snakefile's configfile:, which a run's --configfile overlays.
DEFAULT_CONFIG = REPO / "config" / "config.yaml"


def missing_outputs(workdir: Path) -> list[str]:
    """The outputs of a finished run that ``workdir`` lacks (tables, figures), relative to ``workdir``."""
    need = [paths.ACCURACY_ALL] + published_outputs()
    return [p for p in need if not (workdir / p).is_file()]


def check_complete(workdir: Path) -> None:
    """Raise :class:`SnapshotError` naming every missing output if the run in ``workdir`` is not finished."""
    if not workdir.is_dir():
        raise SnapshotError(f"--workdir {workdir}: no such folder")
    missing = missing_outputs(workdir)
    if missing:
        raise SnapshotError(
            f"the run in {workdir} is incomplete: missing {', '.join(missing)} "
            "(finish it with snakemake first: a snapshot is only made from a finished run)"
        )


def rule_of(relpath: str) -> str:
    """The rule whose benchmark template (:func:`snnconv.workflow.artefacts.job_benchmark`) ``relpath``
    (``benchmarks/...``) matches, else its first folder."""
    return artefacts.rule_of_benchmark(relpath)


def read_benchmark(path: Path) -> pd.DataFrame:
    """One benchmark TSV (Snakemake's columns ``s``, ``cpu_time``, ...); ValueError naming the file if malformed."""
    try:
        frame = pd.read_csv(path, sep="\t")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: not a Snakemake benchmark TSV ({exc})") from exc
    if "s" not in frame.columns or frame.empty:
        raise ValueError(f"{path}: benchmark TSV lacks a column 's' or has no rows (columns {list(frame.columns)})")
    for col in ("s", "cpu_time"):
        if col in frame.columns:
            values = pd.to_numeric(frame[col], errors="coerce")
            if values.isna().any():
                bad = frame[col][values.isna()].iloc[0]
                raise ValueError(f"{path}: column {col!r} holds {bad!r}, not a number")
            frame[col] = values
    return frame


def foreign(relpath: str, cfg: dict[str, Any] | None) -> bool:
    """Whether a result or benchmark path names a dataset, architecture or seed outside ``cfg``'s sweep.

    Such files are left over from a run with another config in the same folder (e.g. ``make run`` before the
    study): they are not part of this run's time.
    """
    if cfg is None:
        return False
    from ..workflow.config import archs_of

    dataset = None
    for part in relpath.split("/"):
        stem = part.removesuffix(".tsv").removesuffix(".json")
        if stem in DATASETS:
            if stem not in cfg["datasets"]:
                return True
            dataset = stem
        if stem in ARCHS and stem not in (archs_of(cfg, dataset) if dataset else cfg["archs"]):
            return True
        if re.fullmatch(r"seed\d+", stem) and int(stem[4:]) not in cfg["seeds"]:
            return True
    return False


def stage_times(workdir: Path, cfg: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """Per rule: jobs (benchmark files), wall seconds (sum of ``s``) and CPU seconds (sum of ``cpu_time``).

    Benchmarks of datasets, architectures or seeds outside ``cfg`` are skipped (:func:`foreign`).
    """
    out: dict[str, dict[str, Any]] = {}
    for tsv in sorted((workdir / artefacts.BENCHMARKS).rglob("*.tsv")):
        if foreign(tsv.relative_to(workdir).as_posix(), cfg):
            continue
        rule = rule_of(tsv.relative_to(workdir).as_posix())
        frame = read_benchmark(tsv)
        entry = out.setdefault(rule, {"jobs": 0, "wall_s": 0.0, "cpu_s": 0.0})
        entry["jobs"] += 1
        entry["wall_s"] += float(frame["s"].sum())
        entry["cpu_s"] += float(frame["cpu_time"].sum()) if "cpu_time" in frame.columns else math.nan
    return {
        rule: {**v, "wall_s": round(v["wall_s"], 4), "cpu_s": round(v["cpu_s"], 4)} for rule, v in sorted(out.items())
    }


def iso_time(timestamp: float) -> str:
    """ISO-8601 UTC of a POSIX timestamp, to the second."""
    return dt.datetime.fromtimestamp(timestamp, tz=dt.UTC).isoformat(timespec="seconds")


def _record_output(record: Path, metadata: Path) -> str | None:
    """The output path a Snakemake metadata record is about (its name is the path, URL-safe base64, split)."""
    name = "".join(part.removeprefix("@") for part in record.relative_to(metadata).parts)
    try:
        return base64.urlsafe_b64decode(name.encode()).decode()
    except (ValueError, UnicodeDecodeError):
        return None


def run_period(workdir: Path, cfg: dict[str, Any] | None = None) -> dict[str, Any]:
    """Start, end and elapsed wall time of the run: Snakemake's job records, else the benchmark files' times.

    Snakemake keeps, per output, when its job started and ended (``.snakemake/metadata``); the run spans the
    earliest start to the latest end over the outputs still present (and, given ``cfg``, in its sweep).
    Without them, each benchmark file was written at its job's end, ``s`` seconds after its start.
    """
    starts, ends = [], []
    metadata = workdir / ".snakemake" / "metadata"
    for record in sorted(p for p in metadata.rglob("*") if p.is_file()):
        output = _record_output(record, metadata)
        if output is None or not (workdir / output).exists() or foreign(output, cfg):
            continue
        with contextlib.suppress(OSError, ValueError, json.JSONDecodeError):
            meta = json.loads(record.read_text())
            if isinstance(meta.get("starttime"), (int, float)) and isinstance(meta.get("endtime"), (int, float)):
                starts.append(float(meta["starttime"]))
                ends.append(float(meta["endtime"]))
    source = ".snakemake/metadata (job start and end times)"
    if not starts:
        source = "benchmarks/ (file time minus its wall seconds)"
        for tsv in (workdir / artefacts.BENCHMARKS).rglob("*.tsv"):
            if foreign(tsv.relative_to(workdir).as_posix(), cfg):
                continue
            end = tsv.stat().st_mtime
            starts.append(end - float(read_benchmark(tsv)["s"].sum()))
            ends.append(end)
    if not starts:
        return {"start": None, "end": None, "wall_s": None, "source": "none (no job records, no benchmarks)"}
    return {
        "start": iso_time(min(starts)),
        "end": iso_time(max(ends)),
        "wall_s": round(max(ends) - min(starts), 1),
        "source": source,
    }


def git_state(repo: Path = REPO) -> dict[str, Any]:
    """HEAD of the code's repository and whether its tree differs from it (modified or untracked files)."""

    def git(*args: str) -> subprocess.CompletedProcess:
        """Run one git command in ``repo``."""
        return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, timeout=30)

    try:
        head = git("rev-parse", "HEAD")
        status = git("status", "--porcelain")
    except (OSError, subprocess.TimeoutExpired) as exc:
        return {"revision": "unknown", "dirty": None, "error": str(exc)}
    if head.returncode != 0:
        return {"revision": "unknown", "dirty": None, "error": head.stderr.strip()}
    changed = [line[3:] for line in status.stdout.splitlines() if line.strip()]
    out: dict[str, Any] = {"revision": head.stdout.strip(), "dirty": bool(changed)}
    if changed:
        out["changed_files"] = changed[:20] + ([f"... and {len(changed) - 20} more"] if len(changed) > 20 else [])
    return out


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """``base`` updated by ``over``, mappings merged key by key (as Snakemake merges --configfile over configfile:)."""
    out = dict(base)
    for key, value in over.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def effective_config(config_path: Path, default: Path = DEFAULT_CONFIG) -> dict[str, Any]:
    """The config the workflow ran with: the Snakefile's ``config/config.yaml`` overlaid by ``config_path``, validated.

    Snakemake reads the Snakefile's ``configfile:`` relative to the working directory and skips it there when it
    is absent and ``--configfile`` is given, so ``default`` is the run folder's ``config/config.yaml``.
    """
    config = read_yaml_mapping(config_path)
    if default.is_file() and default.resolve() != config_path.resolve():
        config = _merge(read_yaml_mapping(default), config)
    return validate_config(config)
