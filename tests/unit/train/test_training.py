"""ANN training: seeded runs are identical on CPU; the checkpoint round-trips safely."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import torch
from helpers import REPO

from snnconv.data import prepare_dataset, save_prepared
from snnconv.defaults import arch_args, dataset_args, training_args
from snnconv.models import build_model, load_checkpoint, save_checkpoint

TRAIN_CFG = training_args(epochs=2, batch_size=64, lr=1e-2, optimizer="adam", device="cpu", threads=1)


@pytest.fixture(scope="module")
def digits_npz(tmp_path_factory):
    folder = tmp_path_factory.mktemp("data")
    ds, source = prepare_dataset("digits", dataset_args("digits"))
    save_prepared(ds, folder / "digits.npz", folder / "digits.json", source)
    return folder / "digits.npz"


def _train(tmp, npz, arch, seed):
    import importlib.util

    spec = importlib.util.spec_from_file_location("train_script", str(REPO / "scripts" / "train.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    opts = arch_args(arch, **{"mlp": {"hidden": [32]}, "cnn": {"channels": [4, 8], "kernel": 3, "hidden": 16}}[arch])
    out = {k: tmp / f"{k}.{ext}" for k, ext in (("model", "pt"), ("metrics", "csv"), ("summary", "json"))}
    module.main(
        str(npz),
        str(out["model"]),
        str(out["metrics"]),
        str(out["summary"]),
        arch,
        seed,
        TRAIN_CFG,
        opts,
        progress=False,
    )
    return out


@pytest.mark.parametrize("arch", ["mlp", "cnn"])
def test_training_is_deterministic_and_learns(tmp_path, digits_npz, arch):
    a = _train(tmp_path / "a", digits_npz, arch, 3)
    b = _train(tmp_path / "b", digits_npz, arch, 3)
    c = _train(tmp_path / "c", digits_npz, arch, 4)
    wa, wb, wc = (load_checkpoint(o["model"])[0].state_dict() for o in (a, b, c))
    assert all(torch.equal(wa[k], wb[k]) for k in wa)
    assert not all(torch.equal(wa[k], wc[k]) for k in wa)
    assert a["metrics"].read_bytes() == b["metrics"].read_bytes()
    history = pd.read_csv(a["metrics"])
    assert list(history["epoch"]) == [1, 2]
    summary = json.loads(a["summary"].read_text())
    assert summary["test_accuracy"] > 0.25, summary["test_accuracy"]  # chance is 0.1
    assert summary["test_accuracy"] == pytest.approx(history["test_accuracy"].iloc[-1])


def test_checkpoint_of_other_arch_is_refused(tmp_path):
    model = build_model("mlp", (1, 8, 8), 10, **arch_args("mlp", hidden=[16]))
    save_checkpoint(tmp_path / "m.pt", model, "mlp", (1, 8, 8), 10, {"hidden": [16]})
    payload = torch.load(tmp_path / "m.pt", weights_only=True)
    payload["arch"], payload["model_kwargs"] = "cnn", {"channels": [4], "kernel": 3, "hidden": 0}
    torch.save(payload, tmp_path / "bad.pt")
    with pytest.raises(ValueError, match="do not fit arch 'cnn'"):
        load_checkpoint(tmp_path / "bad.pt")
    (tmp_path / "trunc.pt").write_bytes((tmp_path / "m.pt").read_bytes()[:100])
    with pytest.raises(ValueError, match="not a readable checkpoint"):
        load_checkpoint(tmp_path / "trunc.pt")


def test_models_are_conversion_friendly():
    for arch, shape in (("mlp", (1, 28, 28)), ("cnn", (1, 28, 28)), ("vgg", (3, 32, 32))):
        model = build_model(arch, shape, 10, **arch_args(arch))
        kinds = {type(m).__name__ for m in model}
        assert kinds <= {"Flatten", "Linear", "Conv2d", "ReLU", "AvgPool2d", "Dropout", "BatchNorm1d", "BatchNorm2d"}
        assert model(torch.zeros(2, *shape)).shape == (2, 10)
    with pytest.raises(ValueError, match="unknown arch 'resnet50'"):
        build_model("resnet50", (1, 8, 8), 10)
