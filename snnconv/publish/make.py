"""Making a results snapshot: what a finished run produced, copied into ``docs/results/<name>/`` with its provenance.

:func:`make_snapshot` copies the summary tables (CSV and Markdown), the figures (PNG), the paper PDF and the
config from a finished run, and writes ``PROVENANCE`` (YAML: command, config and its SHA-256, git revision,
package versions, machine, run start/end, wall time per rule from ``benchmarks/``) and a generated
``README.md``. It is built in a temporary folder beside the target and renamed into place, so a failure leaves
no half snapshot; an existing snapshot is replaced only with ``force``. Its last file, ``SHA256SUMS``
(:mod:`.manifest`), holds the SHA-256 of every other file. Before it is sealed, its tables are re-derived from
its data (:func:`snnconv.publish.verify.verify_tables`): a snapshot whose numbers do not follow from its data and
config is never written. The file names are :mod:`.layout`'s.

No torch import: versions come from package metadata (:mod:`snnconv.machine`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gzip
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from .. import machine
from ..atomic import sha256_file, write_text
from ..workflow import paths
from .layout import (
    ACCURACY_ALL_GZ,
    CONFIG_COPY,
    EFFECTIVE_CONFIG,
    FIGURES,
    PAPER_COPY,
    PROVENANCE,
    README,
    REDUCED,
    TABLES,
    TOOL,
    SnapshotError,
    read_provenance,
)
from .manifest import write_manifest
from .readme import readme
from .run import REPO, check_complete, effective_config, git_state, iso_time, run_period, stage_times
from .verify import check_configs, check_files, check_recorded, verify_tables

# Above this size accuracy_all.csv is committed gzip-compressed (plus a readable accuracy_at_T.csv).
MAX_PLAIN_BYTES = 5 * 2**20
# The packages whose versions PROVENANCE records (from package metadata; none is imported).
PACKAGES = ("torch", "numpy", "pandas", "scipy", "snakemake", "matplotlib", "seaborn")


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
    _gzip_file(all_csv, dest / ACCURACY_ALL_GZ)
    at_T = pd.concat(
        [chunk[chunk["t"].isin(list(T_points))] for chunk in pd.read_csv(all_csv, chunksize=200_000)],
        ignore_index=True,
    )
    at_T.to_csv(dest / REDUCED, index=False)
    return {**info, "kept_as": ACCURACY_ALL_GZ, "reduced": REDUCED, "reduced_rows": len(at_T)}


def paper_source(workdir: Path, paper_pdf: Path | None) -> Path | None:
    """The paper PDF to publish (``--paper-pdf``, else the run's paper/build/main.pdf), None if there is none.

    A PDF older than the results it reports (accuracy_all.csv, the paper macros) is stale: SnapshotError.
    """
    pdf = paper_pdf if paper_pdf is not None else workdir / paths.PAPER_PDF
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
            "made": iso_time(started),
            "tool": f"{TOOL} make",
            "workdir": str(workdir),
        },
    }


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
        prov["accuracy_all"] = copy_tables(workdir, tmp / TABLES, cfg["report"]["T_points"], max_plain_bytes)
        for png in sorted((workdir / paths.FIGURES).glob("*.png")):
            _copy_file(png, tmp / FIGURES / png.name)
        prov["paper_pdf"] = None
        if pdf is not None:
            _copy_file(pdf, tmp / PAPER_COPY)
            prov["paper_pdf"] = {"source": str(pdf), "copy": PAPER_COPY, "sha256": sha256_file(pdf)}
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
        f"# Provenance of this results snapshot, written by `{TOOL} make` (do not edit).\n"
        "# stages: per rule, jobs = benchmark files, wall_s / cpu_s = sums of their `s` / `cpu_time` columns.\n"
        "# run: the span from the first job's start to the last job's end; machine: where the snapshot was made.\n"
        "# Files of datasets, architectures or seeds outside the config (an earlier run in the folder) are left out.\n"
    )
    return head + yaml.safe_dump(prov, sort_keys=False, allow_unicode=True, width=120)
