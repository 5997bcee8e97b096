"""The Lp/L4 threshold adjustment pinned against values derived independently (a wrong adjustment
formula would otherwise pass every behavioural test).

Expectations are computed here in numpy from the definitions (docs/method.md §C6), never with
``input_rate_sq_means``, ``predicted_sigma`` or ``rate_norm_estimate``:

* λ by definition from the ANN's ReLU outputs a_l (max, or np.percentile);
* the input rates of hidden layer l are the *previous* layer's outputs in the clamped rate model
  r_l = min(1, relu(W_l λ_{l−1} r_{l−1} + b_l)/λ_l), walked here module by module, after layer l's pre-ops;
  layer 0's are the pixels;
* E[r²] is their mean square over the normalization set; ρ_l = √(fan_in·E[r²]);
* σ̂_j = ‖w_j‖₄·√ρ_l on the base-normalized weights w = W·λ_{l−1}/λ_l;
* scale: θ_j = exp(kσ̂_j); bias: b_j ← b_j − kσ̂_j; uniform: σ̂ replaced by its layer mean;
  Lp (p ≠ 4): σ̂_j^(p) = ‖w_j‖_p / mean‖w‖_p · mean σ̂.

A dropped square root in ρ or rates taken from a layer's own output instead of its input change σ̂.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from helpers.adjust_reference import reference
from torch import nn

from snnconv.convert import convert, parse_norm
from snnconv.defaults import convert_args


def cnn() -> nn.Sequential:
    """conv(1→3) – avgpool – conv(3→4) – flatten – fc(→6) – readout(3): hidden rates differ from outputs."""
    torch.manual_seed(31)
    return nn.Sequential(
        nn.Conv2d(1, 3, 3, padding=1),
        nn.ReLU(),
        nn.AvgPool2d(2),
        nn.Conv2d(3, 4, 3, padding=1),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(64, 6),
        nn.ReLU(),
        nn.Linear(6, 3),
    ).eval()


def mlp() -> nn.Sequential:
    """flatten – fc(16→10) – fc(10→6) – readout(3)."""
    torch.manual_seed(32)
    return nn.Sequential(
        nn.Flatten(), nn.Linear(16, 10), nn.ReLU(), nn.Linear(10, 6), nn.ReLU(), nn.Linear(6, 3)
    ).eval()


NETS = {"cnn": (cnn, (1, 8, 8)), "mlp": (mlp, (1, 4, 4))}


def images(shape: tuple[int, ...], n: int = 30) -> torch.Tensor:
    """Seeded images in [0, 1]."""
    return torch.rand(n, *shape, generator=torch.Generator().manual_seed(9))


@pytest.mark.parametrize("k", [0.6, -0.3])
@pytest.mark.parametrize("arch", sorted(NETS))
def test_scale_mode_thresholds_match_independent_sigma(arch, k):
    build, shape = NETS[arch]
    model, x = build(), images(shape)
    ref = reference(model, x)
    net = convert(model, x, parse_norm(f"lp4_k{k}_scale_max"), **convert_args())
    assert len(net.meta["adjustment"]) == len(ref)
    for l, (layer, r, adj) in enumerate(zip(net.layers, ref, net.meta["adjustment"])):
        np.testing.assert_allclose(
            layer.threshold.double().numpy(), np.exp(k * r["sigma"]), rtol=2e-6, err_msg=f"layer {l}"
        )
        assert adj["input_rate_sq_mean"] == pytest.approx(r["m2"], rel=1e-6)
        assert adj["rho"] == pytest.approx(r["rho"], rel=1e-6)
        assert adj["sigma"]["mean"] == pytest.approx(float(r["sigma"].mean()), rel=1e-6)
    assert torch.equal(net.layers[-1].threshold, torch.ones(3))  # readout untouched


def test_hidden_layer_sigma_differs_from_output_statistics():
    """Guard: the input and output rate statistics of the hidden layers differ by far more than the tolerance."""
    model, x = cnn(), images((1, 8, 8))
    ref = reference(model, x)
    assert len(ref) == 3
    m2s = [r["m2"] for r in ref]
    assert len(set(round(v, 4) for v in m2s)) == 3  # every layer's input statistic is distinct
    assert all(r["rho"] != pytest.approx(r["rho"] ** 2, rel=0.05) for r in ref)  # √ matters


@pytest.mark.parametrize("arch", sorted(NETS))
def test_bias_mode_shift_matches_independent_sigma(arch):
    build, shape = NETS[arch]
    model, x = build(), images(shape)
    ref = reference(model, x)
    net = convert(model, x, parse_norm("lp4_k0.5_bias_max"), **convert_args())
    for l, (layer, r) in enumerate(zip(net.layers, ref)):
        np.testing.assert_allclose(
            layer.bias.double().numpy(), r["bias"] - 0.5 * r["sigma"], rtol=1e-5, atol=1e-6, err_msg=f"layer {l}"
        )
        assert torch.equal(layer.threshold, torch.ones(layer.n_out))


def test_uniform_control_uses_layer_mean_sigma():
    model, x = cnn(), images((1, 8, 8))
    ref = reference(model, x)
    net = convert(model, x, parse_norm("uniform_k0.4_scale_max"), **convert_args())
    for _l, (layer, r) in enumerate(zip(net.layers, ref)):
        np.testing.assert_allclose(
            layer.threshold.double().numpy(), np.full(layer.n_out, math.exp(0.4 * float(r["sigma"].mean()))), rtol=2e-6
        )


@pytest.mark.parametrize("p", [1.0, 2.0, math.inf])
def test_lp_ablation_thresholds(p):
    model, x = mlp(), images((1, 4, 4))
    ref = reference(model, x)
    net = convert(model, x, parse_norm(f"lp{'inf' if math.isinf(p) else int(p)}_k0.5_scale_max"), **convert_args())
    for layer, r in zip(net.layers, ref):
        w = np.abs(r["w"].reshape(r["w"].shape[0], -1))
        norms = w.max(1) if math.isinf(p) else (w**p).sum(1) ** (1 / p)
        sigma = norms / norms.mean() * r["sigma"].mean()
        np.testing.assert_allclose(layer.threshold.double().numpy(), np.exp(0.5 * sigma), rtol=2e-6)


def test_rho_by_hand():
    """One hidden layer of 4 inputs: pixels [1, 0, 1, 0] → E[r²] = 0.5, ρ = √(4·0.5) = √2;
    weights after max-normalization w = [1, 1, 1, 1]/2 → ‖w‖₄ = 0.5·4^¼ = √2/2, σ̂ = √2/2·2^¼."""
    model = nn.Sequential(nn.Flatten(), nn.Linear(4, 1), nn.ReLU(), nn.Linear(1, 1)).eval()
    with torch.no_grad():
        model[1].weight.fill_(1.0)
        model[1].bias.zero_()
        model[3].weight.fill_(1.0)
        model[3].bias.zero_()
    x = torch.tensor([1.0, 0.0, 1.0, 0.0]).view(1, 1, 2, 2)
    net = convert(model, x, parse_norm("lp4_k1_scale_max"), **convert_args())
    adj = net.meta["adjustment"][0]
    assert adj["input_rate_sq_mean"] == pytest.approx(0.5)
    assert adj["rho"] == pytest.approx(math.sqrt(2))
    sigma = math.sqrt(2) / 2 * 2**0.25
    assert float(net.layers[0].threshold[0]) == pytest.approx(math.exp(sigma), rel=1e-6)


def test_percentile_base_clamps_hidden_input_rates():
    """Base p80: hidden rates a/λ exceed 1 on the normalization set; the statistics use min(1, a/λ)."""
    model, x = cnn(), images((1, 8, 8))
    ref = reference(model, x, q=80)
    net = convert(model, x, parse_norm("lp4_k0.5_scale_p80"), **convert_args())
    for l, (layer, r) in enumerate(zip(net.layers, ref)):
        np.testing.assert_allclose(
            layer.threshold.double().numpy(), np.exp(0.5 * r["sigma"]), rtol=2e-6, err_msg=f"layer {l}"
        )
    acts = []
    hooks = [m.register_forward_hook(lambda m, i, o: acts.append(o)) for m in model if isinstance(m, nn.ReLU)]
    with torch.no_grad():
        model(x)
    for h in hooks:
        h.remove()
    assert float(acts[0].max()) > 1.5 * float(np.percentile(acts[0].numpy(), 80))  # clamping really matters


def test_adjust_layer_multiplies_an_existing_threshold():
    """Documented θ_j ← θ_j·exp(kσ̂_j) and b_j ← b_j − kσ̂_jθ_j, seen with θ ≠ 1 (the pipeline always has θ = 1)."""
    from snnconv.convert.adjust import adjust_layer
    from snnconv.network import SpikingLayer

    layer = SpikingLayer({"type": "linear"}, torch.ones(2, 3), torch.tensor([0.5, -0.5]), torch.tensor([2.0, 0.5]))
    sigma = torch.tensor([0.3, 1.0], dtype=torch.float64)
    scaled, _ = adjust_layer(layer, sigma, 0.5, "scale")
    assert scaled.threshold.tolist() == pytest.approx([2 * math.exp(0.15), 0.5 * math.exp(0.5)], rel=1e-6)
    shifted, _ = adjust_layer(layer, sigma, 0.5, "bias")
    assert shifted.bias.tolist() == pytest.approx([0.5 - 0.5 * 0.3 * 2, -0.5 - 0.5 * 1.0 * 0.5], rel=1e-6)
    assert shifted.threshold.tolist() == [2.0, 0.5]
