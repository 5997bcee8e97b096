"""The converted spiking network: a plain, safely loadable description shared by conversion and simulation.

A :class:`SpikingNetwork` is a list of :class:`SpikingLayer`. Each layer applies its parameter-free
``pre_ops`` (average pooling, flatten) to the previous layer's spikes, then one weighted ``op``
(conv2d or linear) with optional bias, and feeds the result as input current to integrate-and-fire
neurons with per-neuron thresholds. The last layer is normally non-spiking (its membrane potential
is accumulated and decoded). See docs/method.md, section "The converted network".
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from .atomic import atomic_path

FORMAT_VERSION = 1
PRE_OP_TYPES = ("avgpool", "flatten")
OP_TYPES = ("conv2d", "linear")


@dataclass
class SpikingLayer:
    """One weighted layer followed by integrate-and-fire neurons (or a non-spiking readout)."""

    op: dict[str, Any]
    weight: torch.Tensor
    bias: torch.Tensor | None
    threshold: torch.Tensor
    pre_ops: list[dict[str, Any]] = field(default_factory=list)
    spiking: bool = True
    name: str = ""

    def __post_init__(self) -> None:
        if self.op.get("type") not in OP_TYPES:
            raise ValueError(f"layer {self.name!r}: op type {self.op.get('type')!r} not in {OP_TYPES}")
        for pre in self.pre_ops:
            if pre.get("type") not in PRE_OP_TYPES:
                raise ValueError(f"layer {self.name!r}: pre-op type {pre.get('type')!r} not in {PRE_OP_TYPES}")
        if self.threshold.ndim != 1 or self.threshold.numel() != self.weight.shape[0]:
            raise ValueError(
                f"layer {self.name!r}: threshold must have one entry per output neuron/channel "
                f"({self.weight.shape[0]}), got shape {tuple(self.threshold.shape)}"
            )
        if not bool(torch.all(self.threshold > 0)):
            raise ValueError(f"layer {self.name!r}: thresholds must be positive")

    @property
    def n_out(self) -> int:
        """Output neurons (linear) or channels (conv2d)."""
        return int(self.weight.shape[0])

    def apply_pre_ops(self, x: torch.Tensor) -> torch.Tensor:
        """Apply pooling/flatten to a batch of inputs (spikes or rates); linear, so exact on spikes."""
        for pre in self.pre_ops:
            if pre["type"] == "avgpool":
                x = F.avg_pool2d(x, pre["kernel_size"], pre.get("stride") or pre["kernel_size"], pre.get("padding", 0))
            else:
                x = torch.flatten(x, 1)
        return x

    def apply_op(self, x: torch.Tensor, weight: torch.Tensor | None = None, bias: bool = True) -> torch.Tensor:
        """The weighted op on an already pre-processed batch (``weight`` overrides, e.g. squared weights)."""
        w = self.weight if weight is None else weight
        b = self.bias if bias else None
        if self.op["type"] == "linear":
            return F.linear(x, w, b)
        return F.conv2d(
            x,
            w,
            b,
            self.op.get("stride", 1),
            self.op.get("padding", 0),
            self.op.get("dilation", 1),
            self.op.get("groups", 1),
        )

    def current(self, x: torch.Tensor) -> torch.Tensor:
        """Input current to this layer's neurons for a batch of previous-layer outputs."""
        return self.apply_op(self.apply_pre_ops(x))

    def threshold_view(self, ndim: int) -> torch.Tensor:
        """Threshold reshaped to broadcast against a (batch, channel, ...) tensor of ``ndim`` dims."""
        return self.threshold.view(-1, *([1] * (ndim - 2)))

    def to(self, device: torch.device | str, dtype: torch.dtype | None = None) -> SpikingLayer:
        """Copy of the layer on another device/dtype."""

        def move(t: torch.Tensor | None) -> torch.Tensor | None:
            return None if t is None else t.to(device=device, dtype=dtype or t.dtype)

        return SpikingLayer(
            copy.deepcopy(self.op),
            move(self.weight),
            move(self.bias),
            move(self.threshold),
            copy.deepcopy(self.pre_ops),
            self.spiking,
            self.name,
        )


@dataclass
class SpikingNetwork:
    """A converted network: layers, input shape, initial membrane fraction and conversion metadata."""

    layers: list[SpikingLayer]
    input_shape: tuple[int, ...]
    v_init: float = 0.0
    meta: dict[str, Any] = field(default_factory=dict)

    def rate_forward(self, x: torch.Tensor, clamp: bool = True) -> list[torch.Tensor]:
        """The equivalent ANN ("rate model"): each spiking layer outputs relu(current/θ) (clamped at 1).

        Returns every layer's output; the last is the readout's raw current. This is what spike
        rates converge to for constant input, reset by subtraction and large T (docs/method.md).
        """
        outs = []
        for layer in self.layers:
            z = layer.current(x)
            if layer.spiking:
                z = torch.relu(z / layer.threshold_view(z.ndim))
                if clamp:
                    z = z.clamp(max=1.0)
            outs.append(z)
            x = z
        return outs

    def to(self, device: torch.device | str, dtype: torch.dtype | None = None) -> SpikingNetwork:
        """Copy of the network on another device/dtype."""
        return SpikingNetwork(
            [l.to(device, dtype) for l in self.layers], tuple(self.input_shape), self.v_init, copy.deepcopy(self.meta)
        )


def network_to_dict(net: SpikingNetwork) -> dict[str, Any]:
    """Plain dict of tensors and builtins, loadable with ``torch.load(weights_only=True)``."""
    return {
        "format_version": FORMAT_VERSION,
        "input_shape": list(net.input_shape),
        "v_init": float(net.v_init),
        "meta": net.meta,
        "layers": [
            {
                "name": l.name,
                "op": l.op,
                "pre_ops": l.pre_ops,
                "spiking": l.spiking,
                "weight": l.weight.detach().cpu(),
                "bias": None if l.bias is None else l.bias.detach().cpu(),
                "threshold": l.threshold.detach().cpu(),
            }
            for l in net.layers
        ],
    }


def network_from_dict(data: dict[str, Any]) -> SpikingNetwork:
    """Inverse of :func:`network_to_dict`, with format checks."""
    if data.get("format_version") != FORMAT_VERSION:
        raise ValueError(f"unsupported spiking-network format version {data.get('format_version')!r}")
    layers = [
        SpikingLayer(
            op=d["op"],
            weight=d["weight"],
            bias=d["bias"],
            threshold=d["threshold"],
            pre_ops=list(d["pre_ops"]),
            spiking=bool(d["spiking"]),
            name=d["name"],
        )
        for d in data["layers"]
    ]
    return SpikingNetwork(layers, tuple(data["input_shape"]), float(data["v_init"]), dict(data["meta"]))


def save_network(net: SpikingNetwork, path: str | Path) -> None:
    """Save atomically as a weights-only torch file (refusing non-finite parameters, which no loader accepts)."""
    check_finite(net, path)
    with atomic_path(path) as tmp:
        torch.save(network_to_dict(net), tmp)


def load_network(path: str | Path) -> SpikingNetwork:
    """Load a network saved by :func:`save_network`; never unpickles arbitrary objects."""
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # truncated or foreign file
        raise ValueError(f"{path}: not a readable spiking-network file ({exc})") from exc
    if not isinstance(data, dict):
        raise ValueError(f"{path}: not a spiking-network file (holds a {type(data).__name__}, not a dict)")
    try:
        net = network_from_dict(data)
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"{path}: malformed spiking-network file (missing or wrong {exc})") from exc
    except ValueError as exc:  # bad version, op type or thresholds: name the file too
        raise ValueError(f"{path}: {exc}") from exc
    check_finite(net, path)  # a tampered file must not simulate to silent garbage
    return net


def check_finite(net: SpikingNetwork, label: str | Path) -> None:
    """ValueError naming ``label`` and the layer if any weight, bias or threshold is NaN/inf."""
    for i, layer in enumerate(net.layers):
        for what, t in (("weight", layer.weight), ("bias", layer.bias), ("threshold", layer.threshold)):
            if t is not None and not bool(torch.isfinite(t).all()):
                raise ValueError(f"{label}: layer {i} ({layer.name!r}) {what} contains NaN/inf")
