"""The prepared-dataset file format (npz arrays + JSON sidecar), written atomically and checked on load."""

from __future__ import annotations

import json
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import torch

from ..atomic import atomic_path, sha256_file, write_json

PREPARED_FORMAT_VERSION = 1


@dataclass
class ArrayDataset:
    """Train/test images (uint8, N×C×H×W) and labels (int64) with class names."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    classes: list[str]
    lossy: bool = False
    info: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for split in ("train", "test"):
            x, y = getattr(self, f"x_{split}"), getattr(self, f"y_{split}")
            if x.dtype != np.uint8 or x.ndim != 4:
                raise ValueError(f"{self.name}: x_{split} must be uint8 N×C×H×W, got {x.dtype} {x.shape}")
            if y.ndim != 1 or len(y) != len(x):
                raise ValueError(f"{self.name}: {len(x)} {split} images but {len(y)} labels")
            if len(y) and (y.min() < 0 or y.max() >= len(self.classes)):
                raise ValueError(f"{self.name}: {split} labels outside 0..{len(self.classes) - 1}")

    @property
    def shape(self) -> tuple[int, int, int]:
        """(C, H, W) of one image."""
        return tuple(int(s) for s in self.x_train.shape[1:])

    @staticmethod
    def as_float(x: np.ndarray) -> torch.Tensor:
        """uint8 images → float32 tensor in [0, 1] (= spike probability per step)."""
        import torch  # here, not at the top: preparing data needs no torch (a second of start-up per job)

        return torch.from_numpy(np.ascontiguousarray(x)).float().div_(255.0)


def save_prepared(
    ds: ArrayDataset, npz_path: str | Path, json_path: str | Path, source: dict[str, Any]
) -> dict[str, Any]:
    """Write the npz and its sidecar (source, checksums, counts) atomically; returns the sidecar."""
    with atomic_path(npz_path) as tmp:
        with open(tmp, "wb") as handle:
            np.savez_compressed(
                handle,
                x_train=ds.x_train,
                y_train=ds.y_train.astype(np.int64),
                x_test=ds.x_test,
                y_test=ds.y_test.astype(np.int64),
                classes=np.array(ds.classes),
                format_version=np.array(PREPARED_FORMAT_VERSION),
            )
    sidecar = {
        "dataset": ds.name,
        "format_version": PREPARED_FORMAT_VERSION,
        "lossy": ds.lossy,
        "shape": list(ds.shape),
        "classes": ds.classes,
        "counts": {"train": int(len(ds.y_train)), "test": int(len(ds.y_test))},
        "label_counts": {
            "train": np.bincount(ds.y_train, minlength=len(ds.classes)).tolist(),
            "test": np.bincount(ds.y_test, minlength=len(ds.classes)).tolist(),
        },
        "pixel_mean_train": float(ds.x_train.mean() / 255.0),
        "sha256_npz": sha256_file(npz_path),
        "source": source,
        **({"note": ds.info["note"]} if "note" in ds.info else {}),
    }
    write_json(json_path, sidecar)
    return sidecar


def sidecar_path(npz_path: str | Path) -> Path:
    """The JSON sidecar written beside a prepared npz (``<dataset>.npz`` → ``<dataset>.json``)."""
    return Path(npz_path).with_suffix(".json")


class PreparedMismatchError(ValueError):
    """A prepared npz is not what its sidecar (or the consumer) says it is: swapped, edited or stale."""


def _read_sidecar(npz: Path) -> dict[str, Any]:
    """The sidecar of ``npz``, parsed; ValueError naming it if missing or unreadable."""
    meta_path = sidecar_path(npz)
    if not meta_path.is_file():
        raise PreparedMismatchError(
            f"{npz}: not a valid prepared dataset: its sidecar {meta_path} is missing "
            f"(both are written by prepare_data; run `snakemake {npz}` again)"
        )
    try:
        meta = json.loads(meta_path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PreparedMismatchError(f"{meta_path}: unreadable sidecar of {npz} ({exc})") from exc
    if not isinstance(meta, dict):
        raise PreparedMismatchError(f"{meta_path}: sidecar of {npz} is not a JSON object")
    return meta


def _mismatch(npz: Path, what: str) -> PreparedMismatchError:
    """The error for an npz that disagrees with its sidecar or with what its consumer expects."""
    return PreparedMismatchError(
        f"{npz}: not the prepared dataset it claims to be: {what}. Delete {npz} and "
        f"{sidecar_path(npz)} and rerun prepare_data (`snakemake {npz}`)"
    )


def _check_against_sidecar(
    npz: Path, meta: dict[str, Any], ds_arrays: dict[str, np.ndarray], classes: list[str]
) -> None:
    """Shapes, counts, classes and label counts of the loaded arrays equal those the sidecar records."""
    shape = [int(s) for s in ds_arrays["x_train"].shape[1:]]
    checks = [
        ("shape", meta.get("shape"), shape),
        ("classes", meta.get("classes"), classes),
        ("counts", meta.get("counts"), {"train": len(ds_arrays["y_train"]), "test": len(ds_arrays["y_test"])}),
    ]
    if "label_counts" in meta:
        checks.append(
            (
                "label_counts",
                meta["label_counts"],
                {
                    split: np.bincount(ds_arrays[f"y_{split}"].clip(0), minlength=len(classes)).tolist()
                    for split in ("train", "test")
                },
            )
        )
    for key, recorded, actual in checks:
        if recorded != actual:
            raise _mismatch(npz, f"sidecar {sidecar_path(npz)} records {key} {recorded}, the file holds {actual}")


def load_prepared(npz_path: str | Path, expect_dataset: str | None = None) -> ArrayDataset:
    """Load a prepared dataset (no pickles) after checking it against its JSON sidecar: SHA-256, format,
    dataset name (``expect_dataset``, default the file's stem as in ``results/data/<dataset>.npz``),
    shapes, counts, classes and label counts. A swapped or edited file raises naming file and mismatch."""
    path = Path(npz_path)
    if not path.exists():
        raise FileNotFoundError(f"prepared dataset {path} does not exist; run `snakemake {path}` first")
    meta = _read_sidecar(path)
    expect = path.stem if expect_dataset is None else expect_dataset
    if meta.get("dataset") != expect:
        raise _mismatch(
            path, f"its sidecar {sidecar_path(path)} says dataset {meta.get('dataset')!r}, expected {expect!r}"
        )
    digest = sha256_file(path)
    if digest != meta.get("sha256_npz"):
        raise _mismatch(
            path,
            f"sha256 {digest}, but its sidecar {sidecar_path(path)} records "
            f"{meta.get('sha256_npz')} (the file was replaced or changed after prepare_data)",
        )
    try:
        with np.load(path, allow_pickle=False) as data:
            version = int(data["format_version"])
            if version != PREPARED_FORMAT_VERSION:
                raise ValueError(f"{path}: prepared-data format {version}, expected {PREPARED_FORMAT_VERSION}")
            arrays = {k: data[k] for k in ("x_train", "y_train", "x_test", "y_test")}
            classes = [str(c) for c in data["classes"]]
    except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as exc:  # truncated/foreign
        raise ValueError(f"{path}: not a valid prepared dataset ({exc})") from exc
    _check_against_sidecar(path, meta, arrays, classes)
    return ArrayDataset(expect, classes=classes, lossy=bool(meta.get("lossy", expect.endswith("_jpeg"))), **arrays)
