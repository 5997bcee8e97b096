"""A user's own images for the command line (``snnconv convert`` / ``snnconv simulate``): an ``.npz`` or a folder.

Accepted, each checked with a message naming the file and what is wrong:

* the pipeline's prepared file (``results/data/<dataset>.npz`` with its ``.json`` sidecar): verified by
  :func:`~snnconv.data.prepared.load_prepared`; ``split`` picks ``train`` or ``test``;
* any other ``.npz`` with ``x`` (N×C×H×W or N×H×W; uint8 0..255 or floats in [0, 1]) and optionally ``y``
  (N integer labels), or with ``x_train``/``x_test`` (and ``y_train``/``y_test``) for the two splits;
* a folder of class folders, ``<folder>/<class>/<image>`` (PNG, JPEG, …; one size for all), labels in the
  sorted order of the class names, as torchvision's ``ImageFolder`` assigns them.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")


@dataclass
class UserImages:
    """Images as uint8 N×C×H×W (the prepared files' format), labels (or None) and class names (or None)."""

    x: np.ndarray
    y: np.ndarray | None
    classes: list[str] | None
    source: str

    def as_float(self):  # noqa: ANN201 - a torch.Tensor; torch is imported here only
        """Images as a float32 tensor in [0, 1] (= spike probability per step), as the pipeline feeds them."""
        from .prepared import ArrayDataset

        return ArrayDataset.as_float(self.x)


def _as_uint8(x: np.ndarray, label: str) -> np.ndarray:
    """uint8 N×C×H×W from uint8 or [0, 1] floats, N×H×W taken as one channel; anything else refused."""
    if x.ndim == 3:
        x = x[:, None]
    if x.ndim != 4 or len(x) == 0:
        raise ValueError(f"{label}: images must be N×C×H×W or N×H×W with N > 0, got shape {x.shape}")
    if x.dtype == np.uint8:
        return np.ascontiguousarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        raise ValueError(f"{label}: images must be uint8 (0..255) or floats in [0, 1], got dtype {x.dtype}")
    if not np.isfinite(x).all() or x.min() < 0 or x.max() > 1:
        raise ValueError(f"{label}: float images must lie in [0, 1], got [{x.min():g}, {x.max():g}]")
    return np.rint(x * 255.0).astype(np.uint8)


def _labels(y: np.ndarray | None, n: int, label: str) -> np.ndarray | None:
    """Integer labels, one per image, or None."""
    if y is None:
        return None
    if y.ndim != 1 or len(y) != n or not np.issubdtype(y.dtype, np.integer) or (len(y) and y.min() < 0):
        raise ValueError(f"{label}: y must hold {n} non-negative integer labels, got {y.dtype} {y.shape}")
    return y.astype(np.int64)


def _from_npz(path: Path, split: str) -> UserImages:
    """An npz: the pipeline's prepared file (verified by its sidecar) or plain ``x``/``y`` arrays."""
    from .prepared import load_prepared, sidecar_path

    if sidecar_path(path).exists():
        ds = load_prepared(path)
        return UserImages(getattr(ds, f"x_{split}"), getattr(ds, f"y_{split}"), list(ds.classes), str(path))
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise ValueError(f"{path}: not a readable .npz of arrays ({exc})") from exc
    key = "x" if "x" in arrays else f"x_{split}"
    if key not in arrays:
        raise ValueError(f"{path}: needs an array 'x' (or 'x_train'/'x_test'); it holds {sorted(arrays)}")
    x = _as_uint8(arrays[key], f"{path}[{key!r}]")
    y = arrays.get("y" if key == "x" else f"y_{split}")
    return UserImages(x, _labels(y, len(x), f"{path}"), None, str(path))


def _from_folder(path: Path) -> UserImages:
    """``<folder>/<class>/<image>``: every image decoded with Pillow; one size and one colour mode for all."""
    from PIL import Image

    classes = sorted(p.name for p in path.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not classes:
        raise ValueError(f"{path}: no class folders (expected {path}/<class>/<image>)")
    images, labels = [], []
    for label, cls in enumerate(classes):
        files = sorted(f for f in (path / cls).iterdir() if f.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise ValueError(f"{path / cls}: no images (suffixes {', '.join(IMAGE_SUFFIXES)})")
        for file in files:
            try:
                with Image.open(file) as img:
                    arr = np.asarray(img.convert("L" if img.mode in ("1", "L", "I", "I;16", "F") else "RGB"))
            except (OSError, SyntaxError, ValueError) as exc:
                raise ValueError(f"{file}: not a readable image ({exc})") from exc
            arr = arr[None] if arr.ndim == 2 else arr.transpose(2, 0, 1)
            if images and arr.shape != images[0].shape:
                raise ValueError(f"{file}: image is {arr.shape} (C×H×W), the first one was {images[0].shape}")
            images.append(arr)
            labels.append(label)
    return UserImages(np.stack(images), np.array(labels, dtype=np.int64), classes, str(path))


def load_user_images(path: str | Path, split: str = "test") -> UserImages:
    """The images of ``path`` (an ``.npz`` or a folder of class folders); ``split`` (train/test) picks the split of
    a file that has two."""
    path = Path(path)
    if split not in ("train", "test"):
        raise ValueError(f"split {split!r} not in ('train', 'test')")
    if path.is_dir():
        return _from_folder(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file or folder (give an .npz or a folder of class folders)")
    if path.suffix != ".npz":
        raise ValueError(f"{path}: give an .npz file or a folder of class folders, not a {path.suffix or 'plain'} file")
    return _from_npz(path, split)
