"""Name → loader table for every supported dataset, and where each one's raw files live under ``data_dir``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..workflow.vocab import DATASETS  # the one list of dataset names
from .checksums import IDX_FILES
from .cifar import load_cifar10_python, load_image_folder
from .digits import load_digits_dataset
from .idx import find_idx_file, load_idx_dataset
from .prepared import ArrayDataset

DATA_DIR_ENV = "SNNCONV_DATA_DIR"
COMMON_OPTIONS = {"subset_train", "subset_test"}
EXTRA_OPTIONS = {"digits": {"test_fraction", "split_seed"}}

# Where each dataset's raw files may sit under data_dir; the first entry is where `download_<name>` puts them.
DATA_PATHS = {
    "mnist": ("mnist",),
    "fashion_mnist": ("fashion-mnist",),
    "cifar10": ("cifar-10-python.tar.gz", "cifar10/cifar-10-python.tar.gz"),
    "cifar10_jpeg": ("cifar10-jpeg/cifar10-jpeg.tar.gz", "cifar10-jpeg"),
}


def resolve_data_dir(data_dir: str | Path | None) -> Path | None:
    """``data_dir`` if given, else ``$SNNCONV_DATA_DIR``, else None."""
    value = data_dir or os.environ.get(DATA_DIR_ENV)
    return Path(value) if value else None


def _how_to_get(name: str) -> str:
    """The hint appended to every missing-data error."""
    fetch = (
        "copy the lossy cifar10-jpeg.tar.gz there (it has no public download)"
        if name == "cifar10_jpeg"
        else "fetch it with `download: true` in the config (e.g. `snakemake --config download=True`, "
        "rule download_data)"
    )
    return f"{fetch}, or set data_dir in config/config.yaml (or {DATA_DIR_ENV}) to a folder that holds it"


def locate(name: str, data_dir: str | Path | None) -> Path:
    """Path of dataset ``name``'s raw files under the data directory; FileNotFoundError saying what is expected."""
    root = resolve_data_dir(data_dir)
    if root is None:
        raise FileNotFoundError(f"{name}: no data directory given; {_how_to_get(name)}")
    candidates = [root / rel for rel in DATA_PATHS[name]]
    for path in candidates:
        if name in ("mnist", "fashion_mnist") and path.is_dir():
            for stem in IDX_FILES:  # names the first missing file
                try:
                    find_idx_file(path, stem)
                except FileNotFoundError as exc:
                    raise FileNotFoundError(f"{name}: {exc}; {_how_to_get(name)}") from None
            return path
        if path.is_file() or (path.is_dir() and (path / "train").is_dir()):
            return path
    alternatives = "".join(f" (or {p})" for p in candidates[1:])
    raise FileNotFoundError(f"{name}: expected {candidates[0]}{alternatives}, not found; {_how_to_get(name)}")


def _count(options: dict[str, Any], key: str) -> int:
    """A non-negative int option (0 = all)."""
    value = options[key]
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"dataset option {key} must be a non-negative integer (0 = all), got {value!r}")
    return value


def take_subset(ds: ArrayDataset, n_train: int, n_test: int) -> ArrayDataset:
    """The first ``n_train``/``n_test`` examples of each split (0 = all)."""
    return ArrayDataset(
        ds.name,
        ds.x_train[: n_train or None],
        ds.y_train[: n_train or None],
        ds.x_test[: n_test or None],
        ds.y_test[: n_test or None],
        classes=ds.classes,
        lossy=ds.lossy,
        info=ds.info,
    )


def prepare_dataset(
    name: str, options: dict[str, Any], data_dir: str | Path | None = None
) -> tuple[ArrayDataset, dict]:
    """Load and verify dataset ``name`` under ``options``, all of ``dataset_options[name]`` of the validated config
    (the schema gives their defaults); returns the arrays and a source record (files read, their checksums)."""
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; choose one of {list(DATASETS)}")
    options = dict(options)
    allowed = COMMON_OPTIONS | EXTRA_OPTIONS.get(name, set())
    unknown, missing = set(options) - allowed, allowed - set(options)
    if unknown:
        raise ValueError(f"unknown option(s) {sorted(unknown)} for dataset {name!r}; allowed: {sorted(allowed)}")
    if missing:
        raise ValueError(
            f"dataset {name!r} lacks option(s) {sorted(missing)}: pass all of dataset_options.{name} of the validated "
            "config (the schema gives the defaults)"
        )
    n_train, n_test = _count(options, "subset_train"), _count(options, "subset_test")
    if name == "digits":
        ds, source = load_digits_dataset(test_fraction=options["test_fraction"], seed=options["split_seed"])
    elif name in ("mnist", "fashion_mnist"):
        ds, source = load_idx_dataset(locate(name, data_dir), name)
    elif name == "cifar10":
        ds, source = load_cifar10_python(locate(name, data_dir))
    else:  # cifar10_jpeg decodes only the images it keeps
        ds, source = load_image_folder(locate(name, data_dir), name, subset_train=n_train, subset_test=n_test)
    ds = take_subset(ds, n_train, n_test)
    return ds, {"dataset": name, **source, "subset": {"train": n_train, "test": n_test}}
