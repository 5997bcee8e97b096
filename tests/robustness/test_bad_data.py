"""Bad raw and prepared data: small synthetic files in a temporary data_dir (tests/helpers/raw_data.py), run through
the prepare_data rule script's ``main`` (and, for the cases that need no injected checksum, through snakemake end
to end), and prepared files checked by every consumer.

Each case must raise, with a message naming the offending file (and value), and leave neither the prepared npz nor
its JSON sidecar nor any temporary file behind. The real checksum tables only match the real datasets, so the cases
that test what lies *behind* the checksum (magic number, counts, JPEG decoding, ...) swap in a table holding the
synthetic files' own digests.

* Decompression bombs and links: gzip bombs as ``mnist/train-images-idx3-ubyte.gz`` (the IDX reader streams,
  hashes on the way and stops at the size the header announces, itself bounded by the known file's size, so memory
  stays bounded and the error names the file); a JPEG whose header claims 30000×30000 pixels (PIL's
  DecompressionBombError) names the file; symbolic links (to a file or a class folder) in the directory form of
  ``cifar10_jpeg`` are refused.
* The image-folder loader (cifar10_jpeg) checks its layout and the images per class before decoding anything. A
  folder has no digest to verify, and a tar is only as good as the table it is checked against, so the loader
  counts: every class of a split must hold CIFAR-10's count (5,000 training and 1,000 test images per class), and
  the folder must hold exactly ``{train,test}/<class>/<name>.jpg``. A test set with one cat image missing used to be
  accepted (9,999 images), a ``0001 (copy).jpg`` was added silently, and a ``Test/`` folder crashed with
  ``KeyError: 'Test'``; each is now refused naming the folder or file. The synthetic layouts hold 3 training and 2
  test images per class, and the loader is told so, as the checksum tables are for synthetic files.
* A prepared file must be what it claims: ``results/data/<dataset>.npz`` is checked against its JSON sidecar
  (dataset name, SHA-256, shapes, counts, classes, label counts) by every consumer (train, convert, simulate,
  membrane_stats) before use. A swap (another dataset's prepared file with the same keys, here even the same 1×8×8
  shape and 10 classes) must fail with a message naming the file and the mismatch, and write nothing."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import subprocess
import sys
import zlib
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np
import pytest
from helpers.raw_data import (
    good_idx_files,
    idx_bytes,
    jpeg_bytes,
    jpeg_members,
    write_idx_folder,
    write_jpeg_dir,
    write_jpeg_tar,
)
from helpers.workflow import (  # noqa: F401
    REPO,
    assert_nothing_written,
    digits_npz,
    leftovers,
    load_script,
    run_snakemake,
    run_snakemake_batch,
    tiny_config,
    write_config,
)

from snnconv.convert.files import convert_files
from snnconv.data import cifar, load_prepared, registry
from snnconv.data.checksums import IDX_SHA256, IDX_SIZES
from snnconv.data.idx import IMAGES_MAGIC, LABELS_MAGIC, IdxError, idx_digest, read_bytes
from snnconv.data.prepared import PreparedMismatchError, sidecar_path
from snnconv.defaults import arch_args, dataset_args, training_args

# === The bad-data corpus ============================================================================================


@pytest.fixture
def _one_image_per_class(monkeypatch):
    """The synthetic image folders hold one image per class: the count table the loader checks them against
    (used by the corpus and bomb cases; the layout cases set their own counts)."""
    monkeypatch.setattr(cifar, "CIFAR10_JPEG_PER_CLASS", {"train": 1, "test": 1})


# --- the corpus ------------------------------------------------------------------------------------------
# Each builder gets (data_dir, monkeypatch) and returns (dataset name, substrings the error must contain).


def _trust(monkeypatch, name: str, files: dict[str, bytes]) -> None:
    """Make the checksum table expect exactly these (possibly bad) uncompressed files."""
    monkeypatch.setitem(IDX_SHA256, name, {stem: hashlib.sha256(data).hexdigest() for stem, data in files.items()})


def _idx_case(mutate: Callable[[dict[str, bytes]], None], trusted: bool = True, name: str = "mnist", gz: bool = True):
    def build(data_dir: Path, monkeypatch) -> None:
        files = good_idx_files()
        mutate(files)
        if trusted:
            _trust(monkeypatch, name, files)
        write_idx_folder(data_dir / ("mnist" if name == "mnist" else "fashion-mnist"), files, gz)

    return build


def _mnist_missing_folder(data_dir: Path, monkeypatch) -> None:
    data_dir.mkdir(parents=True)


def _mnist_missing_file(data_dir: Path, monkeypatch) -> None:
    files = good_idx_files()
    del files["t10k-labels-idx1-ubyte"]
    write_idx_folder(data_dir / "mnist", files)


def _truncated_gz(data_dir: Path, monkeypatch) -> None:
    files = good_idx_files()
    _trust(monkeypatch, "fashion_mnist", files)
    write_idx_folder(data_dir / "fashion-mnist", files)
    path = data_dir / "fashion-mnist" / "train-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:-30])


def _corrupt_gz(data_dir: Path, monkeypatch) -> None:
    files = good_idx_files()
    write_idx_folder(data_dir / "mnist", files)
    path = data_dir / "mnist" / "train-images-idx3-ubyte.gz"
    raw = bytearray(path.read_bytes())
    raw[12:20] = b"\x00" * 8  # deflate stream damaged, gzip header intact
    path.write_bytes(bytes(raw))


def _wrong_magic(files):
    files["train-images-idx3-ubyte"] = LABELS_MAGIC.to_bytes(4, "big") + files["train-images-idx3-ubyte"][4:]


def _count_mismatch(files):
    files["t10k-labels-idx1-ubyte"] = idx_bytes(LABELS_MAGIC, np.zeros(9, np.uint8))


def _short_payload(files):
    files["train-images-idx3-ubyte"] = files["train-images-idx3-ubyte"][:-64]


def _trailing(files):
    files["t10k-images-idx3-ubyte"] += b"\x00" * 5


def _bad_label(files):
    files["train-labels-idx1-ubyte"] = idx_bytes(LABELS_MAGIC, np.full(20, 12, np.uint8))


def _jpeg_case(members: Callable[[], dict[str, bytes | None]], archive: bool = True, trusted: bool = True):
    def build(data_dir: Path, monkeypatch) -> None:
        if archive:
            digest = write_jpeg_tar(data_dir / "cifar10-jpeg" / "cifar10-jpeg.tar.gz", members())
            if trusted:
                monkeypatch.setattr(
                    registry, "load_image_folder", partial(cifar.load_image_folder, expected_sha256=digest)
                )
        else:
            write_jpeg_dir(data_dir / "cifar10-jpeg", members())

    return build


def _with(change: Callable[[dict], None]) -> Callable[[], dict]:
    def members() -> dict:
        m = jpeg_members()
        change(m)
        return m

    return members


def _corrupt_jpeg(m):
    m["train/cat/0000.jpg"] = m["train/cat/0000.jpg"][:40] + b"\x00" * 200  # header kept, data destroyed


def _not_a_jpeg(m):
    m["test/dog/0000.jpg"] = b"GIF89a this is no jpeg"


def _wrong_size(m):
    m["train/ship/0000.jpg"] = jpeg_bytes(99, size=16)


def _unknown_class(m):
    m["train/unicorn/0000.jpg"] = jpeg_bytes(7)


def _cifar_bad_md5(data_dir: Path, monkeypatch) -> None:
    data_dir.mkdir(parents=True)
    (data_dir / "cifar-10-python.tar.gz").write_bytes(gzip.compress(b"not the cifar archive"))


A = "mnist/train-images-idx3-ubyte.gz"
CASES: dict[str, tuple[str, Callable, tuple[str, ...]]] = {
    "mnist-missing-folder": ("mnist", _mnist_missing_folder, ("mnist", "not found")),
    "mnist-missing-file": ("mnist", _mnist_missing_file, ("t10k-labels-idx1-ubyte", "not found")),
    "truncated-gz": (
        "fashion_mnist",
        _truncated_gz,
        ("fashion-mnist/train-images-idx3-ubyte.gz", "truncated or corrupt gzip"),
    ),
    "corrupt-gz": ("mnist", _corrupt_gz, (A, "corrupt gzip")),
    "wrong-checksum": (
        "mnist",
        _idx_case(lambda f: None, trusted=False),
        (A, "sha256 mismatch", IDX_SHA256["mnist"]["train-images-idx3-ubyte"]),
    ),
    "wrong-checksum-uncompressed": (
        "fashion_mnist",
        _idx_case(lambda f: None, trusted=False, name="fashion_mnist", gz=False),
        ("fashion-mnist/train-images-idx3-ubyte", "sha256 mismatch"),
    ),
    "wrong-magic": ("mnist", _idx_case(_wrong_magic), (A, "magic number 2049", "expected 2051")),
    "count-mismatch": (
        "mnist",
        _idx_case(_count_mismatch),
        ("count mismatch", "t10k-images-idx3-ubyte.gz", "10 images", "9 labels"),
    ),
    "truncated-payload": ("mnist", _idx_case(_short_payload), (A, "truncated", "(20, 8, 8)")),
    "trailing-bytes": ("mnist", _idx_case(_trailing), ("mnist/t10k-images-idx3-ubyte.gz", "trailing bytes")),
    "label-out-of-range": ("mnist", _idx_case(_bad_label), ("train labels outside 0..9",)),
    "jpeg-corrupt-in-archive": (
        "cifar10_jpeg",
        _jpeg_case(_with(_corrupt_jpeg)),
        ("cifar10-jpeg.tar.gz:train/cat/0000.jpg", "corrupt JPEG"),
    ),
    "jpeg-not-a-jpeg": ("cifar10_jpeg", _jpeg_case(_with(_not_a_jpeg)), ("test/dog/0000.jpg", "corrupt JPEG")),
    "jpeg-wrong-size": ("cifar10_jpeg", _jpeg_case(_with(_wrong_size)), ("train/ship/0000.jpg", "16×16", "32×32")),
    "jpeg-empty-class-folder": (
        "cifar10_jpeg",
        _jpeg_case(lambda: jpeg_members(skip_class="deer")),
        ("cifar10-jpeg.tar.gz", "class folder train/deer is empty or missing"),
    ),
    "jpeg-unknown-class": ("cifar10_jpeg", _jpeg_case(_with(_unknown_class)), ("unknown class folder 'unicorn'",)),
    "jpeg-archive-wrong-checksum": (
        "cifar10_jpeg",
        _jpeg_case(jpeg_members, trusted=False),
        ("cifar10-jpeg.tar.gz", "sha256 mismatch"),
    ),
    "jpeg-dir-corrupt": (
        "cifar10_jpeg",
        _jpeg_case(_with(_corrupt_jpeg), archive=False),
        ("cifar10-jpeg:train/cat/0000.jpg", "corrupt JPEG"),
    ),
    "jpeg-dir-empty-class-folder": (
        "cifar10_jpeg",
        _jpeg_case(lambda: jpeg_members(skip_class="frog"), archive=False),
        ("class folder train/frog is empty or missing",),
    ),
    "cifar10-wrong-md5": ("cifar10", _cifar_bad_md5, ("cifar-10-python.tar.gz", "md5 mismatch")),
}


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.usefixtures("_one_image_per_class")
def test_bad_data_is_refused_by_prepare_data(tmp_path, monkeypatch, case):
    dataset, build, needles = CASES[case]
    data_dir = tmp_path / "data"
    build(data_dir, monkeypatch)
    out = tmp_path / "results" / "data"
    outputs = [out / f"{dataset}.npz", out / f"{dataset}.json"]
    with pytest.raises((ValueError, FileNotFoundError)) as err:
        load_script("prepare_data").main(dataset, data_dir, dataset_args(dataset), *outputs)
    message = str(err.value)
    for needle in needles:
        assert needle in message, f"{needle!r} not in {message!r}"
    assert_nothing_written(outputs, tmp_path)


@pytest.mark.usefixtures("_one_image_per_class")
def test_good_synthetic_data_is_accepted(tmp_path, monkeypatch):
    """Controls: the unmodified synthetic IDX folder and image folder prepare fine."""
    prepare = load_script("prepare_data")
    _idx_case(lambda f: None)(tmp_path / "data", monkeypatch)
    meta = prepare.main("mnist", tmp_path / "data", dataset_args("mnist"), tmp_path / "m.npz", tmp_path / "m.json")
    assert meta["counts"] == {"train": 20, "test": 10}
    _jpeg_case(jpeg_members)(tmp_path / "data", monkeypatch)
    meta = prepare.main(
        "cifar10_jpeg", tmp_path / "data", dataset_args("cifar10_jpeg"), tmp_path / "c.npz", tmp_path / "c.json"
    )
    assert meta["counts"] == {"train": 10, "test": 10}


# Through snakemake too: a few cases whose failure does not depend on an injected checksum table (each
# costs a job process, ~3 s of CPU; the rule script's main above is what the job runs).
END_TO_END = ["mnist-missing-file", "truncated-gz", "jpeg-dir-empty-class-folder", "cifar10-wrong-md5"]


@pytest.fixture(scope="module")
def data_runs(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("bad_data")
    cases = {}
    with pytest.MonkeyPatch.context() as monkeypatch:  # only the in-process table; snakemake sees the real one
        for case in END_TO_END:
            dataset, build, _ = CASES[case]
            build(root / case / "data", monkeypatch)
            cfg = tiny_config()
            cfg.update(datasets=[dataset], data_dir=str(root / case / "data"))
            cases[case] = (root / case / "work", write_config(root / case / "config.yaml", cfg), ())
    return run_snakemake_batch(cases, root / "outputs")


@pytest.mark.integration
@pytest.mark.parametrize("case", END_TO_END)
@pytest.mark.usefixtures("_one_image_per_class")
def test_bad_data_fails_the_workflow(data_runs, case):
    dataset, _, needles = CASES[case]
    run = data_runs[case]
    assert run["rc"] not in (0, -999), run["output"][-3000:]
    for needle in needles:
        assert needle in run["output"], f"{needle!r} not in snakemake's output:\n{run['output'][-3000:]}"
    work = run["workdir"]
    assert (work / "logs" / "prepare_data" / f"{dataset}.log").exists(), "the failing job ran and logged"
    assert not (work / "results").exists() or not any(p.is_file() for p in (work / "results").rglob("*")), (
        f"outputs left: {list((work / 'results').rglob('*'))}"
    )
    assert not leftovers(work)


# === Decompression bombs and links ==================================================================================

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
@pytest.mark.usefixtures("_one_image_per_class")
def test_gzip_bomb_is_refused_by_prepare_data(tmp_path, case):
    header, needles = GZIP_BOMBS[case]
    mnist_with_bomb(tmp_path / "data", header)
    outputs = [tmp_path / "results" / "data" / "mnist.npz", tmp_path / "results" / "data" / "mnist.json"]
    with pytest.raises(IdxError) as err:
        load_script("prepare_data").main("mnist", tmp_path / "data", dataset_args("mnist"), *outputs)
    for needle in needles:
        assert needle in str(err.value), f"{needle!r} not in {err.value}"
    assert_nothing_written(outputs, tmp_path)


_MEASURE = r"""
import json, resource, sys
sys.path.insert(0, sys.argv[1])
from snnconv.workflow.config import schema_defaults
from snnconv.data import prepare_dataset
import numpy, torch, PIL.Image  # everything prepare_data imports, before the baseline
options = schema_defaults()["dataset_options"]["mnist"]
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    prepare_dataset("mnist", options, sys.argv[2])
    message = None
except Exception as exc:
    message = f"{type(exc).__name__}: {exc}"
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"before_kb": before, "after_kb": after, "message": message}))
"""


@pytest.mark.integration
@pytest.mark.usefixtures("_one_image_per_class")
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


@pytest.mark.usefixtures("_one_image_per_class")
def test_download_verification_and_read_bytes_are_bounded(tmp_path):
    """The download check (uncompressed SHA-256) and read_bytes stop at the known size too."""
    bomb = write_gzip_bomb(tmp_path / f"{TRAIN_IMAGES}.gz", idx_header(60000, 28, 28), zeros=64 << 20)
    with pytest.raises(IdxError, match=rf"{TRAIN_IMAGES}.gz: decompresses to more than {IDX_SIZES[TRAIN_IMAGES]}"):
        idx_digest(bomb, IDX_SIZES[TRAIN_IMAGES])
    with pytest.raises(IdxError, match="decompresses to more than 1000 bytes"):
        read_bytes(bomb, max_bytes=1000)
    small = write_gzip_bomb(tmp_path / "small.gz", b"abc", zeros=0)
    assert read_bytes(small) == b"abc" and len(idx_digest(small)) == 64


@pytest.mark.usefixtures("_one_image_per_class")
def test_real_mnist_still_reads(shared_data):
    """Control: the real files are exactly at the bound and verify against the known table."""
    ds, source = registry.prepare_dataset(
        "mnist", dataset_args("mnist", **{"subset_train": 10, "subset_test": 10}), shared_data
    )
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


@pytest.mark.usefixtures("_one_image_per_class")
def test_jpeg_bomb_in_archive_names_the_member(tmp_path, monkeypatch):
    archive = tmp_path / "data" / "cifar10-jpeg" / "cifar10-jpeg.tar.gz"
    digest = write_jpeg_tar(archive, _bomb_members())
    monkeypatch.setattr(registry, "load_image_folder", partial(cifar.load_image_folder, expected_sha256=digest))
    outputs = [tmp_path / "out" / "cifar10_jpeg.npz", tmp_path / "out" / "cifar10_jpeg.json"]
    with pytest.raises(ValueError) as err:
        load_script("prepare_data").main("cifar10_jpeg", tmp_path / "data", dataset_args("cifar10_jpeg"), *outputs)
    message = str(err.value)
    assert f"{archive}:train/horse/0000.jpg" in message and "decompression bomb" in message
    assert "900000000 pixels" in message
    assert_nothing_written(outputs, tmp_path)


@pytest.mark.usefixtures("_one_image_per_class")
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
@pytest.mark.usefixtures("_one_image_per_class")
def test_links_in_image_folder_are_refused(tmp_path, case):
    link = image_dir_with(tmp_path / "data", tmp_path / "outside", LINKS[case])
    outputs = [tmp_path / "out" / "cifar10_jpeg.npz", tmp_path / "out" / "cifar10_jpeg.json"]
    with pytest.raises(ValueError) as err:
        load_script("prepare_data").main("cifar10_jpeg", tmp_path / "data", dataset_args("cifar10_jpeg"), *outputs)
    message = str(err.value)
    assert f"{link}: is a symbolic link" in message and "refused" in message
    assert_nothing_written(outputs, tmp_path)


@pytest.mark.usefixtures("_one_image_per_class")
def test_linked_root_folder_is_accepted(tmp_path):
    """Control: the data folder itself may be a link (data_dir pointing at shared storage)."""
    write_jpeg_dir(tmp_path / "store" / "cifar10-jpeg", jpeg_members())
    (tmp_path / "data").mkdir()
    os.symlink(tmp_path / "store" / "cifar10-jpeg", tmp_path / "data" / "cifar10-jpeg")
    meta = load_script("prepare_data").main(
        "cifar10_jpeg", tmp_path / "data", dataset_args("cifar10_jpeg"), tmp_path / "c.npz", tmp_path / "c.json"
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


BOMB_END_TO_END = {
    "gzip-bomb": (_e2e_gzip, ("mnist/train-images-idx3-ubyte.gz", "trailing bytes")),
    "jpeg-bomb-dir": (_e2e_jpeg_bomb, ("cifar10-jpeg:train/horse/0000.jpg", "decompression bomb")),
    "file-link-dir": (_e2e_link, ("cifar10-jpeg/train/cat/0001.jpg: is a symbolic link",)),
}


@pytest.fixture(scope="module")
def bomb_data_runs(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("bomb_data")
    cases, datasets = {}, {}
    for case, (build, _) in BOMB_END_TO_END.items():
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


@pytest.mark.integration
@pytest.mark.parametrize("case", list(BOMB_END_TO_END))
@pytest.mark.usefixtures("_one_image_per_class")
def test_bombs_and_links_fail_the_workflow(bomb_data_runs, case):
    run = bomb_data_runs[case]
    assert run["rc"] not in (0, -999), run["output"][-3000:]
    for needle in BOMB_END_TO_END[case][1]:
        assert needle in run["output"], f"{needle!r} not in snakemake's output:\n{run['output'][-3000:]}"
    work = run["workdir"]
    assert (work / "logs" / "prepare_data" / f"{run['dataset']}.log").exists(), "the failing job ran and logged"
    assert not (work / "results").exists() or not any(p.is_file() for p in (work / "results").rglob("*")), (
        f"outputs left: {list((work / 'results').rglob('*'))}"
    )
    assert not leftovers(work)


# === Image-folder layout and counts =================================================================================


SMALL = {"train": 3, "test": 2}


def members(changes: dict[str, bytes | None] | None = None) -> dict[str, bytes | None]:
    """name -> JPEG bytes of the small layout, with ``changes`` applied (bytes: add or replace; None: remove)."""
    out: dict[str, bytes | None] = {
        f"{split}/{cls}/{i:04d}.jpg": jpeg_bytes(label)
        for split, n in SMALL.items()
        for label, cls in enumerate(cifar.CIFAR10_CLASSES)
        for i in range(n)
    }
    for name, value in (changes or {}).items():
        if value is None:
            del out[name]
        else:
            out[name] = value
    return out


def prepare(tmp_path: Path, layout: dict, archive: bool, monkeypatch) -> tuple[Exception, list[Path], Path]:
    """Write ``layout`` as the archive or the directory form, run prepare_data; (error, outputs, data root)."""
    data_dir = tmp_path / "data"
    if archive:
        root = data_dir / "cifar10-jpeg" / "cifar10-jpeg.tar.gz"
        digest = write_jpeg_tar(root, layout)
        loader = partial(cifar.load_image_folder, expected_sha256=digest)  # the archive is what it claims to be
    else:
        root = data_dir / "cifar10-jpeg"
        write_jpeg_dir(root, layout)
        loader = cifar.load_image_folder
    monkeypatch.setattr(registry, "load_image_folder", partial(loader, per_class=SMALL))
    outputs = [tmp_path / "out" / "cifar10_jpeg.npz", tmp_path / "out" / "cifar10_jpeg.json"]
    with pytest.raises(ValueError) as err:
        load_script("prepare_data").main("cifar10_jpeg", data_dir, dataset_args("cifar10_jpeg"), *outputs)
    return err.value, outputs, root


LAYOUT_CASES = {
    # one test image of a class missing: 9 classes of 2 and one of 1
    "missing-image": (
        {"test/cat/0001.jpg": None},
        ["class folder test/cat holds 1 images, expected 2 per class in test (images missing)"],
    ),
    # the same image twice, under a copy's name
    "duplicate-copy": (
        {"train/dog/0001 (copy).jpg": jpeg_bytes(5)},
        ["class folder train/dog holds 4 images, expected 3", "added or duplicated", "0001 (copy).jpg"],
    ),
    "Test-folder-beside-test": (
        {"Test/cat/0000.jpg": jpeg_bytes(3)},
        ["Test: unexpected folder 'Test'", "exactly the split folders train and test (lower case)"],
    ),
    "non-jpeg-in-class-folder": (
        {"train/cat/notes.txt": b"hello"},
        ["train/cat/notes.txt: unexpected file", "only .jpg images"],
    ),
    "folder-in-class-folder": ({"train/cat/extra/0000.jpg": jpeg_bytes(3)}, ["train/cat/extra", "unexpected folder"]),
}


@pytest.mark.parametrize("archive", [True, False], ids=["archive", "directory"])
@pytest.mark.parametrize("case", list(LAYOUT_CASES))
def test_broken_image_folder_is_refused_naming_it(tmp_path, monkeypatch, case, archive):
    changes, needles = LAYOUT_CASES[case]
    error, outputs, root = prepare(tmp_path, members(changes), archive, monkeypatch)
    message = str(error)
    assert message.startswith(str(root)), message
    for needle in needles:
        assert needle in message, f"{needle!r} not in {message!r}"
    assert_nothing_written(outputs, tmp_path)


def test_renamed_test_folder_is_refused_naming_it(tmp_path, monkeypatch):
    layout = {k.replace("test/", "Test/", 1) if k.startswith("test/") else k: v for k, v in members().items()}
    error, _, root = prepare(tmp_path, layout, archive=True, monkeypatch=monkeypatch)
    assert f"{root}:Test: unexpected folder 'Test'" in str(error)


def test_the_small_layout_itself_is_accepted(tmp_path, monkeypatch):
    """Control: the same layout without a change prepares (so the refusals above are about the change)."""
    for archive in (True, False):
        data_dir = tmp_path / ("a" if archive else "d")
        if archive:
            digest = write_jpeg_tar(data_dir / "cifar10-jpeg" / "cifar10-jpeg.tar.gz", members())
            loader = partial(cifar.load_image_folder, expected_sha256=digest, per_class=SMALL)
        else:
            write_jpeg_dir(data_dir / "cifar10-jpeg", members())
            (data_dir / "cifar10-jpeg" / "README.txt").write_text("a file beside the split folders is not data")
            loader = partial(cifar.load_image_folder, per_class=SMALL)
        monkeypatch.setattr(registry, "load_image_folder", loader)
        meta = load_script("prepare_data").main(
            "cifar10_jpeg", data_dir, dataset_args("cifar10_jpeg"), data_dir / "c.npz", data_dir / "c.json"
        )
        assert meta["counts"] == {"train": 30, "test": 20}


def test_the_default_counts_are_cifar10s():
    assert cifar.CIFAR10_JPEG_PER_CLASS == {"train": 5000, "test": 1000}


@pytest.mark.integration
def test_a_Test_folder_fails_the_workflow_naming_it(tmp_path):
    data_dir = tmp_path / "data"
    write_jpeg_dir(data_dir / "cifar10-jpeg", members({"Test/cat/0000.jpg": jpeg_bytes(3)}))
    cfg = tiny_config()
    cfg.update(datasets=["cifar10_jpeg"], data_dir=str(data_dir))
    proc = run_snakemake(
        tmp_path / "work", write_config(tmp_path / "c.yaml", cfg), "results/data/cifar10_jpeg.npz", check=False
    )
    assert proc.returncode != 0
    log = (tmp_path / "work" / "logs" / "prepare_data" / "cifar10_jpeg.log").read_text()
    assert f"{data_dir / 'cifar10-jpeg'}/Test: unexpected folder 'Test'" in log, log[-2000:]
    assert "KeyError" not in log


# === Prepared data must be what it claims ===========================================================================


# Every setting a rule's params would pass (defaults live only in the schema, so scripts require them all).
CONV = {"norm_set_size": 50, "norm_set_seed": 0, "per_channel": False, "maxpool_to_avgpool": False}


@pytest.fixture(scope="module")
def foreign(tmp_path_factory) -> Path:
    """A prepared synthetic 'mnist' (1×8×8, 10 classes: the same keys and shapes as digits) and its sidecar."""
    import hashlib

    from snnconv.data.checksums import IDX_SHA256

    root = tmp_path_factory.mktemp("foreign")
    files = good_idx_files(n_train=300, n_test=60)
    write_idx_folder(root / "raw" / "mnist", files)
    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(IDX_SHA256, "mnist", {s: hashlib.sha256(d).hexdigest() for s, d in files.items()})
        load_script("prepare_data").main(
            "mnist", root / "raw", dataset_args("mnist"), root / "mnist.npz", root / "mnist.json"
        )
    return root / "mnist.npz"


@pytest.fixture(scope="module")
def trained(tmp_path_factory, digits_npz) -> dict[str, Path]:
    """A small MLP trained on digits and its max-norm spiking network (the consumers' other inputs)."""
    root = tmp_path_factory.mktemp("trained")
    out = {k: root / f"{k}.{ext}" for k, ext in (("model", "pt"), ("metrics", "csv"), ("summary", "json"))}
    load_script("train").main(
        str(digits_npz),
        *(str(out[k]) for k in ("model", "metrics", "summary")),
        "mlp",
        0,
        training_args(epochs=1, batch_size=64, lr=0.01, device="cpu", threads=1),
        arch_args("mlp", hidden=[16]),
        progress=False,
    )
    convert_files(out["model"], digits_npz, "max", CONV, root / "network.pt", root / "network.json")
    return {"model": out["model"], "network": root / "network.pt"}


def swapped_copy(tmp: Path, digits_npz: Path, foreign: Path, how: str) -> Path:
    """``tmp/digits.npz`` (+ sidecar) as the pipeline would hold it, then tampered with as ``how`` says."""
    npz = tmp / "data" / "digits.npz"
    npz.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(digits_npz, npz)
    shutil.copyfile(sidecar_path(digits_npz), sidecar_path(npz))
    if how in ("npz", "both"):
        shutil.copyfile(foreign, npz)
    if how == "both":
        shutil.copyfile(sidecar_path(foreign), sidecar_path(npz))
    if how == "no-sidecar":
        sidecar_path(npz).unlink()
    if how == "edited-counts":
        meta = json.loads(sidecar_path(npz).read_text())
        meta["counts"]["test"] += 1
        sidecar_path(npz).write_text(json.dumps(meta))
    return npz


# how -> substrings of the error (besides the npz path)
SWAPS = {
    "npz": ("not the prepared dataset it claims to be", "sha256", "digits.json records"),
    "both": ("says dataset 'mnist', expected 'digits'",),
    "no-sidecar": ("digits.json is missing",),
    "edited-counts": ("records counts", "'test': 61", "'test': 60"),
}


def _consumers(trained: dict[str, Path], npz: Path, out: Path) -> dict[str, tuple]:
    """consumer -> (callable, outputs it must not leave behind)."""
    sim_cfg = {
        "T": 5,
        "batch_size": 50,
        "time_chunk": 5,
        "device": "cpu",
        "threads": 1,
        "encoding": "poisson",
        "max_rate": 1.0,
        "reset": "subtract",
        "decode": "membrane",
        "test_subset": 0,
        "compile": "false",
    }
    stats_cfg = {
        "T": 5,
        "samples": 10,
        "neurons_per_layer": 4,
        "threads": 1,
        "seed": 0,
        "max_rate": 1.0,
        "reset": "subtract",
        "batch_size": 10,
        "device": "cpu",
        "time_chunk": 5,
        "compile": "false",
    }
    ids = {"dataset": "digits", "arch": "mlp", "seed": "0", "norm": "max", "iseed": "0"}
    train_out = [out / "model.pt", out / "metrics.csv", out / "summary.json"]
    return {
        "train": (
            lambda: load_script("train").main(
                str(npz),
                *map(str, train_out),
                "mlp",
                0,
                training_args(epochs=1, batch_size=64, lr=0.01, device="cpu", threads=1),
                arch_args("mlp", hidden=[16]),
                progress=False,
            ),
            train_out,
        ),
        "convert": (
            lambda: convert_files(trained["model"], npz, "max", CONV, out / "network.pt", out / "network.json"),
            [out / "network.pt", out / "network.json"],
        ),
        "simulate": (
            lambda: load_script("simulate").main(trained["network"], npz, out / "sim.csv", ids, sim_cfg),
            [out / "sim.csv"],
        ),
        "membrane_stats": (
            lambda: load_script("membrane_stats").main(
                trained["network"], npz, out / "stats.csv", dict(ids), stats_cfg
            ),
            [out / "stats.csv"],
        ),
    }


@pytest.mark.parametrize("consumer", ["train", "convert", "simulate", "membrane_stats"])
@pytest.mark.parametrize("how", list(SWAPS))
def test_tampered_prepared_data_is_refused(tmp_path, digits_npz, foreign, trained, consumer, how):
    npz = swapped_copy(tmp_path, digits_npz, foreign, how)
    run, outputs = _consumers(trained, npz, tmp_path / "out")[consumer]
    with pytest.raises(PreparedMismatchError) as err:
        run()
    message = str(err.value)
    assert str(npz) in message
    for needle in SWAPS[how]:
        assert needle in message, f"{needle!r} not in {message!r}"
    assert_nothing_written(outputs, tmp_path)


def test_intact_copy_is_accepted(tmp_path, digits_npz, foreign):
    """Controls: an untouched copy loads under its own name; the foreign file loads as what it is."""
    npz = swapped_copy(tmp_path, digits_npz, foreign, "none")
    assert load_prepared(npz).name == "digits"
    assert load_prepared(npz, expect_dataset="digits").x_train.shape[1:] == (1, 8, 8)
    assert load_prepared(foreign).name == "mnist" and load_prepared(foreign).x_train.shape[1:] == (1, 8, 8)
    with pytest.raises(PreparedMismatchError, match="says dataset 'digits', expected 'mnist'"):
        load_prepared(npz, expect_dataset="mnist")


def test_checkpoint_dataset_must_match_the_data(tmp_path, trained, foreign):
    """convert compares the data with the dataset the checkpoint was trained on (also for a consistent pair)."""
    with pytest.raises(PreparedMismatchError, match=r"mnist.npz: .*says dataset 'mnist', expected 'digits'"):
        convert_files(trained["model"], foreign, "max", CONV, tmp_path / "network.pt", tmp_path / "network.json")
    assert_nothing_written([tmp_path / "network.pt", tmp_path / "network.json"], tmp_path)


@pytest.mark.integration
def test_swapped_file_fails_the_workflow(tmp_path, foreign):
    """Through snakemake: prepare digits, replace its npz by another dataset's, then ask for the model."""
    cfg = tiny_config()
    cfg["training"]["epochs"] = 1
    config = write_config(tmp_path / "config.yaml", cfg)
    work = tmp_path / "work"
    npz = work / "results" / "data" / "digits.npz"
    run_snakemake(work, config, str(npz.relative_to(work)))
    shutil.copyfile(foreign, npz)
    model = work / "results" / "models" / "digits" / "mlp" / "seed0" / "model.pt"
    proc = run_snakemake(work, config, str(model.relative_to(work)), check=False)
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0, output[-3000:]
    assert "results/data/digits.npz: not the prepared dataset it claims to be" in output, output[-3000:]
    assert "sha256" in output
    assert_nothing_written([model, model.with_name("metrics.csv"), model.with_name("summary.json")], work / "results")
