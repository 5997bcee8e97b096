"""IDX reader and checksums: synthetic files for every failure mode, the shared MNIST/Fashion-MNIST copies for facts."""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import numpy as np
import pytest

from snnconv.data import prepare_dataset
from snnconv.data.checksums import IDX_SHA256, ChecksumError, verify_file
from snnconv.data.idx import IMAGES_MAGIC, LABELS_MAGIC, IdxError, load_idx_dataset, read_idx, read_idx_pair
from snnconv.defaults import dataset_args


def idx_bytes(array: np.ndarray, magic: int) -> bytes:
    """Encode a uint8 array as IDX."""
    dims = b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return magic.to_bytes(4, "big") + dims + array.astype(np.uint8).tobytes()


def write_idx_folder(folder: Path, n_train: int = 30, n_test: int = 10, gz: bool = True) -> dict[str, str]:
    """A small MNIST-layout folder of random data; returns stem → SHA-256 of the uncompressed files."""
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    table = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        for stem, payload in (
            (f"{prefix}-images-idx3-ubyte", idx_bytes(rng.integers(0, 256, (n, 28, 28)), IMAGES_MAGIC)),
            (f"{prefix}-labels-idx1-ubyte", idx_bytes(np.arange(n) % 10, LABELS_MAGIC)),
        ):
            table[stem] = hashlib.sha256(payload).hexdigest()
            if gz:
                (folder / f"{stem}.gz").write_bytes(gzip.compress(payload))
            else:
                (folder / stem).write_bytes(payload)
    return table


@pytest.mark.parametrize("gz", [True, False])
def test_synthetic_folder_gz_or_raw(tmp_path: Path, gz: bool) -> None:
    table = write_idx_folder(tmp_path, gz=gz)
    ds, source = load_idx_dataset(tmp_path, "mnist", expected=table)
    assert ds.x_train.shape == (30, 1, 28, 28) and ds.x_test.shape == (10, 1, 28, 28)
    assert ds.y_train.dtype == np.int64 and list(ds.y_test) == list(range(10))
    assert all(f["verified"] for f in source["files"].values()) and len(source["files"]) == 4


def test_wrong_magic(tmp_path: Path) -> None:
    path = tmp_path / "labels"
    path.write_bytes(idx_bytes(np.zeros(5), LABELS_MAGIC))
    with pytest.raises(IdxError, match=r"labels: magic number 2049 .*expected 2051"):
        read_idx(path, IMAGES_MAGIC)
    path.write_bytes(b"\x00\x00\x08")
    with pytest.raises(IdxError, match="too short"):
        read_idx(path, LABELS_MAGIC)


def test_count_mismatch_names_both_files(tmp_path: Path) -> None:
    images, labels = tmp_path / "imgs.gz", tmp_path / "lbls.gz"
    images.write_bytes(gzip.compress(idx_bytes(np.zeros((7, 4, 4)), IMAGES_MAGIC)))
    labels.write_bytes(gzip.compress(idx_bytes(np.zeros(6), LABELS_MAGIC)))
    with pytest.raises(IdxError) as err:
        read_idx_pair(images, labels)
    assert all(s in str(err.value) for s in (str(images), "7 images", str(labels), "6 labels"))


def test_truncated_gzip(tmp_path: Path) -> None:
    blob = gzip.compress(idx_bytes(np.arange(4000) % 256, LABELS_MAGIC))
    path = tmp_path / "cut.gz"
    path.write_bytes(blob[: len(blob) // 2])
    with pytest.raises(IdxError, match=r"cut.gz: truncated or corrupt gzip"):
        read_idx(path, LABELS_MAGIC)


def test_truncated_and_padded_payload(tmp_path: Path) -> None:
    payload = idx_bytes(np.zeros((3, 4, 4)), IMAGES_MAGIC)
    path = tmp_path / "raw"
    path.write_bytes(payload[:-1])
    with pytest.raises(IdxError, match=r"truncated: dimensions \(3, 4, 4\) need 64 bytes, file has 63"):
        read_idx(path, IMAGES_MAGIC)
    path.write_bytes(payload + b"\x00")
    with pytest.raises(IdxError, match="trailing bytes"):
        read_idx(path, IMAGES_MAGIC)


def test_checksum_mismatch_names_file_expected_and_actual(tmp_path: Path) -> None:
    table = write_idx_folder(tmp_path)
    corrupt = tmp_path / "train-labels-idx1-ubyte.gz"
    payload = bytearray(gzip.decompress(corrupt.read_bytes()))
    payload[-1] ^= 1  # still a valid IDX file: only the checksum can tell
    corrupt.write_bytes(gzip.compress(bytes(payload)))
    with pytest.raises(ChecksumError) as err:
        load_idx_dataset(tmp_path, "mnist", expected=table)
    message = str(err.value)
    assert str(corrupt) in message and table["train-labels-idx1-ubyte"] in message
    assert hashlib.sha256(payload).hexdigest() in message
    with pytest.raises(ChecksumError, match="expected 0+, got"):
        verify_file(corrupt, "0" * 64)


def test_synthetic_data_fails_the_known_checksums(tmp_path: Path) -> None:
    write_idx_folder(tmp_path / "fashion-mnist")
    with pytest.raises(ChecksumError, match=IDX_SHA256["fashion_mnist"]["train-images-idx3-ubyte"]):
        prepare_dataset("fashion_mnist", dataset_args("fashion_mnist"), tmp_path)
