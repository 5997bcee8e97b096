"""Facts of the shared real datasets (../shared/data, or $SNNCONV_SHARED_DATA): class counts, checksums, channel
statistics, a corrupted copy refused, and one trained-net check of the input stream on MNIST. They read real data,
so they are not unit tests; each skips, saying which path is absent, where the data is not there."""

from __future__ import annotations

import gzip
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from helpers import shared_data_dir
from scipy import stats as sps

from snnconv.data import prepare_dataset
from snnconv.data.checksums import CIFAR10_JPEG_SHA256, IDX_SHA256, ChecksumError
from snnconv.data.cifar import JPEG_NOTE, load_image_folder
from snnconv.data.download import download_dataset
from snnconv.defaults import arch_args, convert_args, dataset_args, stepwise_args, training_args
from snnconv.simulate import simulate_stepwise

MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def shared_folder(sub: str) -> Path:
    """``shared_data_dir()/sub``, or skip the test saying which path is absent."""
    path = shared_data_dir() / sub
    if not (path / "train-images-idx3-ubyte.gz").is_file():
        pytest.skip(f"shared {sub} data absent: {path} (set SNNCONV_SHARED_DATA to a folder holding {sub}/)")
    return path


def test_shared_mnist_facts() -> None:
    shared_folder("mnist")
    ds, source = prepare_dataset("mnist", dataset_args("mnist"), shared_data_dir())
    assert ds.x_train.shape == (60000, 1, 28, 28) and ds.x_test.shape == (10000, 1, 28, 28)
    assert np.bincount(ds.y_train).tolist() == MNIST_TRAIN_COUNTS
    assert np.bincount(ds.y_test).tolist() == MNIST_TEST_COUNTS
    mean = ds.x_train.mean(dtype=np.float64) / 255.0
    std = np.sqrt((ds.x_train.astype(np.float32) ** 2).mean(dtype=np.float64) / 255.0**2 - mean**2)
    assert mean == pytest.approx(0.1307, abs=5e-5) and std == pytest.approx(0.3081, abs=5e-5)
    digests = {Path(p).name.removesuffix(".gz"): f["sha256_uncompressed"] for p, f in source["files"].items()}
    assert digests == IDX_SHA256["mnist"] and all(f["verified"] for f in source["files"].values())


def test_shared_hardcoded_checksums_match_sums_files() -> None:
    for sub, name in (("mnist", "mnist"), ("fashion-mnist", "fashion_mnist")):
        folder = shared_folder(sub)
        listed = dict(line.split()[::-1] for line in (folder / "SHA256SUMS.uncompressed").read_text().splitlines())
        assert listed == IDX_SHA256[name]


def test_shared_fashion_mnist_with_subset() -> None:
    shared_folder("fashion-mnist")
    ds, source = prepare_dataset(
        "fashion_mnist",
        dataset_args("fashion_mnist", **{"subset_train": 1000, "subset_test": 100}),
        shared_data_dir(),
    )
    assert ds.x_train.shape == (1000, 1, 28, 28) and len(ds.y_test) == 100
    assert ds.classes[0] == "T-shirt/top" and ds.classes[9] == "Ankle boot"
    full, _ = prepare_dataset("fashion_mnist", dataset_args("fashion_mnist"), shared_data_dir())
    assert np.bincount(full.y_train).tolist() == [6000] * 10 and np.bincount(full.y_test).tolist() == [1000] * 10
    assert np.array_equal(full.x_train[:1000], ds.x_train)


def test_corrupted_copy_of_shared_mnist_is_refused(tmp_path: Path) -> None:
    shared = shared_folder("mnist")
    copy = tmp_path / "mnist"
    copy.mkdir()
    for file in shared.glob("*.gz"):
        shutil.copyfile(file, copy / file.name)  # copyfile: contents only, not the read-only mode
    labels = copy / "t10k-labels-idx1-ubyte.gz"
    data = bytearray(gzip.decompress(labels.read_bytes()))
    data[100] = (data[100] + 1) % 10  # one label changed, still a valid IDX file
    labels.write_bytes(gzip.compress(bytes(data)))
    expected = IDX_SHA256["mnist"]["t10k-labels-idx1-ubyte"]
    with pytest.raises(ChecksumError, match=rf"{re.escape(str(labels))}.*expected {expected}"):
        prepare_dataset("mnist", dataset_args("mnist"), tmp_path)


def shared_jpeg_tar() -> Path:
    """The shared lossy CIFAR-10 tar, or skip saying which path is absent."""
    path = shared_data_dir() / "cifar10-jpeg" / "cifar10-jpeg.tar.gz"
    if not path.is_file():
        pytest.skip(f"shared CIFAR-10 JPEG copy absent: {path} (set SNNCONV_SHARED_DATA to a folder holding it)")
    return path


def test_shared_jpeg_subset_via_registry() -> None:
    tar = shared_jpeg_tar()
    ds, source = prepare_dataset(
        "cifar10_jpeg", dataset_args("cifar10_jpeg", **{"subset_train": 1000, "subset_test": 200}), tar.parents[1]
    )
    assert ds.x_train.shape == (1000, 3, 32, 32) and ds.x_test.shape == (200, 3, 32, 32)
    assert np.bincount(ds.y_train).tolist() == [100] * 10 and np.bincount(ds.y_test).tolist() == [20] * 10
    assert source["files"][str(tar)] == {"sha256": CIFAR10_JPEG_SHA256, "verified": True}
    assert ds.lossy and ds.info["note"] == JPEG_NOTE
    assert download_dataset("cifar10_jpeg", tar.parents[1])["files"][str(tar)]["verified"]  # checked, not fetched
    means = ds.x_train.mean(axis=(0, 2, 3)) / 255.0
    assert np.allclose(means, [0.4913, 0.4821, 0.4465], atol=0.03)


@pytest.mark.slow
def test_shared_jpeg_full_read_matches_readme() -> None:
    ds, _ = load_image_folder(shared_jpeg_tar(), **dataset_args("cifar10_jpeg"))
    assert np.bincount(ds.y_train).tolist() == [5000] * 10 and np.bincount(ds.y_test).tolist() == [1000] * 10
    channels = [ds.x_train[:, c].astype(np.float32) / 255.0 for c in range(3)]  # float32: ~200 MB per channel
    assert np.allclose([c.mean(dtype=np.float64) for c in channels], [0.4913, 0.4821, 0.4465], atol=1e-4)
    assert np.allclose([c.std(dtype=np.float64) for c in channels], [0.2452, 0.2428, 0.2606], atol=1e-4)


class TorchRandEncoder:
    """An independent Bernoulli stream: ``torch.rand(shape) < p`` from a seeded CPU generator, one step per call."""

    constant = False

    def __init__(self, images: torch.Tensor, seed: int, dtype: torch.dtype) -> None:
        self.p, self.dtype = images.double().clamp(0, 1), dtype
        self.generator = torch.Generator().manual_seed(10_000 + seed)

    def block(self, steps: int) -> torch.Tensor:
        assert steps == 1
        return (torch.rand(self.p.shape, generator=self.generator, dtype=torch.float64) < self.p).to(self.dtype)[None]


def test_mnist_mlp_curves_agree_with_a_torch_rand_bernoulli_stream(shared_data):
    """Same trained MNIST MLP, same simulator, two input streams, 5 paired input seeds: the accuracy curves agree
    within the seed-to-seed noise (paired t-test on each curve's mean, p > 0.001; every t within 2 points)."""
    from snnconv.convert import convert, parse_norm
    from snnconv.data import ArrayDataset, prepare_dataset
    from snnconv.train import train_ann

    ds, _ = prepare_dataset("mnist", dataset_args("mnist", **{"subset_train": 6000, "subset_test": 1000}), shared_data)
    cfg = training_args(epochs=1, batch_size=64, lr=0.003, optimizer="adam", weight_decay=0.0, threads=1)
    model = train_ann(ds, "mlp", arch_args("mlp", hidden=[128], dropout=0.0), cfg, seed=0, progress=False).model
    x_train = ArrayDataset.as_float(ds.x_train[:1000])
    net = convert(model, x_train, parse_norm("p99.9", {}), **convert_args())
    x, y = ArrayDataset.as_float(ds.x_test), torch.from_numpy(ds.y_test).long()
    T, ours, theirs = 30, [], []
    for seed in range(5):
        kw = dict(seed=seed, batch_size=1000, device="cpu", dtype=torch.float32)
        ours.append(simulate_stepwise(net, x, y, T, **stepwise_args(**kw)).accuracy)
        ref = simulate_stepwise(
            net, x, y, T, **stepwise_args(encoder=lambda xb, ids, s=seed: TorchRandEncoder(xb, s, torch.float32), **kw)
        )
        theirs.append(ref.accuracy)
    ours_a, theirs_a = np.array(ours), np.array(theirs)
    assert ours_a[:, -1].mean() > 0.85  # a trained net, not chance
    assert sps.ttest_rel(ours_a.mean(1), theirs_a.mean(1)).pvalue > 1e-3
    assert np.abs(ours_a.mean(0) - theirs_a.mean(0)).max() < 0.02
