"""IDX reader and checksums: synthetic files for every failure mode, the shared MNIST/Fashion-MNIST copies for facts."""

from __future__ import annotations

import gzip
import hashlib
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from helpers import REPO

from snnconv.data import prepare_dataset
from snnconv.data.checksums import IDX_SHA256, ChecksumError, verify_file
from snnconv.data.idx import IMAGES_MAGIC, LABELS_MAGIC, IdxError, load_idx_dataset, read_idx, read_idx_pair
from snnconv.defaults import dataset_args

MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def shared_data() -> Path:
    """The shared real-data folder: $SNNCONV_SHARED_DATA, else <repo>/../shared/data."""
    return Path(os.environ.get("SNNCONV_SHARED_DATA") or REPO.parent / "shared" / "data")


def shared_folder(sub: str) -> Path:
    """``shared_data()/sub``, or skip the test saying which path is absent."""
    path = shared_data() / sub
    if not (path / "train-images-idx3-ubyte.gz").is_file():
        pytest.skip(f"shared {sub} data absent: {path} (set SNNCONV_SHARED_DATA to a folder holding {sub}/)")
    return path


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


def test_shared_mnist_facts() -> None:
    shared_folder("mnist")
    ds, source = prepare_dataset("mnist", dataset_args("mnist"), shared_data())
    assert ds.x_train.shape == (60000, 1, 28, 28) and ds.x_test.shape == (10000, 1, 28, 28)
    assert np.bincount(ds.y_train).tolist() == MNIST_TRAIN_COUNTS
    assert np.bincount(ds.y_test).tolist() == MNIST_TEST_COUNTS
    mean = ds.x_train.mean(dtype=np.float64) / 255.0
    std = np.sqrt((ds.x_train.astype(np.float32) ** 2).mean(dtype=np.float64) / 255.0**2 - mean**2)
    assert mean == pytest.approx(0.1307, abs=5e-5) and std == pytest.approx(0.3081, abs=5e-5)
    digests = {Path(p).name.removesuffix(".gz"): f["sha256_uncompressed"] for p, f in source["files"].items()}
    assert digests == IDX_SHA256["mnist"] and all(f["verified"] for f in source["files"].values())


def test_shared_hardcoded_checksums_match_sums_files() -> None:
    for sub, name in (("mnist", "mnist"), ("fashion-mnist", "fashion_mnist")):
        folder = shared_folder(sub)
        listed = dict(line.split()[::-1] for line in (folder / "SHA256SUMS.uncompressed").read_text().splitlines())
        assert listed == IDX_SHA256[name]


def test_shared_fashion_mnist_with_subset() -> None:
    shared_folder("fashion-mnist")
    ds, source = prepare_dataset(
        "fashion_mnist", dataset_args("fashion_mnist", **{"subset_train": 1000, "subset_test": 100}), shared_data()
    )
    assert ds.x_train.shape == (1000, 1, 28, 28) and len(ds.y_test) == 100
    assert ds.classes[0] == "T-shirt/top" and ds.classes[9] == "Ankle boot"
    full, _ = prepare_dataset("fashion_mnist", dataset_args("fashion_mnist"), shared_data())
    assert np.bincount(full.y_train).tolist() == [6000] * 10 and np.bincount(full.y_test).tolist() == [1000] * 10
    assert np.array_equal(full.x_train[:1000], ds.x_train)


def test_corrupted_copy_of_shared_mnist_is_refused(tmp_path: Path) -> None:
    shared = shared_folder("mnist")
    copy = tmp_path / "mnist"
    copy.mkdir()
    for file in shared.glob("*.gz"):
        shutil.copyfile(file, copy / file.name)  # copyfile: contents only, not the read-only mode
    labels = copy / "t10k-labels-idx1-ubyte.gz"
    data = bytearray(gzip.decompress(labels.read_bytes()))
    data[100] = (data[100] + 1) % 10  # one label changed, still a valid IDX file
    labels.write_bytes(gzip.compress(bytes(data)))
    expected = IDX_SHA256["mnist"]["t10k-labels-idx1-ubyte"]
    with pytest.raises(ChecksumError, match=rf"{re.escape(str(labels))}.*expected {expected}"):
        prepare_dataset("mnist", dataset_args("mnist"), tmp_path)
