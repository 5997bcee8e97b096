"""Bad checkpoints and networks, run through the rule scripts' ``main``: conversion refuses NaN/inf weights,
checkpoints of another architecture or input shape, truncated and foreign files; simulation refuses bad
network files; a network whose readout never spikes (decode=spikes) is reported, not divided by zero.

Every failure must name the offending file (or layer/value) and leave no output and no temporary file.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from helpers.checkpoints import saved_network
from helpers.workflow import assert_nothing_written, digits_npz, load_script, rule_settings  # noqa: F401

from snnconv.convert.files import convert_files
from snnconv.defaults import arch_args
from snnconv.models import build_model, save_checkpoint

MLP = {"hidden": [16]}


def _checkpoint(
    path: Path,
    mutate: Callable | None = None,
    *,
    arch: str = "mlp",
    shape=(1, 8, 8),
    kwargs=MLP,
    n_classes: int = 10,
    patch: Callable[[dict], None] | None = None,
) -> Path:
    """Save a random-init checkpoint (training is irrelevant here), optionally damaged."""
    torch.manual_seed(0)
    model = build_model("mlp", shape, n_classes, **arch_args("mlp", **kwargs))  # saved under `arch`, which may lie
    if mutate:
        with torch.no_grad():
            mutate(model)
    save_checkpoint(path, model, arch, shape, n_classes, kwargs)
    if patch:
        payload = torch.load(path, weights_only=True)
        patch(payload)
        torch.save(payload, path)
    return path


def _set_first(value: float, module: int, attr: str = "weight"):
    return lambda m: getattr(m[module], attr).view(-1).__setitem__(0, value)


def _truncate(n: int):
    def build(path: Path) -> Path:
        _checkpoint(path)
        path.write_bytes(path.read_bytes()[:n])
        return path

    return build


def _write(data: bytes):
    def build(path: Path) -> Path:
        path.write_bytes(data)
        return path

    return build


# id -> (builder of model.pt, substrings the error must contain; "{path}" is the checkpoint's path)
CASES: dict[str, tuple[Callable[[Path], Path], tuple[str, ...]]] = {
    "nan-weight": (
        lambda p: _checkpoint(p, _set_first(math.nan, 1)),
        ("refusing to convert", "layer 0 weights", "NaN/inf"),
    ),
    "inf-weight": (
        lambda p: _checkpoint(p, _set_first(math.inf, -1)),
        ("refusing to convert", "layer 1 weights", "NaN/inf"),
    ),
    "neg-inf-bias": (lambda p: _checkpoint(p, _set_first(-math.inf, 1, "bias")), ("layer 0 bias", "NaN/inf")),
    "nan-batchnorm-running-var": (
        lambda p: _checkpoint(
            p, lambda m: m[2].running_var.fill_(math.nan), kwargs={"hidden": [16], "batchnorm": True}
        ),
        ("refusing to convert", "NaN/inf"),
    ),
    "other-architecture": (
        lambda p: _checkpoint(
            p, arch="cnn", kwargs=MLP, patch=lambda c: c.update(model_kwargs={"channels": [4], "hidden": 16})
        ),
        ("{path}", "weights do not fit arch 'cnn'"),
    ),
    "unknown-architecture": (
        lambda p: _checkpoint(p, patch=lambda c: c.update(arch="resnet50")),
        ("{path}", "'resnet50'"),
    ),
    "bad-arch-options": (
        lambda p: _checkpoint(p, patch=lambda c: c.update(model_kwargs={"hidden": [16], "wings": 2})),
        ("{path}", "wings"),
    ),
    "wider-weights-than-declared": (
        lambda p: _checkpoint(p, patch=lambda c: c.update(model_kwargs={"hidden": [32]})),
        ("{path}", "size mismatch"),
    ),
    "other-input-shape": (lambda p: _checkpoint(p, shape=(1, 28, 28)), ("{path}", "(1, 28, 28)", "(1, 8, 8)")),
    "other-class-count": (lambda p: _checkpoint(p, n_classes=100), ("{path}", "100 classes")),
    "missing-keys": (lambda p: _checkpoint(p, patch=lambda c: c.pop("state_dict")), ("{path}", "lacks", "state_dict")),
    "not-a-dict": (lambda p: (torch.save(torch.zeros(3), p), p)[1], ("{path}", "not a checkpoint")),
    "truncated": (_truncate(700), ("{path}", "not a readable checkpoint")),
    "truncated-to-header": (_truncate(30), ("{path}", "not a readable checkpoint")),
    "empty-file": (_write(b""), ("{path}", "not a readable checkpoint")),
    "text-file": (_write(b"this is not a checkpoint\n"), ("{path}", "not a readable checkpoint")),
}


@pytest.mark.parametrize("case", list(CASES))
def test_conversion_refuses_bad_checkpoint(tmp_path, digits_npz, case):
    build, needles = CASES[case]
    (tmp_path / "models").mkdir()
    model = build(tmp_path / "models" / "model.pt")
    out = tmp_path / "snn" / "max"
    outputs = [out / "network.pt", out / "conversion.json"]
    with pytest.raises(ValueError) as err:
        convert_files(model, digits_npz, "max", rule_settings("normalize", norm_set_size=100), *outputs)
    for needle in needles:
        needle = needle.replace("{path}", str(model))
        assert needle in str(err.value), f"{needle!r} not in {str(err.value)!r}"
    assert_nothing_written(outputs, tmp_path)


def test_conversion_control_checkpoint_converts(tmp_path, digits_npz):
    model = _checkpoint(tmp_path / "model.pt")
    _, meta = convert_files(
        model,
        digits_npz,
        "max",
        rule_settings("normalize", norm_set_size=100),
        tmp_path / "snn" / "network.pt",
        tmp_path / "snn" / "conversion.json",
    )
    assert meta["norm"] == "max" and (tmp_path / "snn" / "network.pt").exists()


def test_conversion_refuses_bad_norm_and_data(tmp_path, digits_npz):
    """A norm name outside the grammar (a hand-typed target) and a truncated prepared-data file."""
    model = _checkpoint(tmp_path / "model.pt")
    out = [tmp_path / "snn" / "network.pt", tmp_path / "snn" / "conversion.json"]
    with pytest.raises(ValueError, match=r"norm 'p0': percentile '0' must lie in \(0, 100\]"):
        convert_files(model, digits_npz, "p0", rule_settings("normalize", norm_set_size=100), *out)
    bad_npz = tmp_path / "digits.npz"
    bad_npz.write_bytes(Path(digits_npz).read_bytes()[:1000])
    with pytest.raises(ValueError, match="not a valid prepared dataset") as err:
        convert_files(model, bad_npz, "max", rule_settings("normalize", norm_set_size=100), *out)
    assert str(bad_npz) in str(err.value)
    assert_nothing_written(out, tmp_path)


# --- simulation ------------------------------------------------------------------------------------------


def _simulate(tmp_path: Path, network: Path, data: Path, decode: str = "membrane", T: int = 30):
    out = tmp_path / "sim" / "input0.csv"
    frame = load_script("simulate").main(
        network,
        data,
        out,
        {"dataset": "digits", "iseed": "0"},
        rule_settings("simulate", T=T, decode=decode, device="cpu", batch_size=25),
        tmp_path / "sim.log",
    )
    return frame, out


@pytest.mark.parametrize("decode", ["spikes", "membrane"])
def test_silent_network_is_reported_not_divided_by_zero(tmp_path, digits_npz, decode):
    """Thresholds no input can reach: no output spike at all. The run completes, every number is finite,
    the silent count is in the CSV and the log says so."""
    import numpy as np
    import pandas as pd

    net = saved_network(tmp_path / "network.pt", threshold=1e9)
    with np.errstate(all="raise"):
        frame, out = _simulate(tmp_path, net, digits_npz, decode)
    written = pd.read_csv(out)
    assert len(written) == 30 and list(written["t"]) == list(range(1, 31))
    numeric = written.select_dtypes("number")
    assert np.isfinite(numeric.to_numpy(dtype=float)).all(), "NaN/inf in the results of a silent network"
    assert (written["silent_output"] == written["n_samples"]).all()
    assert written["accuracy"].between(0, 1).all() and (written.filter(like="rate_") == 0).all().all()
    assert "SILENT OUTPUT" in (tmp_path / "sim.log").read_text()


NETWORK_CASES = {
    "nan-weight": (
        lambda p: saved_network(p, damage=lambda d: d["layers"][0]["weight"].view(-1).__setitem__(3, math.nan)),
        ("{path}", "layer 0 ('fc1') weight contains NaN/inf"),
    ),
    "inf-threshold": (
        lambda p: saved_network(p, damage=lambda d: d["layers"][1]["threshold"].__setitem__(0, math.inf)),
        ("{path}", "layer 1 ('out') threshold contains NaN/inf"),
    ),
    "zero-threshold": (
        lambda p: saved_network(p, damage=lambda d: d["layers"][0]["threshold"].__setitem__(0, 0.0)),
        ("{path}", "thresholds must be positive"),
    ),
    "unknown-op": (
        lambda p: saved_network(p, damage=lambda d: d["layers"][0]["op"].update(type="maxpool")),
        ("{path}", "'maxpool'"),
    ),
    "future-format": (
        lambda p: saved_network(p, damage=lambda d: d.update(format_version=99)),
        ("{path}", "format version 99"),
    ),
    "missing-layers": (lambda p: saved_network(p, damage=lambda d: d.pop("layers")), ("{path}", "malformed", "layers")),
    "other-input-shape": (lambda p: saved_network(p, shape=(1, 28, 28)), ("{path}", "(1, 28, 28)", "(1, 8, 8)")),
    "truncated": (lambda p: (saved_network(p), p.write_bytes(p.read_bytes()[:300]))[0], ("{path}", "not a readable")),
    "a-checkpoint-not-a-network": (lambda p: _checkpoint(p), ("{path}", "format version None")),
}


@pytest.mark.parametrize("script", ["simulate", "membrane_stats"])
@pytest.mark.parametrize("case", list(NETWORK_CASES))
def test_simulation_refuses_bad_network(tmp_path, digits_npz, case, script):
    build, needles = NETWORK_CASES[case]
    path = build(tmp_path / "network.pt")
    out = tmp_path / "out" / "result.csv"
    cfg = (
        rule_settings("simulate", T=20, device="cpu")
        if script == "simulate"
        else rule_settings("membrane_stats", T=20, samples=10, neurons_per_layer=4, device="cpu")
    )
    with pytest.raises(ValueError) as err:
        load_script(script).main(path, digits_npz, out, {"dataset": "digits", "iseed": "0"}, cfg)
    for needle in needles:
        needle = needle.replace("{path}", str(path))
        assert needle in str(err.value), f"{needle!r} not in {str(err.value)!r}"
    assert_nothing_written([out], tmp_path)


def test_conversion_never_writes_a_non_finite_network(tmp_path):
    """save_network refuses what load_network would refuse (e.g. an overflowing threshold adjustment)."""
    from snnconv.network import load_network

    path = saved_network(tmp_path / "ok.pt")
    net = load_network(path)
    net.layers[0].threshold[0] = math.inf
    with pytest.raises(ValueError, match="threshold contains NaN/inf"):
        from snnconv.network import save_network

        save_network(net, tmp_path / "bad.pt")
    assert_nothing_written([tmp_path / "bad.pt"], tmp_path)
