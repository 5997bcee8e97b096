"""Layer-wise normalization recipes: λ per layer (or per conv channel) and the weight rescaling (docs/method.md §C2–§C5).

With λ_0 = 1 and the readout's λ_L = 1, the rescaling W_l ← W_l·λ_{l−1}/λ_l, b_l ← b_l/λ_l makes every
hidden rate-model activation a_l/λ_l and leaves the readout equal to the ANN's logits (§C2). A layer with a
shortcut from layer s (a residual block's output) has one λ_l, measured on its output after the add, shared by
both branches: W_l ← W_l·λ_{l−1}/λ_l and W_s ← W_s·λ_s/λ_l (docs/method.md, "Residual networks").
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from ..network import SpikingLayer, SpikingNetwork
from .activations import activation_max, activation_percentile
from .names import NormSpec


def input_scale(layer: SpikingLayer, lam_prev: torch.Tensor, shortcut: bool = False) -> torch.Tensor:
    """λ_{l−1} shaped to multiply ``layer.weight`` along its input dimension (expanded through flatten); with
    ``shortcut``, the source layer's λ shaped for ``layer.shortcut_weight``."""
    weight = layer.shortcut_weight if shortcut else layer.weight
    op = layer.shortcut["op"] if shortcut else layer.op
    if lam_prev.numel() == 1:
        return lam_prev.reshape(()).to(weight.dtype)
    lam = lam_prev.to(weight.dtype)
    if op["type"] == "conv2d":
        return lam.view(1, -1, 1, 1)
    n_in = weight.shape[1]
    if n_in % lam.numel():
        raise ValueError(f"layer {layer.name}: {n_in} inputs do not split into {lam.numel()} channels")
    return lam.repeat_interleave(n_in // lam.numel()).view(1, -1)  # flatten is channel-major


def _positive(lam: torch.Tensor, fallback: torch.Tensor | float = 1.0) -> torch.Tensor:
    """Replace λ ≤ 0 (a silent layer/channel: any λ preserves it) by ``fallback``, then by 1."""
    lam = torch.where(lam > 0, lam, torch.as_tensor(fallback, dtype=lam.dtype))
    return torch.where(lam > 0, lam, torch.ones_like(lam))


def none_lambdas(
    net: SpikingNetwork, images: torch.Tensor, spec: NormSpec, per_channel: list[bool]
) -> list[torch.Tensor]:
    """Raw weights: λ = 1 everywhere."""
    return [torch.ones(1, dtype=torch.float64) for l in net.layers if l.spiking]


def max_lambdas(
    net: SpikingNetwork, images: torch.Tensor, spec: NormSpec, per_channel: list[bool]
) -> list[torch.Tensor]:
    """Diehl et al. 2015 data-based: λ_l = max ReLU activation on the normalization set (§C3)."""
    return [_positive(m) for m in activation_max(net, images, per_channel)]


def percentile_lambdas(
    net: SpikingNetwork, images: torch.Tensor, spec: NormSpec, per_channel: list[bool]
) -> list[torch.Tensor]:
    """Rueckauer et al. 2017: λ_l = q-th percentile of all ReLU activations, zeros included (§C4)."""
    lams = activation_percentile(net, images, spec.percentile, per_channel)
    if any(bool((l <= 0).any()) for l in lams):  # too sparse for q: fall back to the max
        return [_positive(l, m) for l, m in zip(lams, activation_max(net, images, per_channel))]
    return lams


def model_lambdas(
    net: SpikingNetwork, images: torch.Tensor, spec: NormSpec, per_channel: list[bool]
) -> list[torch.Tensor]:
    """Diehl et al. 2015 weight-based: λ_l = max_j Σ_i max(0, W_ij λ_{l−1,i}) + max(0, b_j) (§C5); a shortcut's
    positive weights, times its source's λ, add to the sum (both branches feed the same neurons)."""
    lams, prev = [], torch.ones(1, dtype=torch.float64)
    for i, layer in enumerate(net.layers):
        if not layer.spiking:
            break
        w = layer.weight.double() * input_scale(layer, prev).double()
        bound = w.clamp(min=0).flatten(1).sum(1)
        if layer.shortcut is not None:
            src = lams[layer.shortcut["source"]]
            ws = layer.shortcut_weight.double() * input_scale(layer, src, shortcut=True).double()
            bound = bound + ws.clamp(min=0).flatten(1).sum(1)
        if layer.bias is not None:
            bound = bound + layer.bias.double().clamp(min=0)
        prev = _positive(bound if per_channel[i] else bound.max().view(1))
        lams.append(prev)
    return lams


def qcfs_lambdas(
    net: SpikingNetwork, images: torch.Tensor, spec: NormSpec, per_channel: list[bool]
) -> list[torch.Tensor]:
    """Bu et al. 2022: λ_l = the trained clip of layer l's QCFS activation (θ = λ in the ANN's units)."""
    lams = net.meta.get("qcfs_lambdas") or []
    if not lams:
        raise ValueError(f"norm {spec.name!r} converts a QCFS-trained network, but this model has ReLU activations")
    if any(not l > 0 for l in lams):
        raise ValueError(f"norm {spec.name!r}: a trained QCFS clip λ is not positive ({lams})")
    return [torch.tensor([float(l)], dtype=torch.float64) for l in lams]


RECIPES: dict[str, Callable[..., list[torch.Tensor]]] = {
    "none": none_lambdas,
    "max": max_lambdas,
    "percentile": percentile_lambdas,
    "model": model_lambdas,
    "qcfs": qcfs_lambdas,
}


def compute_lambdas(
    spec: NormSpec, net: SpikingNetwork, images: torch.Tensor, per_channel: list[bool]
) -> list[torch.Tensor]:
    """λ of every layer (float64, shape (1,) or (channels,)); the readout's λ is 1."""
    lams = RECIPES[spec.base](net, images, spec, per_channel)
    return lams + [torch.ones(1, dtype=torch.float64)] * (len(net.layers) - len(lams))


def rescale(layers: list[SpikingLayer], lambdas: list[torch.Tensor]) -> list[SpikingLayer]:
    """W_l ← W_l·λ_{l−1}/λ_l, b_l ← b_l/λ_l, θ = 1, and a shortcut's W_s ← W_s·λ_s/λ_l (new layers; inputs
    untouched)."""
    out, prev = [], torch.ones(1, dtype=torch.float64)
    for layer, lam in zip(layers, lambdas):
        per_out = lam.view(-1, *([1] * (layer.weight.ndim - 1)))
        w = (layer.weight.double() * input_scale(layer, prev).double() / per_out).float()
        b = None if layer.bias is None else (layer.bias.double() / lam).float()
        w_s = None
        if layer.shortcut is not None:
            src = lambdas[layer.shortcut["source"]]
            w_s = layer.shortcut_weight.double() * input_scale(layer, src, shortcut=True).double()
            w_s = (w_s / lam.view(-1, *([1] * (w_s.ndim - 1)))).float()
        out.append(
            SpikingLayer(
                dict(layer.op),
                w,
                b,
                torch.ones(layer.n_out),
                [dict(p) for p in layer.pre_ops],
                layer.spiking,
                layer.name,
                None
                if layer.shortcut is None
                else {"source": layer.shortcut["source"], "op": dict(layer.shortcut["op"])},
                w_s,
            )
        )
        prev = lam
    return out
