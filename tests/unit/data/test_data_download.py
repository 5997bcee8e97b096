"""Downloads for real, over HTTP from a local server (127.0.0.1 only), with checksum verification."""

from __future__ import annotations

import functools
import gzip
import hashlib
import http.server
import importlib.util
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from helpers import REPO, shared_data_dir

from snnconv.data import prepare_dataset
from snnconv.data.checksums import IDX_FILES, IDX_SHA256, ChecksumError
from snnconv.data.download import download_cifar10, download_dataset, download_idx
from snnconv.defaults import dataset_args


class Server:
    """A ThreadingHTTPServer on 127.0.0.1 serving ``root``; records the paths requested."""

    def __init__(self, root: Path) -> None:
        requests = self.requests = []

        class Handler(http.server.SimpleHTTPRequestHandler):
            def log_message(self, *args) -> None:  # keep test output quiet
                requests.append(self.path)

        self.root = root
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(root)))
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    root = tmp_path / "served"
    root.mkdir()
    srv = Server(root)
    yield srv
    srv.close()


def serve_synthetic_idx(root: Path) -> dict[str, str]:
    """Small IDX .gz files under ``root``; returns stem → SHA-256 (uncompressed)."""
    table, rng = {}, np.random.default_rng(0)
    for stem in IDX_FILES:
        n, is_images = (12 if stem.startswith("train") else 5), "images" in stem
        shape = (n, 28, 28) if is_images else (n,)
        header = (2051 if is_images else 2049).to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in shape)
        payload = header + rng.integers(0, 10, shape, dtype=np.uint8).tobytes()
        (root / f"{stem}.gz").write_bytes(gzip.compress(payload))
        table[stem] = hashlib.sha256(payload).hexdigest()
    return table


def leftovers(folder: Path) -> list[str]:
    """Every file in ``folder`` (temporary download names included)."""
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_download_synthetic_idx(server: Server, tmp_path: Path) -> None:
    table = serve_synthetic_idx(server.root)
    dest = tmp_path / "data" / "mnist"
    digests = download_idx("mnist", dest, base_url=server.url, expected=table)
    assert leftovers(dest) == sorted(f"{s}.gz" for s in IDX_FILES)
    assert {Path(p).name.removesuffix(".gz"): d for p, d in digests.items()} == table
    assert (dest / "t10k-labels-idx1-ubyte.gz").read_bytes() == (server.root / "t10k-labels-idx1-ubyte.gz").read_bytes()
    served = len(server.requests)
    download_idx("mnist", dest, base_url=server.url, expected=table)  # present and verified: no new requests
    assert len(server.requests) == served


def test_corrupted_served_file_rejected_and_nothing_left(server: Server, tmp_path: Path) -> None:
    table = serve_synthetic_idx(server.root)
    bad = server.root / "train-labels-idx1-ubyte.gz"
    payload = bytearray(gzip.decompress(bad.read_bytes()))
    payload[-1] ^= 0xFF
    bad.write_bytes(gzip.compress(bytes(payload)))
    dest = tmp_path / "data" / "mnist"
    with pytest.raises(ChecksumError) as err:
        download_idx("mnist", dest, base_url=server.url, expected=table)
    assert str(dest / "train-labels-idx1-ubyte.gz") in str(err.value) and table["train-labels-idx1-ubyte"] in str(
        err.value
    )
    assert leftovers(dest) == ["train-images-idx3-ubyte.gz"]  # the good file before it; no partial or temp file


def test_truncated_served_gzip_rejected(server: Server, tmp_path: Path) -> None:
    table = serve_synthetic_idx(server.root)
    first = server.root / "train-images-idx3-ubyte.gz"
    first.write_bytes(first.read_bytes()[:-30])
    with pytest.raises(ValueError, match="truncated or corrupt gzip"):
        download_idx("mnist", tmp_path / "m", base_url=server.url, expected=table)
    assert leftovers(tmp_path / "m") == []


def test_fallback_mirror_and_unreachable(server: Server, tmp_path: Path) -> None:
    (server.root / "mirror2").mkdir()
    table = serve_synthetic_idx(server.root / "mirror2")
    download_idx("mnist", tmp_path / "m", base_url=[server.url + "missing/", server.url + "mirror2/"], expected=table)
    assert len(leftovers(tmp_path / "m")) == 4 and any("/missing/" in r for r in server.requests)
    with pytest.raises(ConnectionError, match=r"could not download train-images-idx3-ubyte.gz.*404"):
        download_idx("mnist", tmp_path / "n", base_url=server.url + "missing/", expected=table)
    assert leftovers(tmp_path / "n") == []


def test_existing_bad_file_is_replaced(server: Server, tmp_path: Path) -> None:
    table = serve_synthetic_idx(server.root)
    dest = tmp_path / "m"
    dest.mkdir()
    (dest / "t10k-images-idx3-ubyte.gz").write_bytes(b"garbage")
    download_idx("mnist", dest, base_url=server.url, expected=table)
    assert (dest / "t10k-images-idx3-ubyte.gz").read_bytes() == (server.root / "t10k-images-idx3-ubyte.gz").read_bytes()


def load_download_script():
    """Import ``scripts/download_data.py`` (without a ``snakemake`` object only ``main`` runs)."""
    spec = importlib.util.spec_from_file_location("download_data", REPO / "scripts" / "download_data.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    return script


def test_download_shared_mnist_then_prepare(server: Server, tmp_path: Path) -> None:
    shared = shared_data_dir() / "mnist"
    if not (shared / "train-images-idx3-ubyte.gz").is_file():
        pytest.skip(f"shared mnist data absent: {shared} (set SNNCONV_SHARED_DATA)")
    for stem in IDX_FILES:
        shutil.copyfile(shared / f"{stem}.gz", server.root / f"{stem}.gz")
    manifest_path = tmp_path / "results" / "downloads" / "mnist.json"
    manifest = load_download_script().main(
        "mnist", tmp_path / "data", manifest_path, base_url=server.url
    )  # verified by the real, hard-coded checksums
    target = tmp_path / "data" / "mnist"
    assert manifest["path"] == str(target) and len(leftovers(target)) == 4 and manifest_path.is_file()
    assert {
        Path(p).name.removesuffix(".gz"): f["sha256_uncompressed"] for p, f in manifest["files"].items()
    } == IDX_SHA256["mnist"]
    ds, source = prepare_dataset(
        "mnist", dataset_args("mnist", **{"subset_train": 100, "subset_test": 10}), tmp_path / "data"
    )
    assert len(ds.y_train) == 100 and all(f["verified"] for f in source["files"].values())
    assert {
        Path(p).name.removesuffix(".gz"): f["sha256_uncompressed"] for p, f in source["files"].items()
    } == IDX_SHA256["mnist"]


def test_served_synthetic_fails_real_checksums(server: Server, tmp_path: Path) -> None:
    serve_synthetic_idx(server.root)
    with pytest.raises(ChecksumError, match=IDX_SHA256["fashion_mnist"]["train-images-idx3-ubyte"]):
        download_dataset("fashion_mnist", tmp_path, base_url=server.url)
    assert leftovers(tmp_path / "fashion-mnist") == []


def test_download_cifar10_md5(server: Server, tmp_path: Path) -> None:
    blob = os.urandom(5000)
    (server.root / "cifar-10-python.tar.gz").write_bytes(blob)
    good = hashlib.md5(blob).hexdigest()
    dest = tmp_path / "data" / "cifar-10-python.tar.gz"
    with pytest.raises(ChecksumError, match=r"md5 mismatch: expected c58f30108f718f92721af3b95e74349a"):
        download_dataset("cifar10", tmp_path / "data", base_url=server.url)
    assert leftovers(dest.parent) == []
    assert download_cifar10(dest, base_url=server.url, expected_md5=good) == {str(dest): good}
    assert dest.read_bytes() == blob


def test_download_script_logs_failure(server: Server, tmp_path: Path) -> None:
    """Through the rule binding: the failure and its message land in the rule log."""
    from snnconv.workflow.job import run_job

    serve_synthetic_idx(server.root)
    script = load_download_script()
    smk = SimpleNamespace(rule="download_data", log=[str(tmp_path / "d.log")])
    with pytest.raises(ChecksumError):  # synthetic files against the real checksums
        run_job(smk, lambda _: script.main("mnist", tmp_path / "data", tmp_path / "mnist.json", base_url=server.url))
    text = (tmp_path / "d.log").read_text()
    assert "rule download_data failed" in text and "sha256 mismatch" in text
    assert leftovers(tmp_path / "data" / "mnist") == [] and not (tmp_path / "mnist.json").exists()


def test_jpeg_copy_is_checked_not_downloaded(tmp_path: Path) -> None:
    folder = tmp_path / "cifar10-jpeg"
    folder.mkdir()
    (folder / "cifar10-jpeg.tar.gz").write_bytes(b"not the known tar")
    with pytest.raises(ChecksumError, match="cifar10-jpeg.tar.gz: sha256 mismatch"):
        download_dataset("cifar10_jpeg", tmp_path)
