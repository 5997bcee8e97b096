"""Dataset registry: the embedded digits default, options, missing-data errors and the Snakemake entry points."""

from __future__ import annotations

import importlib.util
import json
import logging
from pathlib import Path

import numpy as np
import pytest
from helpers import REPO

from snnconv.data import DATASETS, load_prepared, prepare_dataset
from snnconv.data.registry import DATA_DIR_ENV, locate
from snnconv.defaults import dataset_args


def load_script(name: str):
    """Import ``scripts/<name>.py`` as a module (no ``snakemake`` object, so only ``main`` is defined)."""
    spec = importlib.util.spec_from_file_location(name, REPO / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_dataset_names() -> None:
    assert DATASETS == ("digits", "mnist", "fashion_mnist", "cifar10", "cifar10_jpeg")


def test_digits_shape_counts_and_classes() -> None:
    ds, source = prepare_dataset("digits", dataset_args("digits"))
    assert ds.shape == (1, 8, 8) and ds.x_train.dtype == np.uint8
    assert len(ds.y_train) + len(ds.y_test) == 1797
    assert len(ds.y_test) == 450  # 25 % of 1797, rounded up by scikit-learn
    assert ds.x_train.max() == 255 and not ds.lossy
    assert np.bincount(ds.y_train, minlength=10).min() > 100  # stratified: every class well represented
    assert source["dataset"] == "digits" and source["subset"] == {"train": 0, "test": 0}


def test_digits_split_is_seeded() -> None:
    a, _ = prepare_dataset("digits", dataset_args("digits", **{"split_seed": 3}))
    b, _ = prepare_dataset("digits", dataset_args("digits", **{"split_seed": 3}))
    c, _ = prepare_dataset("digits", dataset_args("digits", **{"split_seed": 4}))
    assert np.array_equal(a.x_train, b.x_train) and np.array_equal(a.y_test, b.y_test)
    assert not np.array_equal(a.y_train, c.y_train)


def test_subset_takes_the_first_n() -> None:
    full, _ = prepare_dataset("digits", dataset_args("digits"))
    sub, source = prepare_dataset("digits", dataset_args("digits", **{"subset_train": 100, "subset_test": 7}))
    assert len(sub.y_train) == 100 and len(sub.y_test) == 7
    assert np.array_equal(sub.x_train, full.x_train[:100]) and np.array_equal(sub.y_test, full.y_test[:7])
    assert source["subset"] == {"train": 100, "test": 7}


@pytest.mark.parametrize("options", [{"subset_train": -1}, {"subset_test": 1.5}, {"subset_train": True}])
def test_bad_subset_rejected(options: dict) -> None:
    with pytest.raises(ValueError, match="non-negative integer"):
        prepare_dataset("digits", dataset_args("digits", **options))


def test_unknown_dataset_and_option() -> None:
    with pytest.raises(ValueError, match="unknown dataset 'svhn'"):
        prepare_dataset("svhn", {})
    with pytest.raises(ValueError, match="subset_trian"):
        prepare_dataset("mnist", dataset_args("mnist", **{"subset_trian": 10}), "/nonexistent")


@pytest.mark.parametrize(
    "name, expected",
    [
        ("mnist", "mnist"),
        ("fashion_mnist", "fashion-mnist"),
        ("cifar10", "cifar-10-python.tar.gz"),
        ("cifar10_jpeg", "cifar10-jpeg/cifar10-jpeg.tar.gz"),
    ],
)
def test_missing_data_says_where_and_how(tmp_path: Path, name: str, expected: str) -> None:
    with pytest.raises(FileNotFoundError) as err:
        prepare_dataset(name, dataset_args(name), tmp_path)
    message = str(err.value)
    assert str(tmp_path / expected) in message
    assert "config/config.yaml" in message and DATA_DIR_ENV in message
    assert ("no public download" if name == "cifar10_jpeg" else "snakemake --config download=True") in message


def test_missing_single_idx_file_is_named(tmp_path: Path) -> None:
    folder = tmp_path / "mnist"
    folder.mkdir()
    for stem in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte"):
        (folder / f"{stem}.gz").write_bytes(b"")
    with pytest.raises(FileNotFoundError, match="t10k-labels-idx1-ubyte.gz"):
        prepare_dataset("mnist", dataset_args("mnist"), tmp_path)


def test_data_dir_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(DATA_DIR_ENV, raising=False)
    with pytest.raises(FileNotFoundError, match="no data directory"):
        locate("mnist", None)
    (tmp_path / "cifar10").mkdir()
    (tmp_path / "cifar10" / "cifar-10-python.tar.gz").write_bytes(b"x")
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path))
    assert locate("cifar10", None) == tmp_path / "cifar10" / "cifar-10-python.tar.gz"
    with pytest.raises(FileNotFoundError, match="elsewhere"):
        locate("cifar10", tmp_path / "elsewhere")  # an explicit data_dir wins over the variable


def test_prepare_script_writes_npz_and_meta(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    script = load_script("prepare_data")
    npz, meta = tmp_path / "data" / "digits.npz", tmp_path / "data" / "digits.json"
    with caplog.at_level(logging.INFO, logger="snnconv"):
        sidecar = script.main("digits", None, dataset_args("digits", subset_train=50), npz, meta)
    ds = load_prepared(npz)
    assert len(ds.y_train) == 50 and sidecar["counts"]["train"] == 50
    assert json.loads(meta.read_text())["source"]["subset"]["train"] == 50
    assert "wrote" in caplog.text


def test_prepare_script_logs_failures(tmp_path: Path) -> None:
    """Through the rule binding: the failure, its message and traceback land in the rule log."""
    from types import SimpleNamespace

    from snnconv.workflow.job import run_job

    script = load_script("prepare_data")
    smk = SimpleNamespace(
        wildcards=SimpleNamespace(dataset="mnist"),
        resources={"data_dir": str(tmp_path)},
        params=SimpleNamespace(options=dataset_args("mnist")),
        rule="prepare_data",
        log=[str(tmp_path / "p.log")],
        output=SimpleNamespace(npz=str(tmp_path / "m.npz"), meta=str(tmp_path / "m.json")),
    )
    with pytest.raises(FileNotFoundError):
        run_job(smk, script._bind)
    text = (tmp_path / "p.log").read_text()
    assert "rule prepare_data failed" in text and "download: true" in text and "Traceback" in text
    assert not (tmp_path / "m.npz").exists()


def test_download_script_without_public_source(tmp_path: Path) -> None:
    script = load_script("download_data")
    manifest = script.main("digits", tmp_path, tmp_path / "downloads" / "digits.json")
    assert json.loads((tmp_path / "downloads" / "digits.json").read_text()) == manifest
    assert manifest["downloadable"] is False
    with pytest.raises(FileNotFoundError, match=r"cifar10-jpeg.tar.gz.*no public download"):
        script.main("cifar10_jpeg", tmp_path, tmp_path / "downloads" / "cifar10_jpeg.json")
    assert not (tmp_path / "downloads" / "cifar10_jpeg.json").exists()
