"""A results snapshot: what a finished run produced, copied into ``docs/results/<name>/`` with its provenance.

:func:`make_snapshot` copies the summary tables (CSV and Markdown), the figures (PNG), the paper PDF and the
config from a finished run, and writes ``PROVENANCE`` (YAML: command, config and its SHA-256, git revision,
package versions, machine, run start/end, wall time per rule from ``benchmarks/``) and a generated
``README.md``. It is built in a temporary folder beside the target and renamed into place, so a failure leaves
no half snapshot; an existing snapshot is replaced only with ``force``. Its last file, ``SHA256SUMS`` (the format
of ``sha256sum``, so ``sha256sum -c SHA256SUMS`` checks it too), holds the SHA-256 of every other file.

:func:`verify_snapshot` proves a snapshot file by file: every file listed in ``SHA256SUMS`` is there with that
digest, no other file is there, every file a snapshot must hold (from PROVENANCE) is listed, the digests that
PROVENANCE records (config, paper PDF, data) match, and everything that can be re-derived is: the summary tables
with the pipeline's own code from the committed data and config (:func:`verify_tables`), the reduced
``accuracy_at_T.csv`` from the full data, the variance table's Markdown from its CSV, the effective config from
the config. A truncated or corrupt gzip is reported by name. An empty list of problems: the snapshot is intact.

CLI::

    python -m snnconv.report.snapshot --config CONFIG --workdir DIR --out docs/results/NAME --command "..."
    python -m snnconv.report.snapshot --verify docs/results/NAME
    python -m snnconv.report.snapshot --manifest docs/results/NAME   # README.md and SHA256SUMS of an older snapshot

No torch import: versions come from package metadata (:mod:`snnconv.machine`).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import datetime as dt
import gzip
import hashlib
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from .. import machine, paths
from ..atomic import sha256_file, write_text
from ..config import validate_config
from ..vocab import ARCHS, DATASETS
from ..workflow import artefacts

REPO = Path(__file__).resolve().parents[2]
DEFAULT_CONFIG = REPO / "config" / "config.yaml"
PROVENANCE = "PROVENANCE"
MANIFEST = "SHA256SUMS"
README = "README.md"
CONFIG_COPY = "config.yaml"
EFFECTIVE_CONFIG = "config.effective.yaml"
PAPER_PDF = "paper/build/main.pdf"
# Above this size accuracy_all.csv is committed gzip-compressed (plus a readable accuracy_at_T.csv).
MAX_PLAIN_BYTES = 5 * 2**20
PACKAGES = ("torch", "numpy", "pandas", "scipy", "snakemake", "matplotlib", "seaborn")
# Tables that cannot be recomputed from the snapshot (they need the membrane statistics of results/stats/).
NOT_REDERIVABLE = ("variance_correlation",)
FLOAT_RTOL = 1e-12


class SnapshotError(RuntimeError):
    """A snapshot cannot be made (incomplete run, existing target, stale paper); the message says what and where."""


# ------------------------------------------------------------------------------------------ run inspection


def published_outputs() -> list[str]:
    """The figures and tables a snapshot publishes (the artefact catalogue's ``published``), as a run writes them:
    a figure's PNG, a table's CSV and Markdown."""
    ordered = [*artefacts.tables(), *artefacts.figures()]  # tables first: the run's numbers, then its pictures
    return [a.path(fmt) for a in ordered if a.published for fmt in a.published_formats]


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
    from ..config import archs_of

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


def _iso(timestamp: float) -> str:
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
        "start": _iso(min(starts)),
        "end": _iso(max(ends)),
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


# ------------------------------------------------------------------------------------------ config


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """``base`` updated by ``over``, mappings merged key by key (as Snakemake merges --configfile over configfile:)."""
    out = dict(base)
    for key, value in over.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def _read_yaml_mapping(path: Path) -> dict[str, Any]:
    """A YAML file that must hold a mapping; SnapshotError naming the file otherwise."""
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise SnapshotError(f"{path}: cannot read the config ({exc})") from exc
    if not isinstance(data, dict):
        raise SnapshotError(f"{path}: a config must be a YAML mapping, got {type(data).__name__}")
    return data


def effective_config(config_path: Path, default: Path = DEFAULT_CONFIG) -> dict[str, Any]:
    """The config the workflow ran with: the Snakefile's ``config/config.yaml`` overlaid by ``config_path``, validated.

    Snakemake reads the Snakefile's ``configfile:`` relative to the working directory and skips it there when it
    is absent and ``--configfile`` is given, so ``default`` is the run folder's ``config/config.yaml``.
    """
    config = _read_yaml_mapping(config_path)
    if default.is_file() and default.resolve() != config_path.resolve():
        config = _merge(_read_yaml_mapping(default), config)
    return validate_config(config)


# ------------------------------------------------------------------------------------------ copying


def _copy_file(src: Path, dst: Path) -> None:
    """Copy one file's bytes (and times) into the snapshot."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(src, dst)


def _gzip_file(src: Path, dst: Path) -> None:
    """Gzip ``src`` into ``dst`` with no name or time in the header (same input, same bytes)."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    with open(src, "rb") as raw, open(dst, "wb") as out:
        with gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0, compresslevel=9) as packed:
            shutil.copyfileobj(raw, packed, 2**20)


def copy_tables(workdir: Path, dest: Path, T_points: Sequence[int], max_plain_bytes: int) -> dict[str, Any]:
    """Copy results/tables/*.csv and *.md into ``dest``; accuracy_all.csv verbatim, or gzipped if large.

    A large accuracy_all.csv is kept gzip-compressed (every t is needed to recompute "timesteps to reach the
    ANN") beside ``accuracy_at_T.csv``, its rows at the report's T points, readable without unpacking.
    Returns how accuracy_all was kept.
    """
    tables = workdir / paths.TABLES
    all_csv = workdir / paths.ACCURACY_ALL
    for src in sorted([*tables.glob("*.csv"), *tables.glob("*.md")]):
        if src.name != all_csv.name:
            _copy_file(src, dest / src.name)
    size = all_csv.stat().st_size
    info: dict[str, Any] = {"bytes": size, "sha256": sha256_file(all_csv)}
    if size <= max_plain_bytes:
        _copy_file(all_csv, dest / all_csv.name)
        return {**info, "kept_as": all_csv.name}
    _gzip_file(all_csv, dest / f"{all_csv.name}.gz")
    at_T = pd.concat(
        [chunk[chunk["t"].isin(list(T_points))] for chunk in pd.read_csv(all_csv, chunksize=200_000)],
        ignore_index=True,
    )
    at_T.to_csv(dest / "accuracy_at_T.csv", index=False)
    return {**info, "kept_as": f"{all_csv.name}.gz", "reduced": "accuracy_at_T.csv", "reduced_rows": len(at_T)}


def paper_source(workdir: Path, paper_pdf: Path | None) -> Path | None:
    """The paper PDF to publish (``--paper-pdf``, else the run's paper/build/main.pdf), None if there is none.

    A PDF older than the results it reports (accuracy_all.csv, the paper macros) is stale: SnapshotError.
    """
    pdf = paper_pdf if paper_pdf is not None else workdir / PAPER_PDF
    if not pdf.is_file():
        if paper_pdf is not None:
            raise SnapshotError(f"--paper-pdf {paper_pdf}: no such file")
        return None
    for source in (workdir / paths.ACCURACY_ALL, workdir / paths.PAPER_MACROS):
        if source.is_file() and source.stat().st_mtime > pdf.stat().st_mtime + 1:
            raise SnapshotError(
                f"the paper {pdf} is older than {source}: rebuild it (snakemake paper) before the snapshot"
            )
    return pdf


# ------------------------------------------------------------------------------------------ provenance


def provenance(
    command: str,
    config_path: Path,
    workdir: Path,
    started: float,
    cfg: dict[str, Any] | None = None,
    repo: Path = REPO,
) -> dict[str, Any]:
    """Everything a reader needs to know where the snapshot's numbers came from (see the module docstring)."""
    from ..simulate.stream import NAME as stream_name  # the input spike stream the simulations drew from

    stages = stage_times(workdir, cfg)
    return {
        "command": command,
        "stream": stream_name,
        "config": {"path": str(config_path), "sha256": sha256_file(config_path), "copy": CONFIG_COPY},
        "code": git_state(repo),
        "packages": machine.package_versions(PACKAGES),
        "machine": machine.describe(),
        "run": run_period(workdir, cfg),
        "stages": stages,
        "stage_totals": {
            "jobs": sum(v["jobs"] for v in stages.values()),
            "wall_s": round(sum(v["wall_s"] for v in stages.values()), 4),
            "cpu_s": round(sum(v["cpu_s"] for v in stages.values()), 4),
        },
        "snapshot": {
            "made": _iso(started),
            "tool": "python -m snnconv.report.snapshot",
            "workdir": str(workdir),
        },
    }


def _human_bytes(n: int) -> str:
    """'1.2 MB' style size."""
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n} B"


def readme(dest: Path, prov: dict[str, Any], name: str) -> str:
    """The snapshot's generated README.md: files, provenance summary and the headline tables inlined."""
    code, run, acc = prov["code"], prov["run"], prov["accuracy_all"]
    dirty = {True: " (tree had uncommitted changes)", False: " (clean tree)", None: ""}[code.get("dirty")]
    lines = [
        f"# Results snapshot `{name}`",
        "",
        "Generated by `python -m snnconv.report.snapshot` from a finished run; never edited by hand (regenerate",
        "it instead). `python -m snnconv.report.snapshot --verify <this folder>` checks every file against",
        f"`{MANIFEST}` (missing and extra files included), compares the digests PROVENANCE records and recomputes",
        "the tables from the data and config committed here; it lists every problem.",
        "",
        "## Provenance",
        "",
        f"- command: `{prov['command']}`",
        f"- config: `{prov['config']['path']}` (copy: `{CONFIG_COPY}`, with defaults filled in: `{EFFECTIVE_CONFIG}`),"
        f" SHA-256 `{prov['config']['sha256']}`",
        f"- code: git `{code['revision']}`{dirty}",
        f"- run: {run['start']} → {run['end']}, {run['wall_s']} s wall (from {run['source']})",
        f"- machine: {prov['machine']['cpu']}, {prov['machine']['nproc']} cores, "
        f"{prov['machine']['memory_total_gib']} GiB, {prov['machine']['os']}",
        "- packages: " + ", ".join(f"{k} {v or 'not installed'}" for k, v in prov["packages"].items()),
        "",
        "Wall and CPU seconds per rule, summed over its jobs' `benchmarks/` files:",
        "",
        "| rule | jobs | wall s | CPU s |",
        "| --- | ---: | ---: | ---: |",
    ]
    for rule, v in sorted(prov["stages"].items(), key=lambda kv: -kv[1]["wall_s"]):
        lines.append(f"| {rule} | {v['jobs']} | {v['wall_s']:.1f} | {v['cpu_s']:.1f} |")
    t = prov["stage_totals"]
    lines += [f"| **total** | {t['jobs']} | {t['wall_s']:.1f} | {t['cpu_s']:.1f} |", ""]
    for stem in artefacts.headline_tables():
        if (dest / "tables" / f"{stem}.md").is_file():
            lines += [f"## `{stem}`", "", (dest / "tables" / f"{stem}.md").read_text().rstrip(), ""]
    figures = sorted((dest / "figures").glob("*.png"))
    if figures:
        lines += ["## Figures", ""]
        lines += [f"![{png.stem}](figures/{png.name})" for png in figures]
        lines.append("")
    lines += ["## Files", ""]
    for path in sorted(p for p in dest.rglob("*") if p.is_file() and p.name not in (README, MANIFEST)):
        lines.append(f"- `{path.relative_to(dest).as_posix()}` ({_human_bytes(path.stat().st_size)})")
    lines += [
        f"- `{README}` (this file)",
        f"- `{MANIFEST}` (SHA-256 of every other file; `sha256sum -c {MANIFEST}`)",
        "",
    ]
    if acc["kept_as"].endswith(".gz"):
        lines += [
            f"`accuracy_all.csv` ({_human_bytes(acc['bytes'])}) is over the plain-file limit: it is kept as "
            f"`tables/{acc['kept_as']}` (gzip; `pandas.read_csv` reads it as is; SHA-256 of the uncompressed file "
            f"`{acc['sha256']}`), and `tables/{acc['reduced']}` holds its rows at the report's T points. Every t is "
            "kept because the timesteps to reach the ANN cannot be recomputed from the T points alone.",
            "",
        ]
    lines += [
        "Not recomputable from this folder: " + ", ".join(f"`{s}`" for s in NOT_REDERIVABLE) + " (it needs the "
        "membrane statistics in `results/stats/`, which are not published here).",
    ]
    if prov.get("paper_pdf") is None:
        lines += ["", "The paper PDF was not built for this run (`snakemake paper`), so it is not included."]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------------------ the snapshot


@contextlib.contextmanager
def _staging(out: Path) -> Iterator[Path]:
    """A fresh folder beside ``out``; removed when the block fails (or after it, if it was not moved)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    try:
        yield tmp
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)


def _move_into_place(tmp: Path, out: Path, force: bool) -> None:
    """Rename ``tmp`` to ``out``; an existing ``out`` is replaced only with ``force`` (kept if the swap fails)."""
    if not out.exists():
        os.rename(tmp, out)
        return
    if not force:
        raise SnapshotError(f"{out} exists: a snapshot is never overwritten without --force")
    old = out.with_name(f".{out.name}.old-{os.getpid()}")
    os.rename(out, old)
    try:
        os.rename(tmp, out)
    except OSError:
        os.rename(old, out)
        raise
    shutil.rmtree(old)


def make_snapshot(
    config: str | Path,
    workdir: str | Path,
    out: str | Path,
    command: str,
    paper_pdf: str | Path | None = None,
    force: bool = False,
    max_plain_bytes: int = MAX_PLAIN_BYTES,
    repo: Path = REPO,
) -> Path:
    """Publish the finished run in ``workdir`` (made with ``config`` by ``command``) as the folder ``out``."""
    started = dt.datetime.now(dt.UTC).timestamp()
    config_path, workdir, out = Path(config), Path(workdir), Path(out)
    if out.exists() and not force:
        raise SnapshotError(f"{out} exists: a snapshot is never overwritten without --force")
    if not config_path.is_file():
        raise SnapshotError(f"--config {config_path}: no such file")
    check_complete(workdir)
    cfg = effective_config(config_path, workdir / "config" / "config.yaml")
    pdf = paper_source(workdir, Path(paper_pdf) if paper_pdf is not None else None)
    prov = provenance(command, config_path, workdir, started, cfg, repo)
    with _staging(out) as tmp:
        prov["accuracy_all"] = copy_tables(workdir, tmp / "tables", cfg["report"]["T_points"], max_plain_bytes)
        for png in sorted((workdir / paths.FIGURES).glob("*.png")):
            _copy_file(png, tmp / "figures" / png.name)
        prov["paper_pdf"] = None
        if pdf is not None:
            _copy_file(pdf, tmp / "main.pdf")
            prov["paper_pdf"] = {"source": str(pdf), "copy": "main.pdf", "sha256": sha256_file(pdf)}
        _copy_file(config_path, tmp / CONFIG_COPY)
        write_text(tmp / EFFECTIVE_CONFIG, yaml.safe_dump(cfg, sort_keys=False))
        write_text(tmp / PROVENANCE, _provenance_text(prov))
        problems = verify_tables(tmp)
        if problems:
            raise SnapshotError(
                f"the tables of {workdir} do not follow from its data under {config_path} (wrong --config?): "
                + "; ".join(p.replace(str(tmp), str(out)) for p in problems[:5])
            )
        write_text(tmp / README, readme(tmp, prov, out.name))
        write_manifest(tmp)
        sealed = read_provenance(tmp)  # the tables were re-derived above: check the files and what they record
        problems = check_files(tmp, sealed) + check_recorded(tmp, sealed) + check_configs(tmp)
        if problems:
            raise SnapshotError(f"the new snapshot does not verify: {'; '.join(problems[:5])}")
        _move_into_place(tmp, out, force)
    return out


def _provenance_text(prov: dict[str, Any]) -> str:
    """PROVENANCE as commented YAML (human-readable; ``yaml.safe_load`` reads it back)."""
    head = (
        "# Provenance of this results snapshot, written by `python -m snnconv.report.snapshot` (do not edit).\n"
        "# stages: per rule, jobs = benchmark files, wall_s / cpu_s = sums of their `s` / `cpu_time` columns.\n"
        "# run: the span from the first job's start to the last job's end; machine: where the snapshot was made.\n"
        "# Files of datasets, architectures or seeds outside the config (an earlier run in the folder) are left out.\n"
    )
    return head + yaml.safe_dump(prov, sort_keys=False, allow_unicode=True, width=120)


def read_provenance(snapshot_dir: str | Path) -> dict[str, Any]:
    """The PROVENANCE of a snapshot, as a mapping; SnapshotError naming the file if it is missing or malformed."""
    path = Path(snapshot_dir) / PROVENANCE
    return _read_yaml_mapping(path) if path.is_file() else _missing(path)


def _missing(path: Path) -> dict[str, Any]:
    """Raise SnapshotError for a file a snapshot must hold."""
    raise SnapshotError(f"{path}: missing (not a snapshot made by snnconv.report.snapshot?)")


# ------------------------------------------------------------------------------------------ drift check


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
    for name in ("accuracy_all.csv", "accuracy_all.csv.gz"):
        if (tables / name).is_file():
            return tables / name
    raise SnapshotError(f"{tables}: neither accuracy_all.csv nor accuracy_all.csv.gz (the data the tables come from)")


def _recompute(df: pd.DataFrame, tables: Path, cfg: dict[str, Any], work: Path) -> list[str]:
    """Write every recomputable table of the snapshot into ``work`` with the pipeline's own code; their stems."""
    from .. import settings
    from .tables import accuracy_tables, best_method_table

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
        from .variance_claim import correlation_table

        correlation_table(pd.read_csv(tables / "variance_correlation.csv"), work / "variance_correlation")
        stems.append("variance_correlation")  # its Markdown and LaTeX follow from its CSV
    if (tables / "l4_comparison.csv").is_file() and (tables / "variance_correlation.csv").is_file():
        from ..analysis.controls import control_names
        from .macros import l4_comparison_table, paper_macros

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
    return validate_config(_read_yaml_mapping(config if config.is_file() else snap / CONFIG_COPY))


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
    tables = snap / "tables"
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


# ------------------------------------------------------------------------------------------ manifest


def snapshot_files(folder: Path) -> list[str]:
    """Every file below ``folder`` (hidden ones and links included), relative and '/'-separated, except the manifest."""
    out = []
    for path in sorted(folder.rglob("*")):
        if path.is_file() or path.is_symlink():
            rel = path.relative_to(folder).as_posix()
            if rel != MANIFEST:
                out.append(rel)
    return out


def write_manifest(folder: str | Path) -> Path:
    """Write ``SHA256SUMS``: '<sha256>  <path>' for every other file of the snapshot, sorted (sha256sum's format)."""
    folder = Path(folder)
    lines = [f"{sha256_file(folder / rel)}  {rel}\n" for rel in snapshot_files(folder)]
    write_text(folder / MANIFEST, "".join(lines))
    return folder / MANIFEST


_MANIFEST_LINE = re.compile(r"([0-9a-f]{64}) [ *](\S.*)")


def read_manifest(folder: Path) -> tuple[dict[str, str], list[str]]:
    """(path -> SHA-256, problems) of a snapshot's ``SHA256SUMS``; a malformed, unsafe or repeated line is a problem."""
    path = folder / MANIFEST
    if not path.is_file():
        return {}, [
            f"{path}: missing (the SHA-256 of every file; regenerate with --manifest if the snapshot predates it)"
        ]
    listed: dict[str, str] = {}
    problems = []
    for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
        m = _MANIFEST_LINE.fullmatch(line)
        if m is None:
            problems.append(f"{path}: line {number} is not '<sha256>  <path>': {line[:80]!r}")
            continue
        digest, rel = m.groups()
        parts = rel.split("/")
        if rel.startswith("/") or ".." in parts or "" in parts:
            problems.append(f"{path}: line {number}: unsafe path {rel!r} (absolute or '..')")
        elif rel in listed:
            problems.append(f"{path}: line {number}: {rel} listed twice")
        else:
            listed[rel] = digest
    return listed, problems


def required_files(prov: dict[str, Any]) -> list[str]:
    """The files every snapshot holds, by what its PROVENANCE says was published."""
    need = [PROVENANCE, README, CONFIG_COPY, EFFECTIVE_CONFIG]
    need += [Path(p).relative_to(paths.RESULTS).as_posix() for p in published_outputs()]  # figures/, tables/
    acc = prov.get("accuracy_all") or {}
    need += [f"tables/{acc['kept_as']}"] if acc.get("kept_as") else ["tables/accuracy_all.csv"]
    need += [f"tables/{acc['reduced']}"] if acc.get("reduced") else []
    need += ["main.pdf"] if prov.get("paper_pdf") else []
    return need


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
        checks.append((snap / "main.pdf", prov["paper_pdf"].get("sha256"), "paper_pdf.sha256"))
    elif (snap / "main.pdf").exists():
        problems.append(f"{snap / 'main.pdf'}: {PROVENANCE} records no paper PDF for this run")
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
        effective = _read_yaml_mapping(snap / EFFECTIVE_CONFIG)
        given = _read_yaml_mapping(snap / CONFIG_COPY)
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
    known = set(required_files(prov)) | {f"tables/{p.name}" for p in (snap / "tables").glob("*.csv")}
    known |= {f"tables/{p.name}" for p in (snap / "tables").glob("*.md")} | {MANIFEST}
    known |= {f"figures/{p.name}" for p in (snap / "figures").glob("*.png")}  # the tool copies every PNG figure
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


# ------------------------------------------------------------------------------------------ CLI


def main(argv: Sequence[str] | None = None) -> int:
    """Make a snapshot (or, with --verify, check one); exit status 1 with the reason on failure."""
    parser = argparse.ArgumentParser(prog="python -m snnconv.report.snapshot", description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", help="the config file the run used")
    parser.add_argument("--workdir", default=str(REPO), help="the finished run's folder (default: the repository)")
    parser.add_argument("--out", help="the snapshot folder to create, e.g. docs/results/NAME")
    parser.add_argument("--command", help="the command that produced the run, recorded verbatim")
    parser.add_argument("--paper-pdf", help=f"the paper PDF (default: WORKDIR/{PAPER_PDF} if present)")
    parser.add_argument("--force", action="store_true", help="replace an existing snapshot folder")
    parser.add_argument(
        "--max-plain-mb", type=float, default=MAX_PLAIN_BYTES / 2**20, help="gzip accuracy_all.csv above this size"
    )
    parser.add_argument(
        "--verify", metavar="SNAPSHOT", help="check every file of a snapshot and recompute its tables; list problems"
    )
    parser.add_argument(
        "--manifest",
        metavar="SNAPSHOT",
        help="regenerate README.md and SHA256SUMS of a snapshot that verifies otherwise",
    )
    args = parser.parse_args(argv)
    try:
        if args.verify:
            problems = verify_snapshot(args.verify)
            for line in problems:
                print(line)
            if problems:
                print(f"{args.verify}: {len(problems)} problem(s)")
            else:
                n = len(read_manifest(Path(args.verify))[0])
                print(f"{args.verify}: OK, {n} files match {MANIFEST}, no drift in the re-derived tables")
            return 1 if problems else 0
        if args.manifest:
            print(f"written: {reseal(args.manifest)}")
            return 0
        missing = [f"--{k}" for k in ("config", "out", "command") if not getattr(args, k)]
        if missing:
            parser.error(f"{', '.join(missing)} required to make a snapshot")
        out = make_snapshot(
            args.config,
            args.workdir,
            args.out,
            args.command,
            paper_pdf=args.paper_pdf,
            force=args.force,
            max_plain_bytes=int(args.max_plain_mb * 2**20),
        )
    except (SnapshotError, ValueError) as exc:
        print(f"snapshot: {exc}", file=sys.stderr)
        return 1
    print(f"snapshot written: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
