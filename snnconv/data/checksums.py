"""Known checksums of the raw dataset files, and verification that names file, expected and actual digest.

MNIST and Fashion-MNIST are checked by the SHA-256 of the *uncompressed* IDX files, since gzip wrappers
differ between mirrors while the contents do not.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import BinaryIO

IDX_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")

IDX_SHA256: dict[str, dict[str, str]] = {
    "mnist": {
        "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    },
    "fashion_mnist": {
        "train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
        "train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
        "t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
        "t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
    },
}

# Uncompressed sizes of the known IDX files (the same for MNIST and Fashion-MNIST): the most an IDX reader
# ever decompresses for that name, so a gzip bomb is stopped after this many bytes (snnconv/data/idx.py).
IDX_SIZES: dict[str, int] = {
    "train-images-idx3-ubyte": 16 + 60000 * 28 * 28,
    "train-labels-idx1-ubyte": 8 + 60000,
    "t10k-images-idx3-ubyte": 16 + 10000 * 28 * 28,
    "t10k-labels-idx1-ubyte": 8 + 10000,
}

CIFAR10_PYTHON_MD5 = "c58f30108f718f92721af3b95e74349a"  # official cifar-10-python.tar.gz
CIFAR10_JPEG_SHA256 = "097287809041e0a666355dfce11470ba1b3f2631fe910d8793c716253f10b297"  # lossy re-encode tar


class ChecksumError(ValueError):
    """A file's digest differs from the known one."""


def digest_stream(handle: BinaryIO, algorithm: str = "sha256") -> str:
    """Hex digest of everything left in a binary file opened for reading (:func:`hashlib.file_digest`)."""
    return hashlib.file_digest(handle, algorithm).hexdigest()


def check_digest(label: str | Path, actual: str, expected: str | None, algorithm: str = "sha256") -> str:
    """Raise ChecksumError naming ``label`` unless ``actual`` equals ``expected`` (None = no check)."""
    if expected is not None and actual.lower() != expected.lower():
        raise ChecksumError(
            f"{label}: {algorithm} mismatch: expected {expected.lower()}, got {actual} "
            "(corrupt or wrong file; delete it and download again)"
        )
    return actual


def verify_file(path: str | Path, expected: str | None, algorithm: str = "sha256") -> str:
    """Digest of the file at ``path``, checked against ``expected``; returns the digest."""
    with open(path, "rb") as handle:
        return check_digest(path, digest_stream(handle, algorithm), expected, algorithm)
