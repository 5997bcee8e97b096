"""Bad-data corpus: small synthetic raw files in a temporary data_dir, run through the prepare_data rule
script's ``main`` (and, for the cases that need no injected checksum, through snakemake end to end).

Each case must raise, with a message naming the offending file (and value), and leave neither the
prepared npz nor its JSON sidecar nor any temporary file behind. The real checksum tables only match
the real datasets, so the cases that test what lies *behind* the checksum (magic number, counts, JPEG
decoding, ...) swap in a table holding the synthetic files' own digests.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import tarfile
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np
import pytest
from test_reliability_support import (
    assert_nothing_written,
    leftovers,
    load_script,
    run_snakemake_batch,
    tiny_config,
    write_config,
)

from snnconv.data import cifar, registry
from snnconv.data.checksums import IDX_SHA256
from snnconv.data.idx import IMAGES_MAGIC, LABELS_MAGIC


@pytest.fixture(autouse=True)
def _one_image_per_class(monkeypatch):
    """The synthetic image folders hold one image per class: the count table the loader checks them against."""
    monkeypatch.setattr(cifar, "CIFAR10_JPEG_PER_CLASS", {"train": 1, "test": 1})


# --- synthetic raw files ---------------------------------------------------------------------------------


def idx_bytes(magic: int, array: np.ndarray) -> bytes:
    """An uncompressed IDX file: magic, big-endian dimensions, uint8 payload."""
    return magic.to_bytes(4, "big") + b"".join(int(d).to_bytes(4, "big") for d in array.shape) + array.tobytes()


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
def test_bad_data_is_refused_by_prepare_data(tmp_path, monkeypatch, case):
    dataset, build, needles = CASES[case]
    data_dir = tmp_path / "data"
    build(data_dir, monkeypatch)
    out = tmp_path / "results" / "data"
    outputs = [out / f"{dataset}.npz", out / f"{dataset}.json"]
    with pytest.raises((ValueError, FileNotFoundError)) as err:
        load_script("prepare_data").main(dataset, data_dir, {}, *outputs)
    message = str(err.value)
    for needle in needles:
        assert needle in message, f"{needle!r} not in {message!r}"
    assert_nothing_written(outputs, tmp_path)


def test_good_synthetic_data_is_accepted(tmp_path, monkeypatch):
    """Controls: the unmodified synthetic IDX folder and image folder prepare fine."""
    prepare = load_script("prepare_data")
    _idx_case(lambda f: None)(tmp_path / "data", monkeypatch)
    meta = prepare.main("mnist", tmp_path / "data", {}, tmp_path / "m.npz", tmp_path / "m.json")
    assert meta["counts"] == {"train": 20, "test": 10}
    _jpeg_case(jpeg_members)(tmp_path / "data", monkeypatch)
    meta = prepare.main("cifar10_jpeg", tmp_path / "data", {}, tmp_path / "c.npz", tmp_path / "c.json")
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


@pytest.mark.parametrize("case", END_TO_END)
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
