"""snnconv.convert.files end to end on a tiny checkpoint and prepared dataset: the per-base normalization record
(rule normalize, scripts/normalize.py), conversion from it (identical to converting in one go), its checks, and
the snakemake binding."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from helpers import REPO

from snnconv.convert import parse_norm
from snnconv.convert.files import convert_files, norm_set, normalize_files
from snnconv.data import ArrayDataset, save_prepared
from snnconv.defaults import arch_args
from snnconv.models import build_model, save_checkpoint
from snnconv.network import load_network

CFG = {"norm_set_size": 20, "norm_set_seed": 3, "per_channel": True, "maxpool_to_avgpool": False}


def load_script():
    """Import scripts/normalize.py as a module (no snakemake object: nothing runs on import)."""
    spec = importlib.util.spec_from_file_location("normalize_script", REPO / "scripts" / "normalize.py")
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
    model = build_model("cnn", (1, 8, 8), 3, **arch_args("cnn", **kwargs))
    save_checkpoint(root / "model.pt", model, "cnn", (1, 8, 8), 3, kwargs)
    return root / "model.pt", root / "toy.npz"


def test_norm_set_is_a_seeded_train_subset():
    x = np.arange(50, dtype=np.uint8).reshape(50, 1, 1, 1)
    imgs, idx = norm_set(x, 10, 4)
    assert np.array_equal(idx, np.random.default_rng(4).choice(50, size=10, replace=False))
    assert torch.allclose(imgs.flatten(), torch.from_numpy(idx).float() / 255)
    assert len(norm_set(x, 500, 0)[1]) == 50


@pytest.mark.parametrize("norm", ["max", "lp4_k0.5_scale_max"])
def test_convert_files_writes_network_and_meta(inputs, tmp_path, norm):
    model_path, data_path = inputs
    _, meta = convert_files(model_path, data_path, norm, CFG, tmp_path / "network.pt", tmp_path / "conversion.json")
    net = load_network(tmp_path / "network.pt")
    saved = json.loads((tmp_path / "conversion.json").read_text())
    assert saved["norm"] == norm == net.meta["norm"] and saved["norm_set"]["size"] == 20
    assert saved["sources"] == {"model": str(model_path), "data": str(data_path)}
    assert saved["agreement"]["ann_vs_rate_unclamped"] == 1.0 and saved["agreement"]["images"] == 20
    assert 0 <= saved["agreement"]["ann_vs_rate"] <= 1 and meta["agreement"] == saved["agreement"]
    assert saved["method"] == ("max" if norm == "max" else "lp") and saved["per_channel"][0] is True
    assert saved["settings"] == CFG
    assert net.input_shape == (1, 8, 8) and not net.layers[-1].spiking


def test_convert_files_refuses_roles_and_missing_settings(inputs, tmp_path):
    model_path, data_path = inputs
    with pytest.raises(ValueError, match="role"):
        convert_files(model_path, data_path, "l4", CFG, tmp_path / "n.pt", tmp_path / "m.json")
    with pytest.raises(KeyError, match="norm_set_seed"):
        convert_files(
            model_path,
            data_path,
            "max",
            {k: v for k, v in CFG.items() if k != "norm_set_seed"},
            tmp_path / "n.pt",
            tmp_path / "m.json",
        )
    assert not (tmp_path / "n.pt").exists() and not (tmp_path / "m.json").exists()


BASES = ["none", "max", "model", "p99.9"]
NORMS = [
    "none",
    "max",
    "model",
    "p99.9",
    "max-v0half",
    "p99.9-v0half",
    "lp4_k0.5_scale_max",
    "lp2_k-0.25_bias_p99.9",
    "uniform_k0.5_scale_max",
    "lp4_k0.5_scale_model",
    "lpinf_k0.25_scale_none",
    "lp4_k-0.25_scale_max-v0half",
    "uniform_k0.5_bias_p99.9-v0half",
]


@pytest.fixture(scope="module")
def records(inputs, tmp_path_factory) -> dict[str, Path]:
    """The normalization record of every base, written by normalize_files."""
    model_path, data_path = inputs
    root = tmp_path_factory.mktemp("normalization")
    for base in BASES:
        normalize_files(model_path, data_path, base, CFG, root / f"{base}.json")
    return {b: root / f"{b}.json" for b in BASES}


def _same_network(a, b) -> None:
    """Bit-identical layers (weights, biases, thresholds, ops) and v_init."""
    assert a.v_init == b.v_init and a.input_shape == b.input_shape and len(a.layers) == len(b.layers)
    for la, lb in zip(a.layers, b.layers):
        assert la.op == lb.op and la.pre_ops == lb.pre_ops and la.spiking == lb.spiking
        for x, y in ((la.weight, lb.weight), (la.bias, lb.bias), (la.threshold, lb.threshold)):
            assert (x is None and y is None) or (x.dtype == y.dtype and torch.equal(x, y))


@pytest.mark.parametrize("norm", NORMS)
def test_conversion_from_the_base_record_is_identical_to_converting_in_one_go(inputs, records, tmp_path, norm):
    """Any norm (adjustments and -v0half on every base) built from its base's record equals a direct conversion."""
    model_path, data_path = inputs
    spec = parse_norm(norm)
    direct, meta_direct = convert_files(model_path, data_path, norm, CFG)
    shared, meta_shared = convert_files(
        model_path, data_path, norm, CFG, tmp_path / "n.pt", tmp_path / "m.json", records[spec.base_name]
    )
    _same_network(direct, shared)
    _same_network(shared, load_network(tmp_path / "n.pt"))  # what the file holds is what was simulated
    for key in ("lambdas", "adjustment", "agreement", "params", "per_channel"):
        assert meta_direct[key] == meta_shared[key], key
    assert meta_shared["sources"]["normalization"] == str(records[spec.base_name])
    assert (spec.v_init == 0.5) == (shared.v_init == 0.5)


def test_record_holds_lambdas_and_rate_statistics(records):
    rec = json.loads(records["max"].read_text())
    assert rec["base"] == "max" and rec["n_images"] == 20 and rec["settings"] == CFG
    assert len(rec["lambdas"]) == len(rec["input_rate_sq_means"]) == 3 and rec["lambdas"][-1] == [1.0]
    assert len(rec["lambdas"][0]) == 3 and rec["per_channel"] == [True, False, False]  # per-channel conv λ
    assert all(0 <= m <= 1 for m in rec["input_rate_sq_means"]) and len(rec["model_sha256"]) == 64


def test_a_record_of_another_model_base_or_settings_is_refused(inputs, records, tmp_path):
    model_path, data_path = inputs
    with pytest.raises(ValueError, match="needs the statistics of base 'p99.9', got 'max'"):
        convert_files(model_path, data_path, "lp4_k0.5_scale_p99.9", CFG, normalization_path=records["max"])
    with pytest.raises(ValueError, match="conversion settings"):
        convert_files(model_path, data_path, "max", {**CFG, "norm_set_seed": 4}, normalization_path=records["max"])
    other = tmp_path / "model.pt"
    torch.manual_seed(1)
    kwargs = {"channels": [3], "kernel": 3, "hidden": 6}
    save_checkpoint(other, build_model("cnn", (1, 8, 8), 3, **arch_args("cnn", **kwargs)), "cnn", (1, 8, 8), 3, kwargs)
    with pytest.raises(ValueError, match="another model"):
        convert_files(other, data_path, "max", CFG, normalization_path=records["max"])
    broken = tmp_path / "broken.json"
    broken.write_text('{"base": "max"}')
    with pytest.raises(ValueError, match="lacks"):
        convert_files(model_path, data_path, "max", CFG, normalization_path=broken)


def test_normalize_refuses_a_name_that_is_not_a_base(inputs, tmp_path):
    model_path, data_path = inputs
    with pytest.raises(ValueError, match="not a base normalization"):
        normalize_files(model_path, data_path, "max-v0half", CFG, tmp_path / "x.json")
    assert not (tmp_path / "x.json").exists()


def test_snakemake_binding_logs_and_puts_the_traceback_in_the_rule_log(inputs, tmp_path):
    model_path, data_path = inputs
    smk = SimpleNamespace(
        input=SimpleNamespace(model=str(model_path), data=str(data_path)),
        output=SimpleNamespace(record=str(tmp_path / "p99.9.json")),
        wildcards=SimpleNamespace(base="p99.9"),
        params=SimpleNamespace(conversion=CFG),
        log=[str(tmp_path / "normalize.log")],
        rule="normalize",
    )
    from snnconv.workflow.job import run_job

    script = load_script()
    run_job(smk, script._bind)
    assert json.loads((tmp_path / "p99.9.json").read_text())["base"] == "p99.9"
    assert "p99.9" in (tmp_path / "normalize.log").read_text()
    smk.wildcards.base = "p101"
    smk.output.record = str(tmp_path / "p101.json")
    with pytest.raises(ValueError, match="percentile"):
        run_job(smk, script._bind)
    text = (tmp_path / "normalize.log").read_text()
    assert "rule normalize failed" in text and "Traceback" in text and "p101" in text
    assert not (tmp_path / "p101.json").exists()
