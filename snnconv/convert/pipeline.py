"""``convert``: ANN + normalization set + norm choice → :class:`SpikingNetwork` (docs/method.md §C1–§C10).

Conversion is three named steps, so the work on the normalization set is shared by every norm of one base:

1. :func:`prepare` folds BN, drops dropout and checks that the θ = 1 network reproduces the ANN;
2. :func:`base_statistics` measures what every norm on one base needs from the data (λ per layer and the
   input-rate statistics ρ of §C6.2) — the only step that runs the network on the normalization set;
3. :func:`build` rescales, sets v_init and applies the optional Lp/uniform adjustment (no data needed).

:func:`convert` chains them; the workflow runs step 2 once per (model, base) (rule ``normalize``) and steps 1
and 3 in each spiking job, which gives bit-identical networks (tests/unit/convert/test_convert_files.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from ..network import SpikingNetwork
from .activations import input_rate_sq_means
from .adjust import adjust_network
from .calibrate import CalibrationSettings, calibrate
from .layers import ParsedModel, parse_model
from .names import NormSpec, parse_norm
from .norms import compute_lambdas, rescale


@dataclass(frozen=True)
class BaseStatistics:
    """What every norm on one base normalization needs from the normalization set (§C10).

    ``lambdas``: λ of every layer (float64, shape (1,) or (channels,); the readout's is 1).
    ``input_rate_sq_means``: E[r²] of every layer's input in the clamped base-normalized rate model (§C6.2);
    v_init does not enter the rate model, so ``max`` and ``max-v0half`` share one record.
    """

    base: str
    lambdas: list[torch.Tensor]
    input_rate_sq_means: list[float]
    per_channel: list[bool]
    n_images: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready record (floats are float64 and round-trip exactly through JSON)."""
        return {
            "base": self.base,
            "lambdas": [[float(v) for v in l.reshape(-1)] for l in self.lambdas],
            "input_rate_sq_means": [float(v) for v in self.input_rate_sq_means],
            "per_channel": [bool(m) for m in self.per_channel],
            "n_images": int(self.n_images),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BaseStatistics:
        """Inverse of :meth:`to_dict`."""
        return cls(
            str(data["base"]),
            [torch.tensor(l, dtype=torch.float64) for l in data["lambdas"]],
            [float(v) for v in data["input_rate_sq_means"]],
            [bool(m) for m in data["per_channel"]],
            int(data["n_images"]),
        )


def _check_images(images: torch.Tensor) -> None:
    """The normalization set must be a non-empty float N×C×H×W batch in [0, 1]."""
    if not isinstance(images, torch.Tensor) or images.ndim != 4 or not images.is_floating_point() or len(images) == 0:
        raise ValueError(
            f"norm_images must be a non-empty float N×C×H×W tensor, got {getattr(images, 'shape', type(images))}"
        )
    if not bool(torch.isfinite(images).all()) or float(images.min()) < 0 or float(images.max()) > 1:
        raise ValueError("norm_images must lie in [0, 1] (pixel = spike probability per step)")


def _check_equivalent(model: nn.Sequential, net: SpikingNetwork, images: torch.Tensor) -> None:
    """Guard: the parsed θ = 1 network must reproduce the ANN's logits on a few images (structural errors only).

    A QCFS network is compared through its ReLU twin (same weights): the θ = 1 rate model has no quantization.
    """
    from ..qcfs import to_relu

    model = to_relu(model).eval()
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


def prepare(
    model: nn.Sequential, norm_images: torch.Tensor, maxpool_to_avgpool: bool
) -> tuple[ParsedModel, SpikingNetwork]:
    """Step 1: the parsed ANN (BN folded, dropout dropped) as a θ = 1 network, checked against the ANN."""
    model.eval()
    _check_images(norm_images)
    parsed = parse_model(model, maxpool_to_avgpool)
    raw = SpikingNetwork(parsed.layers, tuple(norm_images.shape[1:]))
    if parsed.qcfs_lambdas:  # what base qcfs reads (norms.qcfs_lambdas)
        raw.meta = {"qcfs_lambdas": list(parsed.qcfs_lambdas), "qcfs_levels": parsed.qcfs_levels}
    if not parsed.replaced_maxpool:
        _check_equivalent(model, raw, norm_images.float())
    return parsed, raw


def channel_mask(raw: SpikingNetwork, per_channel: bool) -> list[bool]:
    """Which layers get one λ per channel: spiking conv layers when ``per_channel``."""
    return [bool(per_channel and l.spiking and l.op["type"] == "conv2d") for l in raw.layers]


def base_statistics(raw: SpikingNetwork, norm_images: torch.Tensor, base: str, per_channel: bool) -> BaseStatistics:
    """Step 2: λ of base normalization ``base`` (none, max, model, p<q>) and the input-rate statistics of the
    network it gives, from the normalization set (§C2–§C6)."""
    spec = parse_norm(base)
    if spec.name != spec.base_name:
        raise ValueError(f"base_statistics: {base!r} is not a base normalization (none, max, model, p<q>)")
    images = norm_images.float()
    mask = channel_mask(raw, per_channel)
    lambdas = compute_lambdas(spec, raw, images, mask)
    rho = input_rate_sq_means(SpikingNetwork(rescale(raw.layers, lambdas), raw.input_shape), images)
    return BaseStatistics(spec.base_name, lambdas, rho, mask, len(images))


def build(parsed: ParsedModel, raw: SpikingNetwork, spec: NormSpec, stats: BaseStatistics) -> SpikingNetwork:
    """Step 3: rescale by the base's λ, set v_init and apply the optional adjustment (no data needed)."""
    if stats.base != spec.base_name:
        raise ValueError(f"norm {spec.name!r} needs the statistics of base {spec.base_name!r}, got {stats.base!r}")
    if stats.per_channel != channel_mask(raw, any(stats.per_channel)) or len(stats.lambdas) != len(raw.layers):
        raise ValueError(
            f"statistics of base {stats.base!r} were measured on another network ({len(stats.lambdas)} layers, "
            f"per-channel {stats.per_channel}) than this one ({len(raw.layers)} layers)"
        )
    net = SpikingNetwork(rescale(raw.layers, stats.lambdas), raw.input_shape, v_init=spec.v_init)
    adjustment: list[dict[str, Any]] | None = None
    if spec.adjust:
        net, adjustment = adjust_network(net, spec, stats.input_rate_sq_means)
    net.meta = {
        "norm": spec.name,
        "method": spec.method,
        "params": spec.params(),
        "lambdas": [_plain(l) for l in stats.lambdas],
        "adjustment": adjustment,
        "folded_batchnorm": parsed.folded_batchnorm,
        "ann_layers": parsed.ann_layers,
        "ann_module_index": parsed.module_index,
        "per_channel": list(stats.per_channel),
        "maxpool_to_avgpool": parsed.replaced_maxpool,
        "norm_set_size": stats.n_images,
        **({"qcfs_levels": raw.meta.get("qcfs_levels")} if spec.qcfs else {}),
    }
    return net


def calibrate_built(
    net: SpikingNetwork,
    raw: SpikingNetwork,
    stats: BaseStatistics,
    images: torch.Tensor,
    ids: torch.Tensor,
    settings: CalibrationSettings,
) -> SpikingNetwork:
    """Step 4 (norms ending in -calib): light bias calibration of a built network on the calibration set
    ``images`` (keyed in the input stream by ``ids``), against the base-normalized ANN (docs/method.md,
    "Calibration"); the per-layer rate errors and bias shifts go into ``meta["calibration"]``."""
    reference = SpikingNetwork(rescale(raw.layers, stats.lambdas), raw.input_shape)
    out, layers = calibrate(net, reference, images.float(), ids, settings)
    out.meta["calibration"] = {
        "images": len(images),
        "T": settings.T,
        "encoding": settings.encoding,
        "max_rate": settings.max_rate,
        "reset": settings.reset,
        "seed": settings.seed,
        "layers": layers,
    }
    return out


def convert(
    model: nn.Sequential,
    norm_images: torch.Tensor,
    spec: NormSpec,
    *,
    per_channel: bool,
    maxpool_to_avgpool: bool,
    stats: BaseStatistics | None = None,
    calib: CalibrationSettings | None = None,
) -> SpikingNetwork:
    """Fold BN, drop dropout, normalize by ``spec.base``, apply the optional Lp/uniform adjustment and, for a
    ``-calib`` norm, calibrate on the first ``calib.images`` of ``norm_images`` (stream ids 0, 1, ...).

    ``stats`` (from :func:`base_statistics` on the same model, images and ``per_channel``) skips step 2.
    """
    parsed, raw = prepare(model, norm_images, maxpool_to_avgpool)
    if stats is None:
        stats = base_statistics(raw, norm_images, spec.base_name, per_channel)
    net = build(parsed, raw, spec, stats)
    if not spec.calib:
        return net
    if calib is None:
        raise ValueError(f"norm {spec.name!r} calibrates: give the calibration settings (conversion.calib)")
    n = min(calib.images, len(norm_images))
    return calibrate_built(net, raw, stats, norm_images[:n], torch.arange(n), calib)
