"""Small synthetic raw data files (IDX, gzip, JPEG folders and archives) for the bad-data tests."""

from __future__ import annotations

import gzip
import hashlib
import io
import tarfile
from pathlib import Path

import numpy as np

from snnconv.data import cifar
from snnconv.data.idx import IMAGES_MAGIC, LABELS_MAGIC


def good_idx_files(n_train: int = 20, n_test: int = 10) -> dict[str, bytes]:
    """stem -> uncompressed bytes of a consistent, valid 8×8 MNIST-layout dataset."""
    rng = np.random.default_rng(0)
    out = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        out[f"{prefix}-images-idx3-ubyte"] = idx_bytes(IMAGES_MAGIC, rng.integers(0, 256, (n, 8, 8), dtype=np.uint8))
        out[f"{prefix}-labels-idx1-ubyte"] = idx_bytes(LABELS_MAGIC, (np.arange(n) % 10).astype(np.uint8))
    return out


def write_idx_folder(folder: Path, files: dict[str, bytes], gz: bool = True) -> None:
    """Write the files as ``<stem>.gz`` (or raw ``<stem>``)."""
    folder.mkdir(parents=True, exist_ok=True)
    for stem, data in files.items():
        if gz:
            (folder / f"{stem}.gz").write_bytes(gzip.compress(data, mtime=0))
        else:
            (folder / stem).write_bytes(data)


def jpeg_bytes(seed: int, size: int = 32) -> bytes:
    """A valid RGB JPEG of ``size``×``size`` pixels."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(seed).integers(0, 256, (size, size, 3), dtype=np.uint8)).save(buf, "JPEG")
    return buf.getvalue()


def write_jpeg_tar(path: Path, members: dict[str, bytes | None]) -> str:
    """Pack ``members`` into a tar.gz; returns its SHA-256."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            if data is None:
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            else:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_jpeg_dir(root: Path, members: dict[str, bytes | None]) -> None:
    """The same members as a plain directory tree."""
    for name, data in members.items():
        target = root / name
        if data is None:
            target.mkdir(parents=True, exist_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)


def jpeg_members(skip_class: str | None = None) -> dict[str, bytes | None]:
    """name -> bytes (None = a bare directory) of a one-image-per-class image folder."""
    members: dict[str, bytes | None] = {}
    for split in ("train", "test"):
        for i, cls in enumerate(cifar.CIFAR10_CLASSES):
            if cls == skip_class and split == "train":
                members[f"{split}/{cls}"] = None  # the folder exists but holds nothing
            else:
                members[f"{split}/{cls}/0000.jpg"] = jpeg_bytes(i)
    return members


def idx_bytes(magic: int, array: np.ndarray) -> bytes:
    """An uncompressed IDX file: magic, big-endian dimensions, uint8 payload."""
    return magic.to_bytes(4, "big") + b"".join(int(d).to_bytes(4, "big") for d in array.shape) + array.tobytes()
