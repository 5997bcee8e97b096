"""Untrusted files: checkpoints, networks and prepared arrays never unpickle code; archives never write
outside their target; CIFAR-10 pickles are read only after the md5 of the archive matched.

Every malicious payload here would create a marker file when unpickled; each test first proves the payload
is live (an unsafe load does create the marker, in a separate folder) and then that the pipeline's loaders
refuse it, name the file, and leave no marker and no output behind.
"""

from __future__ import annotations

import hashlib
import io
import pickle
import tarfile
from functools import partial
from pathlib import Path

import numpy as np
import pytest
import torch
from helpers.workflow import (  # noqa: F401
    PlantFile,
    assert_nothing_written,
    digits_npz,
    load_script,
    rule_settings,
)

from snnconv.convert.files import convert_files
from snnconv.data import cifar, registry
from snnconv.data.checksums import ChecksumError
from snnconv.defaults import arch_args, dataset_args, training_args
from snnconv.models import build_model, load_checkpoint
from snnconv.network import SpikingLayer, SpikingNetwork, load_network, network_to_dict


@pytest.fixture(autouse=True)
def _one_image_per_class(monkeypatch):
    """The synthetic image folders hold one image per class: the count table the loader checks them against."""
    monkeypatch.setattr(cifar, "CIFAR10_JPEG_PER_CLASS", {"train": 1, "test": 1})


def _checkpoint_payload(extra) -> dict:
    """A valid checkpoint dict of a tiny MLP whose ``extra`` entry is ``extra``."""
    model = build_model("mlp", (1, 8, 8), 10, **arch_args("mlp", hidden=[4]))
    return {
        "arch": "mlp",
        "in_shape": [1, 8, 8],
        "n_classes": 10,
        "model_kwargs": {"hidden": [4]},
        "state_dict": model.state_dict(),
        "extra": extra,
    }


def _network_payload(meta_value) -> dict:
    """A valid spiking-network dict with ``meta_value`` in its metadata."""
    layer = SpikingLayer({"type": "linear"}, torch.ones(2, 3), None, torch.ones(2), spiking=False, name="out")
    data = network_to_dict(SpikingNetwork([layer], (3,)))
    data["meta"] = {"evil": meta_value}
    return data


def _prove_live(write, tmp_path: Path) -> None:
    """An unsafe ``torch.load`` of what ``write(path, marker)`` produces does run the payload."""
    live = tmp_path / "control"
    live.mkdir()
    write(live / "payload.pt", live / "marker")
    try:
        torch.load(live / "payload.pt", weights_only=False)
    except RuntimeError:  # a bare pickle: torch's legacy loader unpickles it, then misses its magic number
        pass
    assert (live / "marker").exists(), "the payload is not live; the refusal tests below would prove nothing"


WRITERS = {
    "checkpoint-zip": lambda path, marker: torch.save(_checkpoint_payload(PlantFile(marker)), path),
    "checkpoint-legacy-pickle": lambda path, marker: path.write_bytes(
        pickle.dumps(_checkpoint_payload(PlantFile(marker)))
    ),
    "network-zip": lambda path, marker: torch.save(_network_payload(PlantFile(marker)), path),
    "bare-object": lambda path, marker: torch.save(PlantFile(marker), path),
}


@pytest.mark.parametrize("kind", list(WRITERS))
@pytest.mark.parametrize("loader", [load_checkpoint, load_network], ids=["load_checkpoint", "load_network"])
def test_malicious_pickle_is_refused(tmp_path, kind, loader):
    _prove_live(WRITERS[kind], tmp_path)
    path, marker = tmp_path / "evil.pt", tmp_path / "marker"
    WRITERS[kind](path, marker)
    with pytest.raises(ValueError) as err:
        loader(path)
    assert str(path) in str(err.value)
    assert not marker.exists(), "unpickling ran the payload"


def test_convert_refuses_malicious_checkpoint(tmp_path, digits_npz):
    path, marker = tmp_path / "model.pt", tmp_path / "marker"
    WRITERS["checkpoint-zip"](path, marker)
    out = tmp_path / "snn"
    with pytest.raises(ValueError, match="not a readable checkpoint"):
        convert_files(
            path,
            digits_npz,
            "max",
            rule_settings("normalize", norm_set_size=50),
            out / "network.pt",
            out / "conversion.json",
        )
    assert not marker.exists()
    assert_nothing_written([out / "network.pt", out / "conversion.json"], tmp_path)


def test_prepared_data_with_object_arrays_is_refused(tmp_path):
    """results/data/*.npz is loaded with allow_pickle=False: an object array holding a payload is refused
    by the training rule, which writes nothing."""
    train = load_script("train")
    marker, npz = tmp_path / "marker", tmp_path / "digits.npz"
    evil = np.empty(1, dtype=object)
    evil[0] = PlantFile(marker)
    np.savez(
        npz,
        x_train=evil,
        y_train=np.zeros(1, np.int64),
        x_test=evil,
        y_test=np.zeros(1, np.int64),
        classes=np.array(["0"]),
        format_version=np.array(1),
    )
    out = tmp_path / "model"
    with pytest.raises(ValueError, match="not a valid prepared dataset") as err:
        train.main(
            str(npz),
            out / "model.pt",
            out / "metrics.csv",
            out / "summary.json",
            "mlp",
            0,
            training_args(epochs=1, batch_size=8, lr=0.01, device="cpu", threads=1),
            arch_args("mlp", hidden=[4]),
            progress=False,
        )
    assert str(npz) in str(err.value)
    assert not marker.exists()
    assert_nothing_written([out / "model.pt", out / "metrics.csv", out / "summary.json"], tmp_path)


# --- archives ---------------------------------------------------------------------------------------------


def _jpeg(seed: int, size: int = 32) -> bytes:
    """A small valid RGB JPEG."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    buf = io.BytesIO()
    Image.fromarray(rng.integers(0, 256, (size, size, 3), dtype=np.uint8)).save(buf, format="JPEG")
    return buf.getvalue()


def _jpeg_tar(path: Path, extra: list[tarfile.TarInfo | tuple[str, bytes]] = ()) -> str:
    """A complete one-image-per-class cifar10-jpeg tar.gz plus ``extra`` members; returns its SHA-256."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz") as tar:
        members = [
            (f"{split}/{cls}/0000.jpg", _jpeg(i))
            for split in ("train", "test")
            for i, cls in enumerate(cifar.CIFAR10_CLASSES)
        ]
        for item in [*members, *extra]:
            if isinstance(item, tarfile.TarInfo):
                tar.addfile(item)
            else:
                info = tarfile.TarInfo(item[0])
                info.size = len(item[1])
                tar.addfile(info, io.BytesIO(item[1]))
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _symlink(name: str, target: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = tarfile.SYMTYPE, target
    return info


@pytest.mark.parametrize(
    ("member", "needle"),
    [
        (("../escaped.jpg", b"x"), "unsafe member name '../escaped.jpg'"),
        (("train/cat/../../../escaped.jpg", b"x"), "unsafe member name"),
        (("/tmp/snnconv-reliability-absolute-escape.jpg", b"x"), "unsafe member name '/tmp/"),
        (_symlink("train/cat/0001.jpg", "/etc/passwd"), "is a link or special file"),
    ],
)
def test_tar_path_traversal_writes_nothing_outside(tmp_path, monkeypatch, member, needle):
    """prepare_data on an image-folder archive with a hostile member: refused, named, nothing written
    (the reader streams members from the archive and never extracts)."""
    data_dir = tmp_path / "data"
    archive = data_dir / "cifar10-jpeg" / "cifar10-jpeg.tar.gz"
    digest = _jpeg_tar(archive, [member])
    monkeypatch.setattr(registry, "load_image_folder", partial(cifar.load_image_folder, expected_sha256=digest))
    before = {p for p in tmp_path.rglob("*")}
    absolute = Path("/tmp/snnconv-reliability-absolute-escape.jpg")
    absolute.unlink(missing_ok=True)
    out = tmp_path / "results" / "data"
    with pytest.raises(ValueError) as err:
        load_script("prepare_data").main(
            "cifar10_jpeg", data_dir, dataset_args("cifar10_jpeg"), out / "cifar10_jpeg.npz", out / "cifar10_jpeg.json"
        )
    assert needle in str(err.value) and str(archive) in str(err.value)
    assert not absolute.exists() and not (tmp_path / "escaped.jpg").exists() and not (data_dir / "escaped.jpg").exists()
    assert {p for p in tmp_path.rglob("*")} - before <= {tmp_path / "results", out}
    assert_nothing_written([out / "cifar10_jpeg.npz", out / "cifar10_jpeg.json"], tmp_path)


def test_tar_control_archive_is_accepted(tmp_path, monkeypatch):
    """The same archive without the hostile member prepares fine (so the refusals above are specific)."""
    data_dir = tmp_path / "data"
    digest = _jpeg_tar(data_dir / "cifar10-jpeg" / "cifar10-jpeg.tar.gz")
    monkeypatch.setattr(registry, "load_image_folder", partial(cifar.load_image_folder, expected_sha256=digest))
    out = tmp_path / "out"
    meta = load_script("prepare_data").main(
        "cifar10_jpeg", data_dir, dataset_args("cifar10_jpeg"), out / "c.npz", out / "c.json"
    )
    assert meta["counts"] == {"train": 10, "test": 10}


def _evil_cifar_archive(path: Path, marker: Path) -> str:
    """A cifar-10-python.tar.gz lookalike whose first batch is a code-running pickle; returns its md5."""
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = pickle.dumps(PlantFile(marker))
    with tarfile.open(path, "w:gz") as tar:
        for name in [*cifar.BATCHES["train"], *cifar.BATCHES["test"]]:
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
    return hashlib.md5(path.read_bytes()).hexdigest()


def test_cifar10_pickles_are_read_only_after_md5_matches(tmp_path, monkeypatch):
    data_dir, marker = tmp_path / "data", tmp_path / "marker"
    archive = data_dir / "cifar-10-python.tar.gz"
    md5 = _evil_cifar_archive(archive, marker)
    out = tmp_path / "results" / "data"
    prepare = load_script("prepare_data")
    with pytest.raises(ChecksumError) as err:
        prepare.main("cifar10", data_dir, dataset_args("cifar10"), out / "cifar10.npz", out / "cifar10.json")
    assert str(archive) in str(err.value) and md5 in str(err.value) and cifar.CIFAR10_PYTHON_MD5 in str(err.value)
    assert not marker.exists(), "a CIFAR-10 pickle was read before its archive's checksum was checked"
    assert_nothing_written([out / "cifar10.npz", out / "cifar10.json"], tmp_path)
    # control: were the checksum to match, the batches would be unpickled (the md5 is the only guard,
    # which is why it is computed over the very bytes that are then read)
    monkeypatch.setattr(registry, "load_cifar10_python", partial(cifar.load_cifar10_python, expected_md5=md5))
    with pytest.raises(Exception):  # noqa: B017 - any refusal will do; the point is that no pickle ran
        prepare.main("cifar10", data_dir, dataset_args("cifar10"), out / "cifar10.npz", out / "cifar10.json")
    assert marker.exists()
    assert_nothing_written([out / "cifar10.npz", out / "cifar10.json"], tmp_path)
