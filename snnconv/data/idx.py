"""Reader for IDX files (MNIST, Fashion-MNIST), gzip-compressed or raw, with header and size checks."""

from __future__ import annotations

import gzip
import hashlib
import zlib
from pathlib import Path

import numpy as np

from .checksums import IDX_SHA256, check_digest
from .prepared import ArrayDataset

IMAGES_MAGIC = 2051  # 0x00000803: uint8, 3 dimensions (count, rows, cols)
LABELS_MAGIC = 2049  # 0x00000801: uint8, 1 dimension (count)

CLASSES = {
    "mnist": [str(i) for i in range(10)],
    "fashion_mnist": ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                      "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"],
}


class IdxError(ValueError):
    """An IDX file is malformed (bad magic, wrong size, corrupt gzip) or inconsistent with its pair."""


def read_bytes(path: str | Path) -> bytes:
    """The file's (decompressed, if it starts with the gzip magic) contents."""
    path = Path(path)
    with open(path, "rb") as handle:
        is_gzip = handle.read(2) == b"\x1f\x8b"
    try:
        if is_gzip:
            with gzip.open(path, "rb") as handle:
                return handle.read()
        return path.read_bytes()
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise IdxError(f"{path}: truncated or corrupt gzip data ({exc})") from exc


def parse_idx(data: bytes, expected_magic: int, label: str | Path = "<bytes>") -> np.ndarray:
    """Decode an uncompressed uint8 IDX payload, checking magic number and exact size."""
    if len(data) < 4:
        raise IdxError(f"{label}: {len(data)} bytes, too short for an IDX header")
    magic = int.from_bytes(data[:4], "big")
    if magic != expected_magic:
        raise IdxError(f"{label}: magic number {magic} (0x{magic:08x}), expected {expected_magic} "
                       f"(0x{expected_magic:08x}); not an IDX {'image' if expected_magic == IMAGES_MAGIC else 'label'} file")
    ndim = data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise IdxError(f"{label}: truncated header")
    dims = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    size = header + int(np.prod(dims, dtype=np.int64))
    if len(data) != size:
        kind = "truncated" if len(data) < size else "trailing bytes"
        raise IdxError(f"{label}: {kind}: dimensions {dims} need {size} bytes, file has {len(data)}")
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(dims)


def read_idx(path: str | Path, expected_magic: int, expected_sha256: str | None = None) -> tuple[np.ndarray, str]:
    """Read one IDX file; returns the array and the SHA-256 of its uncompressed bytes (checked if given)."""
    data = read_bytes(path)
    digest = check_digest(f"{path} (uncompressed)", hashlib.sha256(data).hexdigest(), expected_sha256)
    return parse_idx(data, expected_magic, path), digest


def read_idx_pair(images_path: str | Path, labels_path: str | Path,
                  sha256: dict[str, str | None] | None = None) -> tuple[np.ndarray, np.ndarray, dict[str, str]]:
    """Images (N×1×H×W uint8) and labels (int64) from a matching pair; ``sha256`` maps path → expected digest."""
    sha256 = sha256 or {}
    images, img_digest = read_idx(images_path, IMAGES_MAGIC, sha256.get(str(images_path)))
    labels, lbl_digest = read_idx(labels_path, LABELS_MAGIC, sha256.get(str(labels_path)))
    if len(images) != len(labels):
        raise IdxError(f"count mismatch: {images_path} holds {len(images)} images "
                       f"but {labels_path} holds {len(labels)} labels")
    digests = {str(images_path): img_digest, str(labels_path): lbl_digest}
    return images[:, None, :, :].copy(), labels.astype(np.int64), digests


def find_idx_file(folder: str | Path, stem: str) -> Path:
    """``folder/stem.gz`` or ``folder/stem``; FileNotFoundError naming both if neither exists."""
    for candidate in (Path(folder) / f"{stem}.gz", Path(folder) / stem):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"{Path(folder) / stem}.gz (or uncompressed {stem}) not found")


def load_idx_dataset(folder: str | Path, name: str,
                     expected: dict[str, str] | None = None) -> tuple[ArrayDataset, dict]:
    """MNIST-layout folder → ArrayDataset, verified against ``expected`` (stem → SHA-256; default: known table)."""
    table = IDX_SHA256[name] if expected is None else expected
    split_arrays, files = {}, {}
    for split, prefix in (("train", "train"), ("test", "t10k")):
        stems = (f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte")
        paths = [find_idx_file(folder, stem) for stem in stems]
        wanted = {str(p): table.get(stem) for p, stem in zip(paths, stems)}
        x, y, digests = read_idx_pair(*paths, sha256=wanted)
        split_arrays[split] = (x, y)
        files.update({p: {"sha256_uncompressed": d, "verified": wanted[p] is not None} for p, d in digests.items()})
    (x_tr, y_tr), (x_te, y_te) = split_arrays["train"], split_arrays["test"]
    ds = ArrayDataset(name, x_tr, y_tr, x_te, y_te, classes=list(CLASSES[name]))
    return ds, {"kind": "idx", "folder": str(folder), "files": files}
