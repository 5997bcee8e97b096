"""``convert``: ANN + normalization set + norm choice → :class:`SpikingNetwork` (docs/method.md §C1–§C7)."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ..network import SpikingNetwork
from .activations import input_rate_sq_means
from .adjust import adjust_network
from .layers import parse_model
from .names import NormSpec
from .norms import compute_lambdas, rescale


def _check_images(images: torch.Tensor) -> None:
    """The normalization set must be a non-empty float N×C×H×W batch in [0, 1]."""
    if not isinstance(images, torch.Tensor) or images.ndim != 4 or not images.is_floating_point() or len(images) == 0:
        raise ValueError(
            f"norm_images must be a non-empty float N×C×H×W tensor, got {getattr(images, 'shape', type(images))}"
        )
    if not bool(torch.isfinite(images).all()) or float(images.min()) < 0 or float(images.max()) > 1:
        raise ValueError("norm_images must lie in [0, 1] (pixel = spike probability per step)")


def _check_equivalent(model: nn.Sequential, net: SpikingNetwork, images: torch.Tensor) -> None:
    """Guard: the parsed θ = 1 network must reproduce the ANN's logits on a few images (structural errors only)."""
    with torch.no_grad():
        want, got = model(images[:8]), net.rate_forward(images[:8], clamp=False)[-1]
    if not torch.allclose(got, want, rtol=1e-3, atol=1e-3 * (1 + float(want.abs().max()))):
        raise ValueError(
            "internal error: parsed network differs from the ANN (max |Δ| "
            f"{float((got - want).abs().max()):.3g}); an unsupported module slipped through"
        )


def _plain(lam: torch.Tensor) -> float | list[float]:
    """λ as a float (layer-wise) or a list (per channel)."""
    return float(lam) if lam.numel() == 1 else [float(v) for v in lam]


def convert(
    model: nn.Sequential,
    norm_images: torch.Tensor,
    spec: NormSpec,
    per_channel: bool = False,
    maxpool_to_avgpool: bool = False,
) -> SpikingNetwork:
    """Fold BN, drop dropout, normalize by ``spec.base`` and apply the optional Lp/uniform adjustment."""
    model.eval()
    _check_images(norm_images)
    norm_images = norm_images.float()
    parsed = parse_model(model, maxpool_to_avgpool)
    raw = SpikingNetwork(parsed.layers, tuple(norm_images.shape[1:]))
    if not parsed.replaced_maxpool:
        _check_equivalent(model, raw, norm_images)
    mask = [per_channel and l.spiking and l.op["type"] == "conv2d" for l in raw.layers]
    lambdas = compute_lambdas(spec, raw, norm_images, mask)
    net = SpikingNetwork(rescale(raw.layers, lambdas), raw.input_shape, v_init=spec.v_init)
    adjustment: list[dict[str, Any]] | None = None
    if spec.adjust:
        net, adjustment = adjust_network(net, spec, input_rate_sq_means(net, norm_images))
    net.meta = {
        "norm": spec.name,
        "method": spec.method,
        "params": spec.params(),
        "lambdas": [_plain(l) for l in lambdas],
        "adjustment": adjustment,
        "folded_batchnorm": parsed.folded_batchnorm,
        "ann_layers": parsed.ann_layers,
        "ann_module_index": parsed.module_index,
        "per_channel": [bool(m) for m in mask],
        "maxpool_to_avgpool": parsed.replaced_maxpool,
        "norm_set_size": len(norm_images),
    }
    return net
