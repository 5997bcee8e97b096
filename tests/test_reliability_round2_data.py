"""Decompression bombs and links in raw data (issue 12, items 1 and 7), through the prepare_data rule script's
``main`` and, for the cases that need no injected checksum table, through snakemake end to end.

* gzip bombs as ``mnist/train-images-idx3-ubyte.gz``: the IDX reader streams, hashes on the way and stops at
  the size the header announces (itself bounded by the known file's size), so memory stays bounded and the
  error names the file;
* a JPEG whose header claims 30000×30000 pixels (PIL's DecompressionBombError) names the file;
* symbolic links (to a file or a class folder) in the directory form of ``cifar10_jpeg`` are refused.
Each failure leaves neither the prepared npz nor its sidecar nor a temporary file.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zlib
from functools import partial
from pathlib import Path

import pytest
from test_reliability_data import (
    good_idx_files,
    jpeg_bytes,
    jpeg_members,
    write_idx_folder,
    write_jpeg_dir,
    write_jpeg_tar,
)
from test_reliability_support import (
    REPO,
    assert_nothing_written,
    leftovers,
    load_script,
    run_snakemake_batch,
    tiny_config,
    write_config,
)

from snnconv.data import cifar, registry
from snnconv.data.checksums import IDX_SIZES
from snnconv.data.idx import IMAGES_MAGIC, IdxError, idx_digest, read_bytes


@pytest.fixture(autouse=True)
def _one_image_per_class(monkeypatch):
    """The synthetic image folders hold one image per class: the count table the loader checks them against."""
    monkeypatch.setattr(cifar, "CIFAR10_JPEG_PER_CLASS", {"train": 1, "test": 1})


BOMB_ZEROS = 512 << 20  # uncompressed bytes after the header: the .gz is about 0.5 MB
TRAIN_IMAGES = "train-images-idx3-ubyte"


def write_gzip_bomb(path: Path, header: bytes, zeros: int = BOMB_ZEROS) -> Path:
    """A gzip file of ``header`` followed by ``zeros`` zero bytes, compressed without ever holding them."""
    path.parent.mkdir(parents=True, exist_ok=True)
    comp, block = zlib.compressobj(9, zlib.DEFLATED, 31), bytes(1 << 20)  # wbits 31: gzip container
    with open(path, "wb") as handle:
        handle.write(comp.compress(header))
        for _ in range(zeros >> 20):
            handle.write(comp.compress(block))
        handle.write(comp.flush())
    return path


def idx_header(*dims: int, magic: int = IMAGES_MAGIC) -> bytes:
    """An IDX header announcing ``dims``."""
    return magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in dims)


def mnist_with_bomb(data_dir: Path, header: bytes, zeros: int = 64 << 20) -> Path:
    """A synthetic MNIST folder whose training images are a gzip bomb; returns the bomb's path."""
    folder = data_dir / "mnist"
    write_idx_folder(folder, good_idx_files())
    return write_gzip_bomb(folder / f"{TRAIN_IMAGES}.gz", header, zeros)


# header -> substrings of the error
GZIP_BOMBS = {
    "valid-header-then-zeros": (
        idx_header(60000, 28, 28),
        ("mnist/train-images-idx3-ubyte.gz", "trailing bytes", "(60000, 28, 28) need 47040016 bytes"),
    ),
    "header-claims-huge-dims": (
        idx_header(4_000_000_000, 28, 28),
        (
            "mnist/train-images-idx3-ubyte.gz",
            "header claims dimensions (4000000000, 28, 28)",
            "47040016 bytes of the known file",
        ),
    ),
    "zeros-only": (b"", ("mnist/train-images-idx3-ubyte.gz", "magic number 0", "expected 2051")),
}


@pytest.mark.parametrize("case", list(GZIP_BOMBS))
def test_gzip_bomb_is_refused_by_prepare_data(tmp_path, case):
    header, needles = GZIP_BOMBS[case]
    mnist_with_bomb(tmp_path / "data", header)
    outputs = [tmp_path / "results" / "data" / "mnist.npz", tmp_path / "results" / "data" / "mnist.json"]
    with pytest.raises(IdxError) as err:
        load_script("prepare_data").main("mnist", tmp_path / "data", {}, *outputs)
    for needle in needles:
        assert needle in str(err.value), f"{needle!r} not in {err.value}"
    assert_nothing_written(outputs, tmp_path)


_MEASURE = r"""
import json, resource, sys
sys.path.insert(0, sys.argv[1])
from snnconv.data import prepare_dataset
import numpy, torch, PIL.Image  # everything prepare_data imports, before the baseline
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    prepare_dataset("mnist", {}, sys.argv[2])
    message = None
except Exception as exc:
    message = f"{type(exc).__name__}: {exc}"
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"before_kb": before, "after_kb": after, "message": message}))
"""


def test_gzip_bomb_memory_stays_bounded(tmp_path):
    """A 0.5 MB .gz holding 512 MB: the reader's peak grows by about the known file (47 MB), not 512 MB."""
    bomb = mnist_with_bomb(tmp_path / "data", idx_header(60000, 28, 28), BOMB_ZEROS)
    assert bomb.stat().st_size < 2 << 20
    proc = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(REPO), str(tmp_path / "data")], capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["message"] and "trailing bytes" in result["message"] and str(bomb) in result["message"]
    grown_mb = (result["after_kb"] - result["before_kb"]) / 1024
    assert grown_mb < 200, f"peak RSS grew by {grown_mb:.0f} MB reading a bomb of {BOMB_ZEROS >> 20} MB"


def test_download_verification_and_read_bytes_are_bounded(tmp_path):
    """The download check (uncompressed SHA-256) and read_bytes stop at the known size too."""
    bomb = write_gzip_bomb(tmp_path / f"{TRAIN_IMAGES}.gz", idx_header(60000, 28, 28), zeros=64 << 20)
    with pytest.raises(IdxError, match=rf"{TRAIN_IMAGES}.gz: decompresses to more than {IDX_SIZES[TRAIN_IMAGES]}"):
        idx_digest(bomb, IDX_SIZES[TRAIN_IMAGES])
    with pytest.raises(IdxError, match="decompresses to more than 1000 bytes"):
        read_bytes(bomb, max_bytes=1000)
    small = write_gzip_bomb(tmp_path / "small.gz", b"abc", zeros=0)
    assert read_bytes(small) == b"abc" and len(idx_digest(small)) == 64


def test_real_mnist_still_reads(shared_data):
    """Control: the real files are exactly at the bound and verify against the known table."""
    ds, source = registry.prepare_dataset("mnist", {"subset_train": 10, "subset_test": 10}, shared_data)
    assert ds.x_train.shape == (10, 1, 28, 28) and all(f["verified"] for f in source["files"].values())


# --- JPEG decompression bomb ---------------------------------------------------------------------------


def jpeg_claiming(width: int, height: int) -> bytes:
    """A valid 32×32 JPEG whose frame header (SOF0) is patched to claim ``width``×``height`` pixels."""
    data = bytearray(jpeg_bytes(5))
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 7], data[sof + 7 : sof + 9] = height.to_bytes(2, "big"), width.to_bytes(2, "big")
    return bytes(data)


def _bomb_members() -> dict:
    members = jpeg_members()
    members["train/horse/0000.jpg"] = jpeg_claiming(30000, 30000)
    return members


def test_jpeg_bomb_in_archive_names_the_member(tmp_path, monkeypatch):
    archive = tmp_path / "data" / "cifar10-jpeg" / "cifar10-jpeg.tar.gz"
    digest = write_jpeg_tar(archive, _bomb_members())
    monkeypatch.setattr(registry, "load_image_folder", partial(cifar.load_image_folder, expected_sha256=digest))
    outputs = [tmp_path / "out" / "cifar10_jpeg.npz", tmp_path / "out" / "cifar10_jpeg.json"]
    with pytest.raises(ValueError) as err:
        load_script("prepare_data").main("cifar10_jpeg", tmp_path / "data", {}, *outputs)
    message = str(err.value)
    assert f"{archive}:train/horse/0000.jpg" in message and "decompression bomb" in message
    assert "900000000 pixels" in message
    assert_nothing_written(outputs, tmp_path)


def test_wrong_size_is_refused_from_the_header():
    """An image claiming 8000×8000 (below PIL's bomb limit) is refused on its header, before decoding."""
    with pytest.raises(ValueError, match=r"x.jpg: image is 8000×8000, expected 32×32"):
        cifar.decode_jpeg(jpeg_claiming(8000, 8000), "x.jpg")


# --- links in the directory form ------------------------------------------------------------------------


def _link_file(root: Path, outside: Path) -> Path:
    target = outside / "stray.jpg"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(jpeg_bytes(42))
    link = root / "train" / "cat" / "0001.jpg"
    os.symlink(target, link)
    return link


def _link_class_dir(root: Path, outside: Path) -> Path:
    (outside / "dog").mkdir(parents=True, exist_ok=True)
    (outside / "dog" / "0000.jpg").write_bytes(jpeg_bytes(43))
    for f in (root / "test" / "dog").iterdir():
        f.unlink()
    (root / "test" / "dog").rmdir()
    os.symlink(outside / "dog", root / "test" / "dog")
    return root / "test" / "dog"


def _link_split_dir(root: Path, outside: Path) -> Path:
    write_jpeg_dir(outside / "real", jpeg_members())
    import shutil

    shutil.rmtree(root / "test")
    os.symlink(outside / "real" / "test", root / "test")
    return root / "test"


LINKS = {"file-link": _link_file, "class-folder-link": _link_class_dir, "split-folder-link": _link_split_dir}


def image_dir_with(data_dir: Path, outside: Path, make_link) -> Path:
    """A valid image folder under ``data_dir/cifar10-jpeg`` with one link made by ``make_link``; returns it."""
    root = data_dir / "cifar10-jpeg"
    write_jpeg_dir(root, jpeg_members())
    return make_link(root, outside)


@pytest.mark.parametrize("case", list(LINKS))
def test_links_in_image_folder_are_refused(tmp_path, case):
    link = image_dir_with(tmp_path / "data", tmp_path / "outside", LINKS[case])
    outputs = [tmp_path / "out" / "cifar10_jpeg.npz", tmp_path / "out" / "cifar10_jpeg.json"]
    with pytest.raises(ValueError) as err:
        load_script("prepare_data").main("cifar10_jpeg", tmp_path / "data", {}, *outputs)
    message = str(err.value)
    assert f"{link}: is a symbolic link" in message and "refused" in message
    assert_nothing_written(outputs, tmp_path)


def test_linked_root_folder_is_accepted(tmp_path):
    """Control: the data folder itself may be a link (data_dir pointing at shared storage)."""
    write_jpeg_dir(tmp_path / "store" / "cifar10-jpeg", jpeg_members())
    (tmp_path / "data").mkdir()
    os.symlink(tmp_path / "store" / "cifar10-jpeg", tmp_path / "data" / "cifar10-jpeg")
    meta = load_script("prepare_data").main(
        "cifar10_jpeg", tmp_path / "data", {}, tmp_path / "c.npz", tmp_path / "c.json"
    )
    assert meta["counts"] == {"train": 10, "test": 10}


# --- through snakemake -----------------------------------------------------------------------------------


def _e2e_gzip(data_dir: Path) -> str:
    mnist_with_bomb(data_dir, idx_header(60000, 28, 28))
    return "mnist"


REAL_PER_CLASS = dict(cifar.CIFAR10_JPEG_PER_CLASS)  # read before the fixture below swaps the table


def full_size_dir(root: Path, members: dict) -> None:
    """``members`` as a directory whose every class holds CIFAR-10's count of images: each image NNNN.jpg after the
    first is a hard link to it (no extra disk space), so the class counts pass and the loader reaches decoding."""
    write_jpeg_dir(root, members)
    for split, per_class in REAL_PER_CLASS.items():
        for cls in cifar.CIFAR10_CLASSES:
            first = root / split / cls / "0000.jpg"
            for i in range(1, per_class):
                os.link(first, first.with_name(f"{i:04d}.jpg"))


def _e2e_jpeg_bomb(data_dir: Path) -> str:
    full_size_dir(data_dir / "cifar10-jpeg", _bomb_members())
    return "cifar10_jpeg"


def _e2e_link(data_dir: Path) -> str:
    image_dir_with(data_dir, data_dir.parent / "outside", _link_file)
    return "cifar10_jpeg"


END_TO_END = {
    "gzip-bomb": (_e2e_gzip, ("mnist/train-images-idx3-ubyte.gz", "trailing bytes")),
    "jpeg-bomb-dir": (_e2e_jpeg_bomb, ("cifar10-jpeg:train/horse/0000.jpg", "decompression bomb")),
    "file-link-dir": (_e2e_link, ("cifar10-jpeg/train/cat/0001.jpg: is a symbolic link",)),
}


@pytest.fixture(scope="module")
def data_runs(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("round2_data")
    cases, datasets = {}, {}
    for case, (build, _) in END_TO_END.items():
        datasets[case] = build(root / case / "data")
        cfg = tiny_config()
        cfg.update(datasets=[datasets[case]], data_dir=str(root / case / "data"))
        # the first 10 images of each split are decoded (the bomb, horse/0000.jpg, among them); all are counted
        cfg["dataset_options"] = {datasets[case]: {"subset_train": 10, "subset_test": 10}}
        cases[case] = (root / case / "work", write_config(root / case / "config.yaml", cfg), ())
    runs = run_snakemake_batch(cases, root / "outputs")
    for case in runs:
        runs[case]["dataset"] = datasets[case]
    return runs


@pytest.mark.parametrize("case", list(END_TO_END))
def test_bombs_and_links_fail_the_workflow(data_runs, case):
    run = data_runs[case]
    assert run["rc"] not in (0, -999), run["output"][-3000:]
    for needle in END_TO_END[case][1]:
        assert needle in run["output"], f"{needle!r} not in snakemake's output:\n{run['output'][-3000:]}"
    work = run["workdir"]
    assert (work / "logs" / "prepare_data" / f"{run['dataset']}.log").exists(), "the failing job ran and logged"
    assert not (work / "results").exists() or not any(p.is_file() for p in (work / "results").rglob("*")), (
        f"outputs left: {list((work / 'results').rglob('*'))}"
    )
    assert not leftovers(work)
