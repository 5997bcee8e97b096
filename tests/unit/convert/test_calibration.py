"""Light calibration (docs/method.md, "Calibration"): the norm grammar's -calib, the bias correction worked out by
hand on a tiny net, the rate error it lowers on the calibration set, its settings and their errors."""

from __future__ import annotations

import dataclasses

import pytest
import torch
from torch import nn

from snnconv.convert import canonicalize, convert, parse_norm, resolve_norms
from snnconv.convert.calibrate import CalibrationSettings, calibrate, rate_errors, spike_rates
from snnconv.defaults import arch_args, convert_args, defaults, sim_args
from snnconv.network import SpikingLayer, SpikingNetwork
from snnconv.workflow.config import ConfigError, validate_config
from snnconv.workflow.settings import calibration

L4 = {"l4": {"k": -0.25, "mode": "scale", "base": "max"}}


def _settings(**kw) -> CalibrationSettings:
    cfg = {"images": 64, "T": 4, "encoding": "constant", "max_rate": 1.0, "reset": "subtract", "seed": 0, **kw}
    return CalibrationSettings.from_dict(cfg)


def _tiny(bias: list[float], threshold: list[float]) -> SpikingNetwork:
    """2 inputs → 2 IF neurons (W = diag(0.6, 0.3)) → identity readout."""
    hidden = SpikingLayer(
        {"type": "linear"},
        torch.tensor([[0.6, 0.0], [0.0, 0.3]]),
        torch.tensor(bias),
        torch.tensor(threshold),
        [{"type": "flatten"}],
        True,
        "hidden",
    )
    readout = SpikingLayer({"type": "linear"}, torch.eye(2), None, torch.ones(2), [], False, "readout")
    return SpikingNetwork([hidden, readout], (1, 1, 2))


IMAGES = torch.tensor([[[[1.0, 1.0]]], [[[0.5, 0.0]]]])


def test_bias_change_equals_hand_computation():
    """Constant input, T_cal = 4, θ = 1, reset by subtraction, v0 = 0. Currents: image 1 (0.6, 0.4), image 2
    (0.3, 0.1). Spikes in 4 steps: 0.6 → 2, 0.3 → 1, 0.4 → 1, 0.1 → 0, so rates (0.5, 0.25 | 0.25, 0). Targets are
    the clipped currents. Δb = mean(target − rate) = ((0.1 + 0.05)/2, (0.15 + 0.1)/2) = (0.075, 0.125)."""
    net = _tiny([0.0, 0.1], [1.0, 1.0])
    rates = spike_rates(net, IMAGES, torch.arange(2), 0, _settings())
    assert rates.tolist() == pytest.approx([0.375, 0.125])
    out, summary = calibrate(net, net, IMAGES, torch.arange(2), _settings())
    assert (out.layers[0].bias - net.layers[0].bias).tolist() == pytest.approx([0.075, 0.125], abs=1e-6)
    assert summary[0]["mean_rate_error"] == pytest.approx(0.1)
    assert out.layers[1].bias is None  # the readout is not calibrated
    assert net.layers[0].bias.tolist() == pytest.approx([0.0, 0.1])  # the input network is left alone


def test_bias_change_scales_with_threshold():
    """θ = 2 on neuron 0 with the weight doubled: the same rates, so the same rate error, and Δb = θ·error."""
    net = _tiny([0.0, 0.1], [2.0, 1.0])
    net.layers[0].weight[0, 0] = 1.2
    out, _ = calibrate(net, _tiny([0.0, 0.1], [1.0, 1.0]), IMAGES, torch.arange(2), _settings())
    assert (out.layers[0].bias - net.layers[0].bias).tolist() == pytest.approx([0.15, 0.125], abs=1e-6)


def _mlp() -> tuple[nn.Sequential, torch.Tensor]:
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Flatten(), nn.Linear(16, 24), nn.ReLU(), nn.Linear(24, 16), nn.ReLU(), nn.Linear(16, 3)
    ).eval()
    return model, torch.rand(256, 1, 4, 4)


@pytest.mark.parametrize("norm", ["max-calib", "p99.9-calib", "lp4_k-0.25_scale_max-calib", "max-v0half-calib"])
def test_rate_error_falls_on_calibration_set(norm):
    """Per-layer mean |rate error| on the calibration set, measured before and after: every layer's falls."""
    model, x = _mlp()
    calib = _settings(images=256, T=8, encoding="poisson")
    spec = parse_norm(norm)
    plain = convert(model, x, parse_norm(canonicalize(norm.removesuffix("-calib"))), **convert_args())
    reference = convert(model, x, parse_norm(spec.base_name), **convert_args())
    net = convert(model, x, spec, **convert_args(calib=calib))
    ids = torch.arange(len(x))
    before, after = rate_errors(plain, reference, x, ids, calib), rate_errors(net, reference, x, ids, calib)
    assert len(before) == 2
    assert all(a < b for a, b in zip(after, before)), (before, after)
    assert [l["mean_abs_rate_error"] for l in net.meta["calibration"]["layers"]][0] == pytest.approx(before[0])
    assert net.meta["calibration"]["images"] == 256 and net.meta["calibration"]["T"] == 8


def test_calibration_leaves_weights_and_thresholds():
    model, x = _mlp()
    plain = convert(model, x, parse_norm("max"), **convert_args())
    net = convert(model, x, parse_norm("max-calib"), **convert_args(calib=_settings(images=32)))
    for a, b in zip(plain.layers, net.layers):
        assert torch.equal(a.weight, b.weight) and torch.equal(a.threshold, b.threshold)
    assert not torch.equal(plain.layers[0].bias, net.layers[0].bias)
    assert torch.equal(plain.layers[-1].bias, net.layers[-1].bias)


def test_calib_norm_names():
    assert canonicalize("l4-calib", L4) == "lp4_k-0.25_scale_max-calib"
    assert canonicalize("p99.90-calib") == "p99.9-calib"
    assert canonicalize("max-v0half-calib") == "max-v0half-calib"
    spec = parse_norm("max-calib")
    assert spec.calib and spec.base_name == "max" and spec.params()["calib"] is True
    assert not parse_norm("max").calib
    roles = resolve_norms({**defaults()["conversion"], **L4, "norms": ["max", "l4", "l4-calib"]}).roles
    assert roles["l4-calib"] == "lp4_k-0.25_scale_max-calib"
    for bad, why in [
        ("max-calib-calib", "once"),
        ("-calib", "follows"),
        ("max-calib-v0half", "before -calib"),
        ("foo-calib", "unknown method"),
    ]:
        with pytest.raises(ValueError, match=why):
            parse_norm(bad)


def test_calibrating_without_settings_is_refused():
    model, x = _mlp()
    with pytest.raises(ValueError, match="conversion.calib"):
        convert(model, x, parse_norm("max-calib"), **convert_args())


@pytest.mark.parametrize(
    "key, value, message",
    [
        ("images", 0, "images must be a positive integer, got 0"),
        ("T", -3, "T must be a positive integer, got -3"),
        ("T", 2.5, "T must be a positive integer, got 2.5"),
        ("images", True, "images must be a positive integer"),
        ("encoding", "burst", "encoding 'burst'"),
        ("max_rate", 0.0, "max_rate must lie in"),
    ],
)
def test_bad_settings_rejected(key, value, message):
    with pytest.raises(ValueError, match=message):
        _settings(**{key: value})


def test_missing_settings_named():
    with pytest.raises(ValueError, match=r"lack \['T'\]"):
        CalibrationSettings.from_dict({"images": 1, "encoding": "poisson", "max_rate": 1, "reset": "zero", "seed": 0})


@pytest.mark.parametrize("calib", [{"images": 0}, {"T": "16"}, {"steps": 16}])
def test_bad_config_values_rejected(calib):
    cfg = {"datasets": ["digits"], "archs": ["mlp"], "seeds": [0], "conversion": {"calib": calib}}
    with pytest.raises(ConfigError, match="calib"):
        validate_config(cfg)


def test_calibration_params_only_for_calib_norms():
    cfg = validate_config(
        {"datasets": ["digits"], "archs": ["mlp"], "seeds": [0], "conversion": {"norms": ["max", "max-calib"]}}
    )
    assert calibration(cfg, "max") == {}
    assert calibration(cfg, "lp4_k-0.25_scale_max-v0half") == {}
    got = calibration(cfg, "max-calib")
    assert got == {"T": 16, "encoding": "poisson", "images": 1024, "max_rate": 1.0, "reset": "subtract", "seed": 0}
    assert CalibrationSettings.from_dict(got).T == 16


def _resnet() -> tuple[nn.Sequential, torch.Tensor]:
    """A narrow resnet8 with random BN statistics (so the folded biases are not zero) and its calibration set."""
    from snnconv.models import build_resnet

    torch.manual_seed(0)
    model = build_resnet((1, 8, 8), 3, **arch_args("resnet", preset="resnet8", channels=[4, 6, 8]))
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.2, 0.2)
            m.running_var.uniform_(0.5, 1.5)
    return model.eval(), torch.rand(128, 1, 8, 8)


def test_spike_rates_of_a_block_output_count_the_shortcut():
    """The calibration's block simulation adds the shortcut's current into the block output: the mean of its
    per-channel rates equals the engine's mean spike rate of that layer at T (the engine adds the shortcut too)."""
    from snnconv.simulate import simulate

    model, x = _resnet()
    net = convert(model, x, parse_norm("max"), **convert_args())
    block_out = next(l for l, layer in enumerate(net.layers) if layer.shortcut is not None)
    rates = spike_rates(net, x[:16], torch.arange(16), block_out, _settings(T=6))
    res = simulate(
        net,
        x[:16],
        torch.zeros(16, dtype=torch.long),
        6,
        **sim_args(encoding="constant", device="cpu", compile="false"),
    )
    assert float(rates.mean()) == pytest.approx(float(res.rates[block_out, -1]), abs=1e-6)
    # without the shortcut's current the block output fires differently: the test can tell the two apart
    cut = [dataclasses.replace(l, shortcut=None, shortcut_weight=None) for l in net.layers]
    alone = spike_rates(
        SpikingNetwork(cut, net.input_shape, net.v_init), x[:16], torch.arange(16), block_out, _settings(T=6)
    )
    assert float((alone - rates).abs().max()) > 1e-3


def test_calibration_of_a_residual_net_lowers_every_layer_error_and_keeps_shortcuts():
    model, x = _resnet()
    calib = _settings(images=128, T=8, encoding="poisson")
    plain, reference = (
        convert(model, x, parse_norm("max"), **convert_args()),
        convert(model, x, parse_norm("max"), **convert_args()),
    )
    net = convert(model, x, parse_norm("max-calib"), **convert_args(calib=calib))
    ids = torch.arange(len(x))
    before, after = rate_errors(plain, reference, x, ids, calib), rate_errors(net, reference, x, ids, calib)
    assert len(before) == sum(l.spiking for l in net.layers)
    assert sum(after) < sum(before), (before, after)
    for a, b in zip(plain.layers, net.layers):
        assert (a.shortcut is None) == (b.shortcut is None)
        if a.shortcut is not None:
            assert a.shortcut == b.shortcut and torch.equal(a.shortcut_weight, b.shortcut_weight)
