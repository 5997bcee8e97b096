"""CIFAR-10: the official ``cifar-10-python.tar.gz`` (md5-verified before any unpickling) and the lossy
JPEG image-folder copy (``{train,test}/<class>/*.jpg``, in a tar.gz or a directory, read without extracting).
"""

from __future__ import annotations

import io
import os
import pickle
import re
import tarfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import numpy as np

from .checksums import CIFAR10_JPEG_SHA256, CIFAR10_PYTHON_MD5, check_digest, digest_stream
from .prepared import ArrayDataset

CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
JPEG_NOTE = "lossy JPEG re-encode of CIFAR-10, not the official pixels"
BATCHES = {"train": [f"data_batch_{i}" for i in range(1, 6)], "test": ["test_batch"]}
SPLITS = ("train", "test")
# Images per class in each split of the JPEG copy: CIFAR-10's 50,000 training and 10,000 test images, 10 classes.
# A folder has no digest to verify, so a lost or duplicated image is only caught by counting.
CIFAR10_JPEG_PER_CLASS = {"train": 5000, "test": 1000}
_IMAGE_MEMBER = re.compile(r"^(train|test)/([^/]+)/([^/]+\.(?i:jpe?g))$")


def load_cifar10_python(path: str | Path, expected_md5: str = CIFAR10_PYTHON_MD5) -> tuple[ArrayDataset, dict]:
    """Official CIFAR-10 python archive → ArrayDataset; the md5 is checked before anything is unpickled."""
    path = Path(path)
    with open(path, "rb") as handle:  # one handle: the bytes hashed are the bytes unpickled
        digest = check_digest(path, digest_stream(handle, "md5"), expected_md5, "md5")
        handle.seek(0)
        with tarfile.open(fileobj=handle, mode="r:gz") as tar:
            members = {m.name: m for m in tar.getmembers() if m.isfile()}

            def unpickle(batch: str) -> dict:
                member = members.get(f"cifar-10-batches-py/{batch}")
                if member is None:
                    raise ValueError(f"{path}: member cifar-10-batches-py/{batch} missing")
                return pickle.load(tar.extractfile(member), encoding="bytes")  # trusted: md5 matched

            arrays = {}
            for split, batches in BATCHES.items():
                parts = [unpickle(b) for b in batches]
                x = np.concatenate([np.asarray(p[b"data"], dtype=np.uint8) for p in parts])
                y = np.concatenate([np.asarray(p[b"labels"], dtype=np.int64) for p in parts])
                if x.ndim != 2 or x.shape[1] != 3 * 32 * 32:
                    raise ValueError(f"{path}: {split} data has shape {x.shape}, expected N×3072")
                arrays[split] = (x.reshape(-1, 3, 32, 32), y)
    ds = ArrayDataset("cifar10", *arrays["train"], *arrays["test"], classes=list(CIFAR10_CLASSES))
    return ds, {"kind": "cifar-10-python", "files": {str(path): {"md5": digest, "verified": True}}}


def _member_name(name: str, archive: Path) -> str:
    """Normalised tar member name; ValueError for absolute or '..' names (path traversal)."""
    parts = name.replace("\\", "/").split("/")
    if parts[0] == "" or ".." in parts or ":" in parts[0]:
        raise ValueError(f"{archive}: unsafe member name {name!r} (absolute or '..'); refusing the archive")
    return "/".join(part for part in parts if part not in ("", "."))


def check_layout(name: str, is_dir: bool, prefix: str) -> bool:
    """Whether ``name`` (relative, '/'-separated) is an image of the layout ``{train,test}/<class>/<name>.jpg``.

    The split and class folders themselves are allowed; anything else inside the folder that is not a plain file
    at the top (a ``Test/`` or ``val/`` folder, a file beside the class folders, a non-JPEG file in a class folder,
    a deeper folder) is a ValueError naming it (``prefix`` + name): it would be dropped silently or read under the
    wrong split.
    """
    parts = name.split("/")
    if len(parts) == 1 and not is_dir:
        return False  # a file beside the split folders (a README, a checksum list): not part of the data
    if parts[0] not in SPLITS:
        raise ValueError(
            f"{prefix}{parts[0]}: unexpected folder {parts[0]!r}; an image folder holds exactly the split folders "
            f"{' and '.join(SPLITS)} (lower case), each with one folder per class"
        )
    if len(parts) <= 2 and is_dir:
        return False
    if len(parts) == 3 and not is_dir and _IMAGE_MEMBER.match(name):
        return True
    if len(parts) > 3:  # inside a folder within a class folder (an archive may list only the files)
        name, is_dir = "/".join(parts[:3]), True
    kind = "folder" if is_dir else "file"
    raise ValueError(
        f"{prefix}{name}: unexpected {kind}; {parts[0]}/ holds one folder per class, each holding only .jpg images "
        "(layout {train,test}/<class>/<name>.jpg)"
    )


def _tar_entries(path: Path) -> Iterator[tuple[str, bytes]]:
    """(relative name, bytes) of every image member, read sequentially without extracting; the layout is checked
    member by member (:func:`check_layout`)."""
    with tarfile.open(path, mode="r|*") as tar:  # stream mode: one sequential pass, no seeks
        for member in tar:
            name = _member_name(member.name, path)
            if not name:
                continue  # the archive's own top folder, "."
            if not (member.isfile() or member.isdir()):
                raise ValueError(f"{path}: member {member.name!r} is a link or special file, not an image")
            if check_layout(name, member.isdir(), f"{path}:"):
                yield name, tar.extractfile(member).read()


def _dir_entries(root: Path) -> Iterator[tuple[str, bytes]]:
    """(relative name, bytes) of every image below ``root/{train,test}/<class>/``; the layout is checked entry by
    entry (:func:`check_layout`), and a link there is a ValueError (a symlinked file or folder would pull an image
    from elsewhere into the data set under this label)."""
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        here = Path(dirpath)
        for entry in [*dirnames, *sorted(filenames)]:
            path = here / entry
            if path.is_symlink():
                raise ValueError(
                    f"{path}: is a symbolic link (to {os.readlink(path)!r}); links are refused in "
                    f"image folders (copy the file or folder into {root} instead)"
                )
            name = path.relative_to(root).as_posix()
            if check_layout(name, path.is_dir(), f"{root}/") and path.is_file():
                yield name, path.read_bytes()


def decode_jpeg(data: bytes, label: str, size: tuple[int, int] = (32, 32)) -> np.ndarray:
    """JPEG bytes → uint8 3×H×W; ValueError naming ``label`` if undecodable or the wrong size."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data), formats=["JPEG"]) as img:
            width, height = img.size  # from the header: checked before any pixel is decoded
            if (height, width) != size:
                raise _WrongSize(f"{label}: image is {width}×{height}, expected {size[1]}×{size[0]}")
            img.load()
            arr = np.asarray(img.convert("RGB"))
    except _WrongSize as exc:
        raise ValueError(str(exc)) from None
    except Image.DecompressionBombError as exc:  # a header claiming far more pixels than any real image
        raise ValueError(f"{label}: refused as a decompression bomb ({exc})") from exc
    except (OSError, SyntaxError, ValueError) as exc:  # UnidentifiedImageError is an OSError
        raise ValueError(f"{label}: corrupt JPEG ({exc})") from exc
    if arr.shape[:2] != size:
        raise ValueError(f"{label}: image is {arr.shape[1]}×{arr.shape[0]}, expected {size[1]}×{size[0]}")
    return arr.transpose(2, 0, 1)


def check_class_counts(
    path: Path, split: str, found: Sequence[tuple[str, int, bytes]], classes: Sequence[str], expected: int
) -> None:
    """ValueError naming the class folder unless every class of ``split`` holds ``expected`` images.

    ``found`` holds (file name, label, bytes) per image. For a folder with too many images, the names that the
    other classes of the split do not have are listed (a ``0001 (copy).jpg`` beside ``0001.jpg``).
    """
    names: dict[int, list[str]] = {label: [] for label in range(len(classes))}
    for file, label, _ in found:
        names[label].append(file)
    for label, cls in enumerate(classes):  # a whole class missing first: the plainer error
        if not names[label]:
            raise ValueError(f"{path}: class folder {split}/{cls} is empty or missing")
    for label, cls in enumerate(classes):
        n = len(names[label])
        if n != expected:
            extra = ""
            if n > expected:
                others = [set(v) for k, v in names.items() if k != label]
                odd = sorted(f for f in names[label] if not all(f in o for o in others))
                extra = f"; not in the other classes: {', '.join(odd[:5])}{' …' if len(odd) > 5 else ''}" if odd else ""
            raise ValueError(
                f"{path}: class folder {split}/{cls} holds {n} images, expected {expected} per class in {split} "
                f"(images {'missing' if n < expected else 'added or duplicated'}{extra})"
            )


class _WrongSize(Exception):
    """An image whose header announces another size than expected (raised before decoding)."""


def load_image_folder(
    path: str | Path,
    name: str = "cifar10_jpeg",
    classes: Sequence[str] = CIFAR10_CLASSES,
    expected_sha256: str | None = CIFAR10_JPEG_SHA256,
    *,
    subset_train: int,
    subset_test: int,
    per_class: Mapping[str, int] | None = None,
) -> tuple[ArrayDataset, dict]:
    """Lossy JPEG folder (tar or directory) → ArrayDataset, ordered round-robin over classes (file 0000 of
    every class, then 0001, …) so that the first ``subset_*`` images (0 = all; ``dataset_options.<name>``), the only
    ones decoded, are balanced.

    Every class folder of a split must hold ``per_class[split]`` images (default :data:`CIFAR10_JPEG_PER_CLASS`),
    counted before any image is decoded: a missing or duplicated image is refused naming its class folder.
    """
    counts = dict(CIFAR10_JPEG_PER_CLASS if per_class is None else per_class)
    path = Path(path)
    if path.is_dir():
        entries, checked = _dir_entries(path), {"sha256": None, "verified": False}  # a folder has no digest
    else:
        with open(path, "rb") as handle:
            digest = check_digest(path, digest_stream(handle), expected_sha256)
        entries, checked = _tar_entries(path), {"sha256": digest, "verified": expected_sha256 is not None}
    source = {"kind": "image_folder", "files": {str(path): checked}, "note": JPEG_NOTE}
    found: dict[str, list[tuple[str, int, bytes]]] = {"train": [], "test": []}
    for rel, data in entries:
        split, cls, file = _IMAGE_MEMBER.match(rel).groups()
        if cls not in classes:
            raise ValueError(f"{path}: {rel}: unknown class folder {cls!r}; expected one of {list(classes)}")
        found[split].append((file, classes.index(cls), data))
    for split in SPLITS:
        check_class_counts(path, split, found[split], classes, counts[split])
    arrays = {}
    for split, limit in (("train", subset_train), ("test", subset_test)):
        items = sorted(found[split], key=lambda item: (item[0], item[1]))[: limit or None]
        x = np.stack([decode_jpeg(data, f"{path}:{split}/{classes[label]}/{file}") for file, label, data in items])
        arrays[split] = (x, np.array([label for _, label, _ in items], dtype=np.int64))
    ds = ArrayDataset(
        name, *arrays["train"], *arrays["test"], classes=list(classes), lossy=True, info={"note": JPEG_NOTE}
    )
    return ds, source
