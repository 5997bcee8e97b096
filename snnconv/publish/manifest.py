"""A snapshot's ``SHA256SUMS``: the SHA-256 of every other file, in the format of ``sha256sum``.

Written last when a snapshot is made (:mod:`.make`) or resealed, read back file by file when it is verified
(:mod:`.verify`); ``sha256sum -c SHA256SUMS`` inside the folder checks it too.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..atomic import sha256_file, write_text
from .layout import MANIFEST, TOOL


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
            f"{path}: missing (the SHA-256 of every file; regenerate with `{TOOL} reseal` if the snapshot predates it)"
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
