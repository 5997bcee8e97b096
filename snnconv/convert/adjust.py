"""The reconstructed Lp/L4 threshold adjustment and its uniform control (docs/method.md §C6).

On base-normalized weights (θ = 1), σ̂_j = ‖w_j‖₄·√ρ_l bounds the std of neuron j's per-step input
current under independent Bernoulli input spikes, with ρ_l ≈ ‖r‖₂ = √(fan_in·E[r²]). Mode ``scale``
sets θ_j ← θ_j·exp(kσ̂_j); mode ``bias`` sets b_j ← b_j − kσ̂_jθ_j. The readout is never adjusted. A neuron fed by
a shortcut too has both branches' weights in w_j and both branches' inputs in r (docs/method.md, "Residual networks").
"""

from __future__ import annotations

import math
from typing import Any

import torch

from ..network import SpikingLayer, SpikingNetwork
from .names import NormSpec


def lp_norms(weight: torch.Tensor, p: float) -> torch.Tensor:
    """‖w_j‖_p per output neuron (linear) or output channel's whole kernel (conv); p may be inf."""
    return torch.linalg.vector_norm(weight.detach().flatten(1).double(), ord=float(p), dim=1).to(weight.dtype)


def bernoulli_current_moments(weight: torch.Tensor, rates: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean w·r and variance Σ w_i² r_i(1−r_i) of u = w·s, s_i ~ Bernoulli(r_i) independent (§C6.1)."""
    w, r = weight.double(), rates.double()
    return w @ r, (w * w) @ (r * (1 - r))


def l4_variance_bound(weight: torch.Tensor, rates: torch.Tensor) -> torch.Tensor:
    """‖w‖₄²·‖r‖₂ ≥ Σ w_i² r_i ≥ Var[u] (Cauchy–Schwarz, §C6.1)."""
    w = weight.double()
    return torch.linalg.vector_norm(w, 4, dim=-1) ** 2 * torch.linalg.vector_norm(rates.double())


def rate_norm_estimate(layer: SpikingLayer, input_rates_sq_mean: float) -> float:
    """ρ_l = √(fan_in·E[r²]): the typical ‖r‖₂ of one receptive field (§C6.2); fan_in counts both branches."""
    return math.sqrt(layer.input_weight_rows().shape[1] * input_rates_sq_mean)


def predicted_sigma(
    layer: SpikingLayer, input_rates_sq_mean: float, p: float = 4.0, uniform: bool = False
) -> torch.Tensor:
    """σ̂_j^(p) = ‖w_j‖_p / mean‖w‖_p · mean_j(‖w_j‖₄√ρ); p = 4 gives ‖w_j‖₄√ρ, ``uniform`` its layer mean (§C6.2)."""
    rows = layer.input_weight_rows()
    s4 = lp_norms(rows, 4).double() * math.sqrt(rate_norm_estimate(layer, input_rates_sq_mean))
    if uniform:
        return torch.full_like(s4, float(s4.mean()))
    if float(p) == 4.0:
        return s4
    norms = lp_norms(rows, p).double()
    mean = float(norms.mean())
    return norms / mean * float(s4.mean()) if mean > 0 else torch.zeros_like(s4)


def _summary(x: torch.Tensor) -> dict[str, float]:
    """min/max/mean as plain floats."""
    return {"min": float(x.min()), "max": float(x.max()), "mean": float(x.mean())}


def adjust_layer(layer: SpikingLayer, sigma: torch.Tensor, k: float, mode: str) -> tuple[SpikingLayer, dict[str, Any]]:
    """Apply one layer's adjustment; returns the new layer and the summary of its factor or bias shift."""
    theta, bias = layer.threshold.double(), layer.bias
    if mode == "scale":
        factor = torch.exp(k * sigma)
        theta = theta * factor
        info = {"factor": _summary(factor)}
    elif mode == "bias":
        shift = -k * sigma * theta
        bias = (torch.zeros(layer.n_out) if bias is None else bias).double() + shift
        info = {"bias_shift": _summary(shift)}
    else:
        raise ValueError(f"unknown adjustment mode {mode!r}")
    new = SpikingLayer(
        dict(layer.op),
        layer.weight,
        None if bias is None else bias.float(),
        theta.float(),
        [dict(p) for p in layer.pre_ops],
        layer.spiking,
        layer.name,
        layer.shortcut,
        layer.shortcut_weight,
    )
    return new, info


def adjust_network(
    net: SpikingNetwork, spec: NormSpec, input_rates_sq_means: list[float]
) -> tuple[SpikingNetwork, list[dict[str, Any]]]:
    """Adjust every spiking layer of a base-normalized network (the readout is left alone)."""
    layers, summary = [], []
    for i, (layer, m2) in enumerate(zip(net.layers, input_rates_sq_means)):
        if not layer.spiking:
            layers.append(layer)
            continue
        sigma = predicted_sigma(layer, m2, p=spec.p or 4.0, uniform=spec.adjust == "uniform")
        new, info = adjust_layer(layer, sigma, float(spec.k), spec.mode)
        layers.append(new)
        summary.append(
            {
                "layer": i,
                "name": layer.name,
                "input_rate_sq_mean": m2,
                "rho": rate_norm_estimate(layer, m2),
                "sigma": _summary(sigma),
                **info,
            }
        )
    return SpikingNetwork(layers, tuple(net.input_shape), net.v_init, dict(net.meta)), summary
