"""Download the raw datasets from their publishers' mirrors, verified before they are renamed into place.

Each file is fetched to a temporary name beside its destination, checked against the known checksum
and only then renamed; a mismatch deletes the temporary file and raises ``ChecksumError``.
"""

from __future__ import annotations

import http.client
import logging
import shutil
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path

from ..atomic import atomic_path
from .checksums import (
    CIFAR10_JPEG_SHA256,
    CIFAR10_PYTHON_MD5,
    IDX_FILES,
    IDX_SHA256,
    IDX_SIZES,
    ChecksumError,
    check_digest,
    digest_stream,
    verify_file,
)
from .idx import idx_digest
from .registry import locate

log = logging.getLogger(__name__)

MIRRORS: dict[str, tuple[str, ...]] = {
    "mnist": ("https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"),
    "fashion_mnist": ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
    "cifar10": ("https://www.cs.toronto.edu/~kriz/",),
}
CIFAR10_ARCHIVE = "cifar-10-python.tar.gz"
DOWNLOAD_TARGETS = {"mnist": "mnist", "fashion_mnist": "fashion-mnist", "cifar10": CIFAR10_ARCHIVE}


def fetch(url: str, dest: str | Path, verify: Callable[[Path], str], timeout: float = 60.0) -> str:
    """Stream ``url`` to a temporary file beside ``dest``; rename it to ``dest`` only if ``verify(tmp)`` passes
    (it raises on a mismatch, which deletes the temporary file); returns what ``verify`` returned."""
    request = urllib.request.Request(url, headers={"User-Agent": "snnconv-download/0.1"})
    with atomic_path(dest) as tmp:
        with urllib.request.urlopen(request, timeout=timeout) as response, open(tmp, "wb") as out:
            shutil.copyfileobj(response, out, 1 << 20)
        result = verify(tmp)
    return result


def fetch_from_mirrors(
    base_urls: Sequence[str], filename: str, dest: Path, verify: Callable[[Path], str], timeout: float = 60.0
) -> str:
    """Try each mirror in turn for network errors; a checksum mismatch is raised at once."""
    errors = []
    for base in base_urls:
        url = base.rstrip("/") + "/" + filename
        log.info("downloading %s -> %s", url, dest)
        try:
            return fetch(url, dest, verify, timeout)
        except (OSError, http.client.HTTPException) as exc:  # URLError, HTTPError, timeouts, short reads
            log.warning("%s failed: %s", url, exc)
            errors.append(f"{url}: {exc}")
    raise ConnectionError(f"could not download {filename} to {dest}: " + "; ".join(errors))


def _mirrors(name: str, base_url: str | Sequence[str] | None) -> Sequence[str]:
    """The caller's base URL(s), else the publishers' mirrors for ``name``."""
    if base_url is None:
        return MIRRORS[name]
    return [base_url] if isinstance(base_url, str) else list(base_url)


def download_idx(
    name: str,
    folder: str | Path,
    base_url: str | Sequence[str] | None = None,
    expected: dict[str, str] | None = None,
    timeout: float = 60.0,
) -> dict[str, str]:
    """Fetch the four ``<stem>.gz`` files of MNIST/Fashion-MNIST into ``folder``; returns path → SHA-256 (uncompressed)."""
    table = IDX_SHA256[name] if expected is None else expected
    digests = {}
    for stem in IDX_FILES:
        dest = Path(folder) / f"{stem}.gz"

        def verify(path: Path, stem: str = stem, dest: Path = dest) -> str:
            actual = idx_digest(path, IDX_SIZES[stem])
            return check_digest(f"{dest} (uncompressed)", actual, table[stem])

        if dest.is_file():
            try:
                digests[str(dest)] = verify(dest)
                log.info("%s present and verified", dest)
                continue
            except ValueError as exc:
                log.warning("%s present but invalid (%s); downloading again", dest, exc)
        digests[str(dest)] = fetch_from_mirrors(_mirrors(name, base_url), dest.name, dest, verify, timeout)
    return digests


def download_cifar10(
    dest: str | Path,
    base_url: str | Sequence[str] | None = None,
    expected_md5: str = CIFAR10_PYTHON_MD5,
    timeout: float = 600.0,
) -> dict[str, str]:
    """Fetch the official ``cifar-10-python.tar.gz`` to ``dest`` (md5-verified); returns path → md5."""
    dest = Path(dest)

    def verify(path: Path) -> str:
        with open(path, "rb") as handle:
            return check_digest(dest, digest_stream(handle, "md5"), expected_md5, "md5")

    if dest.is_file():
        try:
            return {str(dest): verify(dest)}
        except ChecksumError as exc:
            log.warning("%s present but invalid (%s); downloading again", dest, exc)
    return {str(dest): fetch_from_mirrors(_mirrors("cifar10", base_url), CIFAR10_ARCHIVE, dest, verify, timeout)}


def download_target(name: str, data_dir: str | Path) -> Path:
    """Where ``download_dataset`` puts ``name`` (the first path ``prepare_dataset`` looks at)."""
    if name not in DOWNLOAD_TARGETS:
        raise ValueError(f"{name!r} has no publisher download; downloadable: {list(DOWNLOAD_TARGETS)}")
    return Path(data_dir) / DOWNLOAD_TARGETS[name]


def download_dataset(
    name: str, data_dir: str | Path, base_url: str | Sequence[str] | None = None, timeout: float = 600.0
) -> dict:
    """Fetch ``name`` into ``data_dir`` (skipping verified files already there) and return a manifest of the
    files and checksums; ``digits`` needs nothing and ``cifar10_jpeg`` (no public source) must already be present."""
    if name == "digits":
        return {"dataset": name, "downloadable": False, "note": "embedded in scikit-learn; nothing to download"}
    if name == "cifar10_jpeg":
        path = locate(name, data_dir)  # FileNotFoundError with instructions when absent
        digest = None if path.is_dir() else verify_file(path, CIFAR10_JPEG_SHA256)
        return {
            "dataset": name,
            "downloadable": False,
            "path": str(path),
            "note": "no public download; found locally",
            "files": {str(path): {"sha256": digest, "verified": digest is not None}},
        }
    target = download_target(name, data_dir)
    if name == "cifar10":
        files = {
            p: {"md5": d, "verified": True} for p, d in download_cifar10(target, base_url, timeout=timeout).items()
        }
    else:
        files = {
            p: {"sha256_uncompressed": d, "verified": True}
            for p, d in download_idx(name, target, base_url, timeout=timeout).items()
        }
    return {"dataset": name, "downloadable": True, "path": str(target), "files": files}
