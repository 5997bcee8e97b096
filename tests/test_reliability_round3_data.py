"""The image-folder loader (cifar10_jpeg) checks its layout and the images per class before decoding anything.

A folder has no digest to verify, and a tar is only as good as the table it is checked against, so the loader
counts: every class of a split must hold CIFAR-10's count (5,000 training and 1,000 test images per class), and the
folder must hold exactly ``{train,test}/<class>/<name>.jpg``. A test set with one cat image missing used to be
accepted (9,999 images), a ``0001 (copy).jpg`` was added silently, and a ``Test/`` folder crashed with
``KeyError: 'Test'``; each is now refused naming the folder or file. The synthetic layouts below hold 3 training
and 2 test images per class, and the loader is told so, as the checksum tables are for synthetic files.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import pytest
from test_reliability_data import jpeg_bytes, write_jpeg_dir, write_jpeg_tar
from test_reliability_support import assert_nothing_written, load_script, run_snakemake, tiny_config, write_config

from snnconv.data import cifar, registry

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
        load_script("prepare_data").main("cifar10_jpeg", data_dir, {}, *outputs)
    return err.value, outputs, root


CASES = {
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
@pytest.mark.parametrize("case", list(CASES))
def test_broken_image_folder_is_refused_naming_it(tmp_path, monkeypatch, case, archive):
    changes, needles = CASES[case]
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
        meta = load_script("prepare_data").main("cifar10_jpeg", data_dir, {}, data_dir / "c.npz", data_dir / "c.json")
        assert meta["counts"] == {"train": 30, "test": 20}


def test_the_default_counts_are_cifar10s():
    assert cifar.CIFAR10_JPEG_PER_CLASS == {"train": 5000, "test": 1000}


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
