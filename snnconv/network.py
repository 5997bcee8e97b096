"""The converted spiking network: a plain, safely loadable description shared by conversion and simulation.

A :class:`SpikingNetwork` is a list of :class:`SpikingLayer`. Each layer applies its parameter-free
``pre_ops`` (average pooling, flatten) to the previous layer's spikes, then one weighted ``op``
(conv2d or linear) with optional bias, and feeds the result as input current to integrate-and-fire
neurons with per-neuron thresholds. The last layer is normally non-spiking (its membrane potential
is accumulated and decoded). See docs/method.md, section "The converted network".

A layer of a residual network also has a ``shortcut``: the output of an earlier layer (``source``) goes through
one more weighted op (a 1×1 convolution, identity shortcuts included as an identity kernel) whose current is
added to the main branch's current into the same neurons; this is the add node of a residual block
(docs/method.md, section "Residual networks").
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
RESIDUAL_FORMAT_VERSION = 2  # written only by networks with a shortcut, so an older reader refuses them
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
    shortcut: dict[str, Any] | None = None  # {"source": earlier layer index, "op": conv2d/linear op dict}
    shortcut_weight: torch.Tensor | None = None

    def __post_init__(self) -> None:
        if self.op.get("type") not in OP_TYPES:
            raise ValueError(f"layer {self.name!r}: op type {self.op.get('type')!r} not in {OP_TYPES}")
        self._check_shortcut()
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

    def _check_shortcut(self) -> None:
        """A shortcut needs a source index, a conv2d/linear op and a weight with one row per output channel."""
        if self.shortcut is None:
            if self.shortcut_weight is not None:
                raise ValueError(f"layer {self.name!r}: a shortcut weight without a shortcut")
            return
        op = self.shortcut.get("op") or {}
        if not isinstance(self.shortcut.get("source"), int) or op.get("type") not in OP_TYPES:
            raise ValueError(
                f"layer {self.name!r}: shortcut must be {{'source': int, 'op': {{'type': one of {OP_TYPES}}}}}, "
                f"got {self.shortcut!r}"
            )
        if self.shortcut_weight is None or self.shortcut_weight.shape[0] != self.weight.shape[0]:
            got = None if self.shortcut_weight is None else tuple(self.shortcut_weight.shape)
            raise ValueError(
                f"layer {self.name!r}: shortcut weight must have {self.weight.shape[0]} output rows, got shape {got}"
            )

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
        return weighted_op(self.op, x, w, self.bias if bias else None)

    def apply_shortcut(self, source_out: torch.Tensor, weight: torch.Tensor | None = None) -> torch.Tensor:
        """The shortcut's current for a batch of its source layer's outputs (no bias: it is in the main bias)."""
        assert self.shortcut is not None, "apply_shortcut on a layer without a shortcut"
        w = self.shortcut_weight if weight is None else weight
        return weighted_op(self.shortcut["op"], source_out, w, None)

    def current(self, x: torch.Tensor, outputs: list[torch.Tensor] | None = None) -> torch.Tensor:
        """Input current to this layer's neurons for a batch of previous-layer outputs; a layer with a shortcut
        also needs ``outputs``, every earlier layer's output, to add its shortcut's current."""
        z = self.apply_op(self.apply_pre_ops(x))
        if self.shortcut is not None:
            if outputs is None:
                raise ValueError(f"layer {self.name!r} has a shortcut: its current needs the earlier layers' outputs")
            z = z + self.apply_shortcut(outputs[self.shortcut["source"]])
        return z

    def input_weight_rows(self) -> torch.Tensor:
        """Every weight into each output neuron/channel, shape (n_out, fan-in): main branch, then shortcut."""
        rows = self.weight.flatten(1)
        if self.shortcut_weight is not None:
            rows = torch.cat([rows, self.shortcut_weight.flatten(1).to(rows)], dim=1)
        return rows

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
            copy.deepcopy(self.shortcut),
            move(self.shortcut_weight),
        )


def weighted_op(op: dict[str, Any], x: torch.Tensor, w: torch.Tensor, b: torch.Tensor | None) -> torch.Tensor:
    """A conv2d or linear op described by ``op`` applied to ``x``."""
    if op["type"] == "linear":
        return F.linear(x, w, b)
    return F.conv2d(x, w, b, op.get("stride", 1), op.get("padding", 0), op.get("dilation", 1), op.get("groups", 1))


@dataclass
class SpikingNetwork:
    """A converted network: layers, input shape, initial membrane fraction and conversion metadata."""

    layers: list[SpikingLayer]
    input_shape: tuple[int, ...]
    v_init: float = 0.0
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for l, layer in enumerate(self.layers):
            if layer.shortcut is None:
                continue
            src = layer.shortcut["source"]
            if not 0 <= src < l or not self.layers[src].spiking:
                raise ValueError(
                    f"layer {l} ({layer.name!r}): shortcut source {src} must be an earlier spiking layer (0..{l - 1})"
                )

    @property
    def residual(self) -> bool:
        """True when some layer has a shortcut (a residual network)."""
        return any(layer.shortcut is not None for layer in self.layers)

    def shortcut_sources(self) -> set[int]:
        """Indices of the layers whose outputs feed a shortcut."""
        return {layer.shortcut["source"] for layer in self.layers if layer.shortcut is not None}

    def rate_forward(self, x: torch.Tensor, clamp: bool = True) -> list[torch.Tensor]:
        """The equivalent ANN ("rate model"): each spiking layer outputs relu(current/θ) (clamped at 1).

        Returns every layer's output; the last is the readout's raw current. This is what spike
        rates converge to for constant input, reset by subtraction and large T (docs/method.md).
        """
        outs: list[torch.Tensor] = []
        for layer in self.layers:
            z = layer.current(x, outs)
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
        "format_version": RESIDUAL_FORMAT_VERSION if net.residual else FORMAT_VERSION,
        "input_shape": list(net.input_shape),
        "v_init": float(net.v_init),
        "meta": net.meta,
        "layers": [_layer_dict(l) for l in net.layers],
    }


def _layer_dict(l: SpikingLayer) -> dict[str, Any]:
    """One layer as plain data; the shortcut keys only where the layer has one."""
    d = {
        "name": l.name,
        "op": l.op,
        "pre_ops": l.pre_ops,
        "spiking": l.spiking,
        "weight": l.weight.detach().cpu(),
        "bias": None if l.bias is None else l.bias.detach().cpu(),
        "threshold": l.threshold.detach().cpu(),
    }
    if l.shortcut is not None:
        d["shortcut"] = l.shortcut
        d["shortcut_weight"] = l.shortcut_weight.detach().cpu()
    return d


def network_from_dict(data: dict[str, Any]) -> SpikingNetwork:
    """Inverse of :func:`network_to_dict`, with format checks."""
    if data.get("format_version") not in (FORMAT_VERSION, RESIDUAL_FORMAT_VERSION):
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
            shortcut=d.get("shortcut"),
            shortcut_weight=d.get("shortcut_weight"),
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
        tensors = (("weight", layer.weight), ("bias", layer.bias), ("threshold", layer.threshold))
        for what, t in (*tensors, ("shortcut weight", layer.shortcut_weight)):
            if t is not None and not bool(torch.isfinite(t).all()):
                raise ValueError(f"{label}: layer {i} ({layer.name!r}) {what} contains NaN/inf")
