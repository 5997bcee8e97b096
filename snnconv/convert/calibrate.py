"""Light calibration (Li et al. 2021, "bias correction") of a converted network (docs/method.md, "Calibration").

After conversion, layer by layer in order, the SNN and the ANN run on a calibration set drawn from the
normalization set (never the test set). For spiking layer l the SNN's firing rate r_l (spikes / T_cal, every
earlier layer already calibrated) is compared with the ANN's activation in the converted units, clipped to the
layer's scale: a_l = clip(ANN activation / λ_l, 0, 1), which is the clamped rate model of the base-normalized
network on the same input. Each output channel (conv) or neuron (linear) gets

    b_l,j ← b_l,j + θ_l,j · mean(a_l,j − r_l,j)

(mean over images and, for conv, positions): with reset by subtraction the rate follows current/θ, so a bias
shift of Δ·θ raises the rate by about Δ. The readout is not calibrated. The workflow's params for it come from
the torch-free :func:`snnconv.workflow.settings.calibration`.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from typing import Any

import torch

from ..network import SpikingLayer, SpikingNetwork
from ..simulate.encoding import make_encoder
from ..simulate.neurons import if_scan, initial_membrane

log = logging.getLogger("snnconv.convert")

SETTINGS_KEYS = ("images", "T", "encoding", "max_rate", "reset", "seed")
BUFFER_BYTES = 64 << 20  # float32 currents of one batch × T_cal steps of the widest layer


@dataclass(frozen=True)
class CalibrationSettings:
    """What one calibration needs: set size, horizon T_cal, and the simulation's input stream and neuron model."""

    images: int
    T: int
    encoding: str
    max_rate: float
    reset: str
    seed: int

    @classmethod
    def from_dict(cls, cfg: dict[str, Any]) -> CalibrationSettings:
        """Checked settings; ValueError names the key and value."""
        missing = [k for k in SETTINGS_KEYS if k not in cfg]
        if missing:
            raise ValueError(f"calibration settings lack {missing} (got {sorted(cfg)})")
        for key in ("images", "T"):
            v = cfg[key]
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"conversion.calib.{key} must be a positive integer, got {v!r}")
        if cfg["encoding"] not in ("poisson", "constant"):
            raise ValueError(f"calibration encoding {cfg['encoding']!r} not in ('poisson', 'constant')")
        if cfg["reset"] not in ("subtract", "zero"):
            raise ValueError(f"calibration reset {cfg['reset']!r} not in ('subtract', 'zero')")
        if not 0 < float(cfg["max_rate"]) <= 1:
            raise ValueError(f"calibration max_rate must lie in (0, 1], got {cfg['max_rate']!r}")
        return cls(
            int(cfg["images"]),
            int(cfg["T"]),
            str(cfg["encoding"]),
            float(cfg["max_rate"]),
            str(cfg["reset"]),
            int(cfg["seed"]),
        )


def _batch_size(net: SpikingNetwork, images: torch.Tensor, T: int) -> int:
    """Images per batch so that T_cal steps of the widest layer's currents stay near BUFFER_BYTES."""
    with torch.no_grad():
        widest = max(o[0].numel() for o in net.rate_forward(images[:1], clamp=False))
    return max(1, min(len(images), BUFFER_BYTES // (4 * T * widest)))


def _channel_mean(x: torch.Tensor) -> tuple[torch.Tensor, int]:
    """Sum over every dim but the channel (dim 1) and how many values each channel's sum holds."""
    dims = [d for d in range(x.ndim) if d != 1]
    return x.double().sum(dim=dims), x.numel() // x.shape[1]


def spike_rates(
    net: SpikingNetwork, images: torch.Tensor, ids: torch.Tensor, layer: int, settings: CalibrationSettings
) -> torch.Tensor:
    """Per-channel mean firing rate (spikes / T_cal) of spiking layer ``layer`` on ``images`` (§ Calibration).

    Layers 0..layer run as IF neurons with the simulation's reset and initial membrane, fed by the simulation's
    encoding keyed by (seed, image id, t, pixel), all T_cal steps of a batch at once.
    """
    sums, count = torch.zeros(net.layers[layer].n_out, dtype=torch.float64), 0
    bs = _batch_size(net, images, settings.T)
    sources = net.shortcut_sources()
    with torch.no_grad():
        for lo in range(0, len(images), bs):
            x = images[lo : lo + bs]
            enc = make_encoder(
                settings.encoding,
                x,
                seed=settings.seed,
                image_ids=ids[lo : lo + bs],
                max_rate=settings.max_rate,
                device="cpu",
                dtype=torch.float32,
            )
            s = enc.block(settings.T)  # (T, B, ...)
            kept: dict[int, torch.Tensor] = {}  # spike trains of the layers that feed a later shortcut
            for l in range(layer + 1):
                spk = net.layers[l]
                cur = spk.apply_op(spk.apply_pre_ops(s.reshape(-1, *s.shape[2:])))
                if spk.shortcut is not None:  # a block output: the shortcut's current joins the main branch's
                    src = kept[spk.shortcut["source"]]
                    cur = cur + spk.apply_shortcut(src.reshape(-1, *src.shape[2:]))
                cur = cur.reshape(settings.T, len(x), *cur.shape[1:]).contiguous()
                th = spk.threshold_view(cur.ndim - 1)
                v = initial_membrane(th, tuple(cur.shape[1:]), net.v_init)
                s = if_scan(cur, v, th, settings.reset)
                if l in sources:
                    kept[l] = s
            total, n = _channel_mean(s.mean(dim=0))
            sums += total
            count += n
    return sums / count


def target_rates(reference: SpikingNetwork, images: torch.Tensor, layer: int, max_rate: float) -> torch.Tensor:
    """Per-channel mean of the ANN activation in converted units clipped to [0, 1] (the base-normalized, θ = 1
    network's clamped rate model on the input the SNN encodes, pixel · max_rate)."""
    sums, count = torch.zeros(reference.layers[layer].n_out, dtype=torch.float64), 0
    with torch.no_grad():
        for lo in range(0, len(images), 256):
            outs = reference.rate_forward((images[lo : lo + 256] * max_rate).clamp(0, 1), clamp=True)
            total, n = _channel_mean(outs[layer])
            sums += total
            count += n
    return sums / count


def _with_bias(layer: SpikingLayer, bias: torch.Tensor) -> SpikingLayer:
    """A copy of ``layer`` with another bias (its shortcut, if any, kept)."""
    return dataclasses.replace(layer, bias=bias.float())


def calibrate(
    net: SpikingNetwork,
    reference: SpikingNetwork,
    images: torch.Tensor,
    ids: torch.Tensor,
    settings: CalibrationSettings,
) -> tuple[SpikingNetwork, list[dict[str, Any]]]:
    """Light calibration of every spiking layer of ``net`` in order; returns the new network and per layer the
    rate error it corrected (mean and mean |·| over channels, measured with the earlier layers already calibrated)
    and the bias shift (:func:`rate_errors` measures the error left afterwards).

    ``reference`` is the base-normalized θ = 1 network (before any adjustment): its clamped rate model is the
    target. ``images`` (calibration set, [0, 1]) are keyed in the input stream by ``ids``.
    """
    if len(reference.layers) != len(net.layers):
        raise ValueError("calibration: the reference network has another number of layers")
    layers, summary = list(net.layers), []
    for l, layer in enumerate(net.layers):
        if not layer.spiking:
            continue
        current = SpikingNetwork(layers, tuple(net.input_shape), net.v_init, dict(net.meta))
        target = target_rates(reference, images, l, settings.max_rate)
        error = target - spike_rates(current, images, ids, l, settings)
        shift = error * layer.threshold.double()
        old = torch.zeros(layer.n_out, dtype=torch.float64) if layer.bias is None else layer.bias.double()
        layers[l] = _with_bias(layer, old + shift)
        summary.append(
            {
                "layer": l,
                "name": layer.name,
                "mean_abs_rate_error": float(error.abs().mean()),
                "mean_rate_error": float(error.mean()),
                "bias_shift": {"min": float(shift.min()), "max": float(shift.max()), "mean": float(shift.mean())},
            }
        )
        log.info("calibrated %s: mean |rate error| %.4f", layer.name, summary[-1]["mean_abs_rate_error"])
    return SpikingNetwork(layers, tuple(net.input_shape), net.v_init, dict(net.meta)), summary


def rate_errors(
    net: SpikingNetwork,
    reference: SpikingNetwork,
    images: torch.Tensor,
    ids: torch.Tensor,
    settings: CalibrationSettings,
) -> list[float]:
    """Mean |per-channel rate error| of every spiking layer of ``net`` (the measure calibration lowers)."""
    return [
        float(
            (target_rates(reference, images, l, settings.max_rate) - spike_rates(net, images, ids, l, settings))
            .abs()
            .mean()
        )
        for l, layer in enumerate(net.layers)
        if layer.spiking
    ]
