"""CIFAR-10: the official pickle archive (md5 before unpickling) and the lossy JPEG image-folder reader."""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import tarfile
from functools import partial
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import snnconv.data.cifar as cifar
from snnconv.data import prepare_dataset
from snnconv.data.checksums import CIFAR10_JPEG_SHA256, ChecksumError
from snnconv.data.cifar import CIFAR10_CLASSES, JPEG_NOTE, load_cifar10_python, load_image_folder
from snnconv.defaults import dataset_args

PER_CLASS = {"train": 3, "test": 2}
# the synthetic layout's own class counts, the config's subset options
load_small = partial(load_image_folder, per_class=PER_CLASS, **dataset_args("cifar10_jpeg"))


def jpeg(label: int) -> bytes:
    """A flat 32×32 JPEG whose grey level encodes the class: 20·label + 30."""
    buffer = io.BytesIO()
    Image.fromarray(np.full((32, 32, 3), 20 * label + 30, dtype=np.uint8)).save(buffer, "JPEG", quality=95)
    return buffer.getvalue()


def add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    """Add a regular-file member holding ``data``."""
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def image_files(skip_class: str | None = None) -> dict[str, bytes]:
    """Relative name → JPEG bytes for a small ``{train,test}/<class>/NNNN.jpg`` layout."""
    return {
        f"{split}/{cls}/{i:04d}.jpg": jpeg(label)
        for split, n in PER_CLASS.items()
        for label, cls in enumerate(CIFAR10_CLASSES)
        if cls != skip_class
        for i in range(n)
    }


def make_jpeg_tar(path: Path, files: dict[str, bytes], extra: list[tarfile.TarInfo] = ()) -> Path:
    """Write ``files`` (plus bare ``extra`` members) to a tar.gz; returns the path."""
    with tarfile.open(path, "w:gz") as tar:
        for info in extra:
            tar.addfile(info)
        for name, data in files.items():
            add_bytes(tar, name, data)
    return path


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def check_small(ds) -> None:
    """The synthetic layout was read completely, round-robin ordered, with matching pixels."""
    assert ds.x_train.shape == (30, 3, 32, 32) and ds.x_test.shape == (20, 3, 32, 32)
    assert ds.y_train.tolist() == list(range(10)) * 3 and ds.y_test.tolist() == list(range(10)) * 2
    assert np.abs(ds.x_train.mean(axis=(1, 2, 3)) - (20 * ds.y_train + 30)).max() < 2
    assert ds.lossy and ds.info["note"] == JPEG_NOTE and ds.classes == list(CIFAR10_CLASSES)


def test_jpeg_tar_full_path(tmp_path: Path) -> None:
    tar = make_jpeg_tar(tmp_path / "c.tar.gz", image_files())
    ds, source = load_small(tar, expected_sha256=sha256(tar))
    check_small(ds)
    assert source["files"][str(tar)] == {"sha256": sha256(tar), "verified": True} and source["note"] == JPEG_NOTE


def test_jpeg_tar_subset_is_class_balanced(tmp_path: Path) -> None:
    tar = make_jpeg_tar(tmp_path / "c.tar.gz", image_files())
    ds, _ = load_small(tar, expected_sha256=sha256(tar), subset_train=20, subset_test=10)
    assert ds.y_train.tolist() == list(range(10)) * 2 and ds.y_test.tolist() == list(range(10))


def test_jpeg_tar_checksum(tmp_path: Path) -> None:
    tar = make_jpeg_tar(tmp_path / "c.tar.gz", image_files())
    with pytest.raises(ChecksumError, match=f"c.tar.gz: sha256 mismatch: expected {CIFAR10_JPEG_SHA256}"):
        load_small(tar)


def test_jpeg_directory_via_registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cifar, "CIFAR10_JPEG_PER_CLASS", PER_CLASS)
    root = tmp_path / "cifar10-jpeg"
    for name, data in image_files().items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    (root / "README.txt").write_text("ignored")
    ds, source = prepare_dataset("cifar10_jpeg", dataset_args("cifar10_jpeg"), tmp_path)
    check_small(ds)
    assert source["files"][str(root)]["verified"] is False
    ds, source = prepare_dataset(
        "cifar10_jpeg", dataset_args("cifar10_jpeg", **{"subset_train": 10, "subset_test": 5}), tmp_path
    )
    assert ds.y_train.tolist() == list(range(10)) and len(ds.y_test) == 5 and source["subset"]["test"] == 5


@pytest.mark.parametrize("bad", [b"\xff\xd8\xff\xe0 definitely not a jpeg", "truncated", b""])
def test_corrupt_jpeg_member_is_named(tmp_path: Path, bad: bytes | str) -> None:
    files = image_files()
    files["train/horse/0001.jpg"] = jpeg(7)[:300] if bad == "truncated" else bad
    tar = make_jpeg_tar(tmp_path / "c.tar.gz", files)
    with pytest.raises(ValueError, match="train/horse/0001.jpg: corrupt JPEG"):
        load_small(tar, expected_sha256=None)


def test_wrong_image_size(tmp_path: Path) -> None:
    files, buffer = image_files(), io.BytesIO()
    Image.new("RGB", (16, 32)).save(buffer, "JPEG")
    files["test/ship/0000.jpg"] = buffer.getvalue()
    with pytest.raises(ValueError, match=r"test/ship/0000.jpg: image is 16×32, expected 32×32"):
        load_small(make_jpeg_tar(tmp_path / "c.tar.gz", files), expected_sha256=None)


def test_empty_class_folder_is_named(tmp_path: Path) -> None:
    files = image_files()
    for i in range(PER_CLASS["test"]):
        del files[f"test/dog/{i:04d}.jpg"]
    folder = tarfile.TarInfo("test/dog")
    folder.type = tarfile.DIRTYPE
    tar = make_jpeg_tar(tmp_path / "c.tar.gz", files, extra=[folder])
    with pytest.raises(ValueError, match="class folder test/dog is empty or missing"):
        load_small(tar, expected_sha256=None)
    root = tmp_path / "dir"
    for name, data in image_files(skip_class="cat").items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    (root / "train" / "cat").mkdir()
    with pytest.raises(ValueError, match="class folder train/cat is empty or missing"):
        load_small(root)


def test_unknown_class_folder(tmp_path: Path) -> None:
    files = image_files() | {"train/unicorn/0000.jpg": jpeg(0)}
    with pytest.raises(ValueError, match="unknown class folder 'unicorn'"):
        load_small(make_jpeg_tar(tmp_path / "c.tar.gz", files), expected_sha256=None)


@pytest.mark.parametrize("evil", ["../x.jpg", "train/cat/../../../x.jpg", "/tmp/snnconv-abs-x.jpg"])
def test_path_traversal_members_refused_and_never_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, evil: str
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    tar = work / "c.tar.gz"
    with tarfile.open(tar, "w:gz") as handle:
        add_bytes(handle, evil, jpeg(0))
        for name, data in image_files().items():
            add_bytes(handle, name, data)
    with pytest.raises(ValueError, match="unsafe member name"):
        load_small(tar, expected_sha256=None)
    assert not (tmp_path / "x.jpg").exists() and not Path("/tmp/snnconv-abs-x.jpg").exists()
    assert sorted(p.name for p in work.rglob("*")) == ["c.tar.gz"]  # nothing extracted anywhere


def test_link_member_refused(tmp_path: Path) -> None:
    link = tarfile.TarInfo("train/cat/0009.jpg")
    link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
    tar = make_jpeg_tar(tmp_path / "c.tar.gz", image_files(), extra=[link])
    with pytest.raises(ValueError, match="0009.jpg' is a link"):
        load_small(tar, expected_sha256=None)


# --- the official python archive ---------------------------------------------------------------


def make_python_tar(path: Path, n: int = 4, payload: object | None = None) -> Path:
    """A tiny cifar-10-python.tar.gz of random batches (``payload`` replaces test_batch if given)."""
    rng = np.random.default_rng(1)
    with tarfile.open(path, "w:gz") as tar:
        for batch in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
            content = {
                b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
                b"labels": rng.integers(0, 10, n).tolist(),
                b"batch_label": batch.encode(),
            }
            if payload is not None and batch == "test_batch":
                content = payload
            add_bytes(tar, f"cifar-10-batches-py/{batch}", pickle.dumps(content, protocol=2))
        add_bytes(
            tar,
            "cifar-10-batches-py/batches.meta",
            pickle.dumps({b"label_names": [c.encode() for c in CIFAR10_CLASSES]}, protocol=2),
        )
    return path


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def test_python_archive_loads_with_matching_md5(tmp_path: Path) -> None:
    tar = make_python_tar(tmp_path / "cifar-10-python.tar.gz")
    ds, source = load_cifar10_python(tar, expected_md5=md5(tar))
    assert ds.x_train.shape == (20, 3, 32, 32) and ds.x_test.shape == (4, 3, 32, 32) and not ds.lossy
    with tarfile.open(tar) as handle:
        first = pickle.load(handle.extractfile("cifar-10-batches-py/data_batch_1"), encoding="bytes")
    assert np.array_equal(ds.x_train[:4].reshape(4, -1), first[b"data"]) and ds.y_train[:4].tolist() == first[b"labels"]
    assert source["files"][str(tar)] == {"md5": md5(tar), "verified": True}


class Payload:
    """Unpickling this creates a marker folder: proof that a pickle was loaded."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return os.mkdir, (str(self.marker),)


def test_wrong_md5_refused_before_unpickling(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    marker = tmp_path / "unpickled"
    tar = make_python_tar(tmp_path / "cifar-10-python.tar.gz", payload=Payload(marker))
    calls = []
    real_load = pickle.load
    monkeypatch.setattr(cifar.pickle, "load", lambda *a, **k: calls.append(1) or real_load(*a, **k))
    with pytest.raises(
        ChecksumError, match=r"cifar-10-python.tar.gz: md5 mismatch: expected c58f30108f718f92721af3b95e74349a"
    ):
        load_cifar10_python(tar)  # the official md5, which this file does not have
    assert calls == [] and not marker.exists()
    with pytest.raises(ChecksumError):
        prepare_dataset("cifar10", dataset_args("cifar10"), tmp_path)  # the registry uses the official md5 too
    assert calls == [] and not marker.exists()
    with pytest.raises(TypeError):  # control: with its md5 accepted, the payload does get unpickled
        load_cifar10_python(tar, expected_md5=md5(tar))
    assert calls and marker.is_dir()


def test_python_archive_missing_batch(tmp_path: Path) -> None:
    tar = tmp_path / "cifar-10-python.tar.gz"
    with tarfile.open(tar, "w:gz") as handle:
        add_bytes(handle, "cifar-10-batches-py/data_batch_1", pickle.dumps({}))
    with pytest.raises(ValueError, match="cifar-10-batches-py/data_batch_2 missing"):
        load_cifar10_python(tar, expected_md5=md5(tar))
