"""scripts/convert.py: main() end to end on a tiny checkpoint and prepared dataset, and the snakemake binding."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from snnconv.data import ArrayDataset, save_prepared
from snnconv.models import build_model, save_checkpoint
from snnconv.network import load_network

REPO = Path(__file__).resolve().parent.parent
CFG = {"norm_set_size": 20, "norm_set_seed": 3, "per_channel": True, "maxpool_to_avgpool": False}


def load_script():
    """Import scripts/convert.py as a module (no snakemake object: nothing runs on import)."""
    spec = importlib.util.spec_from_file_location("convert_script", REPO / "scripts" / "convert.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> tuple[Path, Path]:
    """A random tiny CNN checkpoint and a 30-image prepared dataset."""
    root = tmp_path_factory.mktemp("convert")
    rng = np.random.default_rng(0)
    ds = ArrayDataset(
        "toy",
        rng.integers(0, 256, (30, 1, 8, 8), dtype=np.uint8),
        rng.integers(0, 3, 30),
        rng.integers(0, 256, (5, 1, 8, 8), dtype=np.uint8),
        rng.integers(0, 3, 5),
        ["a", "b", "c"],
    )
    save_prepared(ds, root / "toy.npz", root / "toy.json", {"kind": "test"})
    kwargs = {"channels": [3], "kernel": 3, "hidden": 6}
    torch.manual_seed(0)
    model = build_model("cnn", (1, 8, 8), 3, **kwargs)
    save_checkpoint(root / "model.pt", model, "cnn", (1, 8, 8), 3, kwargs)
    return root / "model.pt", root / "toy.npz"


def test_norm_set_is_a_seeded_train_subset():
    script = load_script()
    x = np.arange(50, dtype=np.uint8).reshape(50, 1, 1, 1)
    imgs, idx = script.norm_set(x, 10, 4)
    assert np.array_equal(idx, np.random.default_rng(4).choice(50, size=10, replace=False))
    assert torch.allclose(imgs.flatten(), torch.from_numpy(idx).float() / 255)
    assert len(script.norm_set(x, 500, 0)[1]) == 50


@pytest.mark.parametrize("norm", ["max", "lp4_k0.5_scale_max"])
def test_main_writes_network_and_meta(inputs, tmp_path, norm):
    model_path, data_path = inputs
    meta = load_script().main(model_path, data_path, norm, CFG, tmp_path / "network.pt", tmp_path / "conversion.json")
    net = load_network(tmp_path / "network.pt")
    saved = json.loads((tmp_path / "conversion.json").read_text())
    assert saved["norm"] == norm == net.meta["norm"] and saved["norm_set"]["size"] == 20
    assert saved["sources"] == {"model": str(model_path), "data": str(data_path)}
    assert saved["agreement"]["ann_vs_rate_unclamped"] == 1.0
    assert 0 <= saved["agreement"]["ann_vs_rate"] <= 1 and meta["agreement"] == saved["agreement"]
    assert saved["method"] == ("max" if norm == "max" else "lp") and saved["per_channel"][0] is True
    assert saved["settings"] == CFG
    assert net.input_shape == (1, 8, 8) and not net.layers[-1].spiking


def test_main_refuses_roles_and_missing_settings(inputs, tmp_path):
    model_path, data_path = inputs
    with pytest.raises(ValueError, match="role"):
        load_script().main(model_path, data_path, "l4", CFG, tmp_path / "n.pt", tmp_path / "m.json")
    with pytest.raises(KeyError, match="norm_set_seed"):
        load_script().main(
            model_path,
            data_path,
            "max",
            {k: v for k, v in CFG.items() if k != "norm_set_seed"},
            tmp_path / "n.pt",
            tmp_path / "m.json",
        )
    assert not (tmp_path / "n.pt").exists() and not (tmp_path / "m.json").exists()


def test_snakemake_binding_logs_and_puts_the_traceback_in_the_rule_log(inputs, tmp_path):
    model_path, data_path = inputs
    smk = SimpleNamespace(
        input=SimpleNamespace(model=str(model_path), data=str(data_path)),
        output=SimpleNamespace(network=str(tmp_path / "n.pt"), meta=str(tmp_path / "m.json")),
        wildcards=SimpleNamespace(norm="p99.9-v0half"),
        params=SimpleNamespace(conversion=CFG),
        log=[str(tmp_path / "convert.log")],
        rule="convert",
    )
    from snnconv.job import run_job

    script = load_script()
    run_job(smk, script._bind)
    assert load_network(tmp_path / "n.pt").v_init == 0.5
    assert "p99.9-v0half" in (tmp_path / "convert.log").read_text()
    smk.wildcards.norm = "p101"
    with pytest.raises(ValueError, match="percentile"):
        run_job(smk, script._bind)
    text = (tmp_path / "convert.log").read_text()
    assert "rule convert failed" in text and "Traceback" in text and "p101" in text
