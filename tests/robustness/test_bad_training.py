"""Training edge cases: with batch norm, a last training batch of one sample (N ≡ 1 mod
batch size) used to crash inside torch ("Expected more than 1 value per channel"); it now joins the batch
before it. Settings that can only give one-sample batches are refused naming ``training.batch_size``."""

from __future__ import annotations

import json

import pytest
from helpers.workflow import assert_nothing_written, load_script

from snnconv.defaults import arch_args, dataset_args, training_args
from snnconv.train import batch_bounds

CFG = training_args(epochs=2, batch_size=64, lr=0.01, device="cpu", threads=1)
OPTIONS = {
    "mlp": arch_args("mlp", hidden=[16], batchnorm=True, dropout=0.0),
    "cnn": arch_args("cnn", channels=[4], kernel=3, hidden=8, batchnorm=True, dropout=0.0),
}


def prepared(tmp_path, n_train: int):
    """A prepared digits dataset with exactly ``n_train`` training images."""
    npz = tmp_path / "data" / "digits.npz"
    load_script("prepare_data").main(
        "digits", None, dataset_args("digits", subset_train=n_train, subset_test=30), npz, npz.with_suffix(".json")
    )
    return npz


def train(tmp_path, npz, arch: str, cfg: dict) -> tuple[dict, list]:
    """Run the train rule script's main; returns the summary and the output paths."""
    outs = [tmp_path / "out" / name for name in ("model.pt", "metrics.csv", "summary.json")]
    summary = load_script("train").main(str(npz), *map(str, outs), arch, 0, cfg, OPTIONS[arch], progress=False)
    return summary, outs


@pytest.mark.parametrize("arch,n_train,batch_size", [("mlp", 129, 64), ("mlp", 65, 8), ("cnn", 97, 32)])
def test_batch_norm_with_a_last_batch_of_one(tmp_path, arch, n_train, batch_size):
    assert n_train % batch_size == 1
    npz = prepared(tmp_path, n_train)
    summary, outs = train(tmp_path, npz, arch, CFG | {"batch_size": batch_size})
    assert all(p.exists() for p in outs)
    assert 0.0 <= summary["test_accuracy"] <= 1.0
    assert json.loads(outs[2].read_text())["epochs"] == 2


def test_batch_bounds_never_leave_a_single_sample():
    for n in range(2, 300):
        for bs in (2, 3, 8, 64):
            bounds = batch_bounds(n, bs, no_singletons=True)
            assert bounds[0][0] == 0 and bounds[-1][1] == n
            assert all(a[1] == b[0] for a, b in zip(bounds, bounds[1:]))  # contiguous, every sample once
            assert all(2 <= stop - start <= bs + 1 for start, stop in bounds)
    assert batch_bounds(129, 64) == [(0, 64), (64, 128), (128, 129)]  # without batch norm: unchanged
    assert batch_bounds(129, 64, no_singletons=True) == [(0, 64), (64, 129)]


@pytest.mark.parametrize("n_train,batch_size", [(1, 64), (40, 1)])
def test_one_sample_batches_are_refused_naming_the_setting(tmp_path, n_train, batch_size):
    npz = prepared(tmp_path, n_train)
    with pytest.raises(ValueError) as err:
        train(tmp_path, npz, "mlp", CFG | {"batch_size": batch_size})
    message = str(err.value)
    assert f"training.batch_size = {batch_size}" in message and f"{n_train} training images" in message
    assert_nothing_written([tmp_path / "out" / n for n in ("model.pt", "metrics.csv", "summary.json")], tmp_path)


def test_without_batch_norm_a_single_sample_batch_still_trains(tmp_path):
    npz = prepared(tmp_path, 65)
    outs = [tmp_path / "out" / name for name in ("model.pt", "metrics.csv", "summary.json")]
    load_script("train").main(
        str(npz),
        *map(str, outs),
        "mlp",
        0,
        CFG | {"batch_size": 64},
        arch_args("mlp", hidden=[16], dropout=0.0),
        progress=False,
    )
    assert all(p.exists() for p in outs)
