"""Reader for IDX files (MNIST, Fashion-MNIST), gzip-compressed or raw, with header and size checks."""

from __future__ import annotations

import gzip
import hashlib
import math
import os
import zlib
from pathlib import Path

import numpy as np

from .checksums import IDX_SHA256, IDX_SIZES, check_digest
from .prepared import ArrayDataset

IMAGES_MAGIC = 2051  # 0x00000803: uint8, 3 dimensions (count, rows, cols)
LABELS_MAGIC = 2049  # 0x00000801: uint8, 1 dimension (count)

CLASSES = {
    "mnist": [str(i) for i in range(10)],
    "fashion_mnist": [
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ],
}


class IdxError(ValueError):
    """An IDX file is malformed (bad magic, wrong size, corrupt gzip) or inconsistent with its pair."""


CHUNK = 1 << 20  # bytes decompressed per read: memory stays bounded whatever the file claims
MAX_IDX_BYTES = max(IDX_SIZES.values())  # the largest known IDX file, uncompressed


class _IdxStream:
    """The (decompressed, if gzip) bytes of an IDX file, read in bounded chunks and hashed as they pass."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        with open(self.path, "rb") as handle:
            self.is_gzip = handle.read(2) == b"\x1f\x8b"
        self.handle = gzip.open(self.path, "rb") if self.is_gzip else open(self.path, "rb")
        self.digest = hashlib.sha256()
        self.count = 0

    def __enter__(self) -> _IdxStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.handle.close()

    def read(self, n: int) -> bytes:
        """Up to ``n`` bytes (fewer only at the end of the data); IdxError for corrupt gzip."""
        parts, left = [], n
        while left > 0:
            try:
                block = self.handle.read(min(left, CHUNK))
            except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
                raise IdxError(f"{self.path}: truncated or corrupt gzip data ({exc})") from exc
            if not block:
                break
            parts.append(block)
            left -= len(block)
        data = b"".join(parts)
        self.digest.update(data)
        self.count += len(data)
        return data

    def readinto(self, buffer: memoryview) -> int:
        """Fill ``buffer`` chunk by chunk; returns the bytes read (fewer only at the end of the data)."""
        filled = 0
        while filled < len(buffer):
            block = self.read(min(CHUNK, len(buffer) - filled))
            if not block:
                break
            buffer[filled : filled + len(block)] = block
            filled += len(block)
        return filled


def read_bytes(path: str | Path, max_bytes: int = MAX_IDX_BYTES) -> bytes:
    """The file's (decompressed, if it starts with the gzip magic) contents; IdxError beyond ``max_bytes``."""
    with _IdxStream(path) as stream:
        data = stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise IdxError(
            f"{path}: decompresses to more than {max_bytes} bytes, more than any known IDX file "
            "(a decompression bomb or the wrong file); refusing"
        )
    return data


def idx_digest(path: str | Path, max_bytes: int = MAX_IDX_BYTES) -> str:
    """SHA-256 of the uncompressed bytes, streamed; IdxError (naming the file) past ``max_bytes``."""
    with _IdxStream(path) as stream:
        while stream.read(CHUNK) and stream.count <= max_bytes:
            pass
    if stream.count > max_bytes:
        raise IdxError(
            f"{path}: decompresses to more than {max_bytes} bytes, more than any known IDX file "
            "(a decompression bomb or the wrong file); refusing"
        )
    return stream.digest.hexdigest()


def parse_idx(data: bytes, expected_magic: int, label: str | Path = "<bytes>") -> np.ndarray:
    """Decode an uncompressed uint8 IDX payload, checking magic number and exact size."""
    if len(data) < 4:
        raise IdxError(f"{label}: {len(data)} bytes, too short for an IDX header")
    _check_magic(int.from_bytes(data[:4], "big"), expected_magic, label)
    ndim = data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise IdxError(f"{label}: truncated header")
    dims = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    size = header + int(np.prod(dims, dtype=np.int64))
    if len(data) != size:
        kind = "truncated" if len(data) < size else "trailing bytes"
        raise IdxError(f"{label}: {kind}: dimensions {dims} need {size} bytes, file has {len(data)}")
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(dims)


def _check_magic(magic: int, expected_magic: int, label: str | Path) -> None:
    """IdxError unless the magic number is the expected one."""
    if magic != expected_magic:
        raise IdxError(
            f"{label}: magic number {magic} (0x{magic:08x}), expected {expected_magic} "
            f"(0x{expected_magic:08x}); not an IDX {'image' if expected_magic == IMAGES_MAGIC else 'label'} file"
        )


def read_idx(
    path: str | Path, expected_magic: int, expected_sha256: str | None = None, max_bytes: int = MAX_IDX_BYTES
) -> tuple[np.ndarray, str]:
    """Read one IDX file, streaming: header first, then exactly the payload it announces (refused above
    ``max_bytes``), hashed on the way; returns the array and the SHA-256 of the uncompressed bytes."""
    with _IdxStream(path) as stream:
        head = stream.read(4)
        if len(head) < 4:
            raise IdxError(f"{path}: {len(head)} bytes, too short for an IDX header")
        _check_magic(int.from_bytes(head, "big"), expected_magic, path)
        ndim = head[3]
        raw_dims = stream.read(4 * ndim)
        if len(raw_dims) < 4 * ndim:
            raise IdxError(f"{path}: truncated header")
        dims = tuple(int.from_bytes(raw_dims[4 * i : 4 * i + 4], "big") for i in range(ndim))
        header = 4 + 4 * ndim
        size = header + math.prod(dims)  # Python ints: no overflow whatever the header claims
        if size > max_bytes:
            raise IdxError(
                f"{path}: header claims dimensions {dims} ({size} bytes uncompressed), more than the "
                f"{max_bytes} bytes of the known file; refusing (corrupt header or decompression bomb)"
            )
        payload = np.empty(size - header, dtype=np.uint8)
        got = stream.readinto(memoryview(payload))
        if got < len(payload):
            raise IdxError(f"{path}: truncated: dimensions {dims} need {size} bytes, file has {header + got}")
        if stream.read(1):
            raise IdxError(f"{path}: trailing bytes: dimensions {dims} need {size} bytes, file has more")
        digest = check_digest(f"{path} (uncompressed)", stream.digest.hexdigest(), expected_sha256)
    return payload.reshape(dims), digest


def read_idx_pair(
    images_path: str | Path,
    labels_path: str | Path,
    sha256: dict[str, str | None] | None = None,
    max_bytes: tuple[int, int] = (MAX_IDX_BYTES, MAX_IDX_BYTES),
) -> tuple[np.ndarray, np.ndarray, dict[str, str]]:
    """Images (N×1×H×W uint8) and labels (int64) from a matching pair; ``sha256`` maps path → expected digest,
    ``max_bytes`` bounds what each file may decompress to."""
    sha256 = sha256 or {}
    images, img_digest = read_idx(images_path, IMAGES_MAGIC, sha256.get(str(images_path)), max_bytes[0])
    labels, lbl_digest = read_idx(labels_path, LABELS_MAGIC, sha256.get(str(labels_path)), max_bytes[1])
    if len(images) != len(labels):
        raise IdxError(
            f"count mismatch: {images_path} holds {len(images)} images but {labels_path} holds {len(labels)} labels"
        )
    digests = {str(images_path): img_digest, str(labels_path): lbl_digest}
    return images[:, None, :, :].copy(), labels.astype(np.int64), digests


def find_idx_file(folder: str | Path, stem: str) -> Path:
    """``folder/stem.gz`` or ``folder/stem``; FileNotFoundError naming both if neither exists, and naming what is
    there instead when one of the names is taken by something that is not a file (a folder, a broken link)."""
    candidates = (Path(folder) / f"{stem}.gz", Path(folder) / stem)
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    for candidate in candidates:
        if candidate.is_symlink() and not candidate.exists():
            raise FileNotFoundError(f"{candidate}: a broken symbolic link (to {os.readlink(candidate)!r}), not a file")
        if candidate.exists():
            kind = "a directory" if candidate.is_dir() else "not a regular file"
            raise FileNotFoundError(
                f"{candidate}: is {kind}, expected the file {candidate.name} (the publisher's file, not a folder: "
                "if it was unpacked into a folder of that name, put the file itself there)"
            )
    raise FileNotFoundError(f"{Path(folder) / stem}.gz (or uncompressed {stem}) not found")


def load_idx_dataset(
    folder: str | Path, name: str, expected: dict[str, str] | None = None
) -> tuple[ArrayDataset, dict]:
    """MNIST-layout folder → ArrayDataset, verified against ``expected`` (stem → SHA-256; default: known table)."""
    table = IDX_SHA256[name] if expected is None else expected
    split_arrays, files = {}, {}
    for split, prefix in (("train", "train"), ("test", "t10k")):
        stems = (f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte")
        paths = [find_idx_file(folder, stem) for stem in stems]
        wanted = {str(p): table.get(stem) for p, stem in zip(paths, stems)}
        x, y, digests = read_idx_pair(*paths, sha256=wanted, max_bytes=tuple(IDX_SIZES[stem] for stem in stems))
        split_arrays[split] = (x, y)
        files.update({p: {"sha256_uncompressed": d, "verified": wanted[p] is not None} for p, d in digests.items()})
    (x_tr, y_tr), (x_te, y_te) = split_arrays["train"], split_arrays["test"]
    ds = ArrayDataset(name, x_tr, y_tr, x_te, y_te, classes=list(CLASSES[name]))
    return ds, {"kind": "idx", "folder": str(folder), "files": files}
