"""The reconstructed Lp/L4 adjustment: variance formula, the L4 bound, σ̂ and the two modes (§C6)."""

from __future__ import annotations

import math

import pytest
import torch
from helpers.adjust_reference import reference
from hypothesis import given, settings
from hypothesis import strategies as st

from snnconv.convert import bernoulli_current_moments, convert, l4_variance_bound, lp_norms, parse_norm, predicted_sigma
from snnconv.convert.activations import input_rate_sq_means
from snnconv.defaults import arch_args, convert_args
from snnconv.models import build_cnn, build_mlp


def test_variance_formula_vs_monte_carlo():
    g = torch.Generator().manual_seed(0)
    w, r = torch.randn(40, generator=g), torch.rand(40, generator=g)
    n = 200_000
    u = (torch.rand(n, 40, generator=g) < r).double() @ w.double()
    mean, var = bernoulli_current_moments(w, r)
    se_mean = math.sqrt(float(var) / n)
    se_var = math.sqrt(float(((u - u.mean()) ** 4).mean() - u.var() ** 2) / n)
    assert abs(float(u.mean()) - float(mean)) < 4 * se_mean
    assert abs(float(u.var()) - float(var)) < 4 * se_var and float(u.var()) == pytest.approx(float(var), rel=0.03)


@settings(max_examples=50, deadline=None)
@given(n=st.integers(1, 60), seed=st.integers(0, 2**31 - 1))
def test_l4_bound_holds(n, seed):
    g = torch.Generator().manual_seed(seed)
    w, r = torch.randn(n, generator=g), torch.rand(n, generator=g)
    _, var = bernoulli_current_moments(w, r)
    mid = (w.double() ** 2) @ r.double()
    assert float(var) <= float(mid) + 1e-12 and float(mid) <= float(l4_variance_bound(w, r)) * (1 + 1e-12) + 1e-12


def test_l4_bound_tight_when_rates_follow_squared_weights():
    w = torch.tensor([0.1, -0.3, 0.2, 0.05])
    r = 1e-3 * w**2 / float((w**2).max())  # r ∝ w∘w and small: Cauchy–Schwarz equality, r(1−r) ≈ r
    _, var = bernoulli_current_moments(w, r)
    assert float(var) == pytest.approx(float(l4_variance_bound(w, r)), rel=2e-3)


def test_lp_norms_per_neuron_and_channel():
    w = torch.tensor([[3.0, -4.0], [1.0, 1.0]])
    assert torch.allclose(lp_norms(w, 2), torch.tensor([5.0, math.sqrt(2)]))
    assert torch.allclose(lp_norms(w, math.inf), torch.tensor([4.0, 1.0]))
    assert torch.allclose(lp_norms(w, 1), torch.tensor([7.0, 2.0]))
    assert torch.allclose(lp_norms(w, 4), torch.tensor([(81 + 256) ** 0.25, 2**0.25]))
    conv = torch.randn(5, 3, 2, 2)
    assert torch.allclose(lp_norms(conv, 4), conv.pow(4).sum(dim=(1, 2, 3)).pow(0.25), rtol=1e-5)


def model_and_x(kind: str):
    """A small trained-looking net with its normalization set."""
    torch.manual_seed(11)
    if kind == "mlp":
        return build_mlp((1, 4, 4), 3, **arch_args("mlp", hidden=[10, 6])).eval(), torch.rand(30, 1, 4, 4)
    if kind == "mlp_nobias":
        return build_mlp((1, 4, 4), 3, **arch_args("mlp", hidden=[10], bias=False)).eval(), torch.rand(30, 1, 4, 4)
    return build_cnn((1, 8, 8), 3, **arch_args("cnn", channels=[3, 4], kernel=3, hidden=5)).eval(), torch.rand(
        30, 1, 8, 8
    )


@pytest.mark.parametrize("kind", ["mlp", "cnn"])
@pytest.mark.parametrize("k", [0.7, -0.4])
def test_scale_mode_sets_theta_to_exp_k_sigma(kind, k):
    model, x = model_and_x(kind)
    base = convert(model, x, parse_norm("max"), **convert_args())
    net = convert(model, x, parse_norm(f"lp4_k{k}_scale_max"), **convert_args())
    ref = reference(model, x)  # σ̂ derived independently from the definitions (test_pinned_adjust)
    m2 = net.meta["adjustment"][0]["input_rate_sq_mean"]
    assert m2 == pytest.approx(float((x.double() ** 2).mean()))  # first layer: pixel intensities
    for i, (b, a) in enumerate(zip(base.layers, net.layers)):
        assert torch.equal(a.weight, b.weight)
        if not b.spiking:  # readout untouched
            assert torch.equal(a.threshold, b.threshold) and torch.equal(a.bias, b.bias)
            continue
        sigma = torch.from_numpy(ref[i]["sigma"])
        assert torch.allclose(a.threshold.double(), torch.exp(k * sigma), rtol=2e-6)
        adj = net.meta["adjustment"][i]
        assert adj["factor"]["max"] == pytest.approx(float(torch.exp(k * sigma).max()), rel=1e-6)
        assert adj["sigma"]["mean"] == pytest.approx(float(sigma.mean()))
    assert net.meta["method"] == "lp" and net.meta["params"]["label"] == "reconstructed"
    assert net.meta["lambdas"] == base.meta["lambdas"]


@pytest.mark.parametrize("kind", ["mlp_nobias", "cnn"])
def test_bias_mode_shifts_bias_and_creates_it(kind):
    model, x = model_and_x(kind)
    base = convert(model, x, parse_norm("p99"), **convert_args())
    net = convert(model, x, parse_norm("lp4_k0.5_bias_p99"), **convert_args())
    ref = reference(model, x, q=99)  # independent σ̂ on the clamped p99 rate model (test_pinned_adjust)
    for i, (b, a) in enumerate(zip(base.layers, net.layers)):
        if not b.spiking:
            assert (a.bias is None and b.bias is None) or torch.equal(a.bias, b.bias)
            continue
        before = torch.zeros(b.n_out) if b.bias is None else b.bias
        assert torch.allclose(a.bias - before, (-0.5 * torch.from_numpy(ref[i]["sigma"])).float(), atol=1e-6)
        assert torch.equal(a.threshold, b.threshold)


def test_uniform_control_equal_factors_and_same_layer_mean_as_l4():
    model, x = model_and_x("cnn")
    cfg = {"l4": {"k": 0.3, "mode": "scale", "base": "max"}}
    l4, uni = (
        convert(model, x, parse_norm("l4", cfg), **convert_args()),
        convert(model, x, parse_norm("uniform-l4", cfg), **convert_args()),
    )
    assert uni.meta["norm"] == "uniform_k0.3_scale_max" and uni.meta["params"]["k"] == 0.3
    for a, b in zip(l4.meta["adjustment"], uni.meta["adjustment"]):
        assert b["factor"]["min"] == pytest.approx(b["factor"]["max"])
        assert b["sigma"]["mean"] == pytest.approx(a["sigma"]["mean"])
    for layer in uni.layers[:-1]:
        assert torch.allclose(layer.threshold, layer.threshold[0].expand_as(layer.threshold))


@pytest.mark.parametrize("p", [1.0, 2.0, math.inf])
def test_lp_ablation_keeps_layer_mean(p):
    model, x = model_and_x("mlp")
    base = convert(model, x, parse_norm("max"), **convert_args())
    m2 = input_rate_sq_means(base, x)
    for i, layer in enumerate(base.layers[:-1]):
        s4, sp = predicted_sigma(layer, m2[i], 4), predicted_sigma(layer, m2[i], p)
        assert float(sp.mean()) == pytest.approx(float(s4.mean()))
        norms = lp_norms(layer.weight, p).double()
        assert torch.allclose(sp / sp.mean(), norms / norms.mean())


def test_k_zero_is_the_base_network_and_readout_argmax_kept():
    model, x = model_and_x("cnn")
    base, zero = (
        convert(model, x, parse_norm("max"), **convert_args()),
        convert(model, x, parse_norm("lp4_k0_scale_max"), **convert_args()),
    )
    for a, b in zip(base.layers, zero.layers):
        assert torch.equal(a.threshold, b.threshold) and torch.equal(a.weight, b.weight)
    big = convert(model, x, parse_norm("uniform_k-2_scale_max"), **convert_args())
    assert torch.all(big.layers[-1].threshold == 1) and not big.layers[-1].spiking


def test_meta_is_plain_json():
    import json

    model, x = model_and_x("cnn")
    net = convert(model, x, parse_norm("lpinf_k0.25_bias_p99.9"), **convert_args(per_channel=True))
    text = json.dumps(net.meta)
    assert json.loads(text)["params"]["p"] == "inf"
    assert {"norm", "method", "params", "lambdas", "adjustment", "folded_batchnorm", "ann_layers"} <= set(net.meta)
    assert isinstance(net.meta["lambdas"][0], list) and len(net.meta["adjustment"]) == 3
