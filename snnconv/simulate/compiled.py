"""The compiled simulation step: one time step of the whole network as one ``torch.compile``d function (§S4).

Per step, :func:`network_step` computes the input spikes from the counter stream, then for every layer its
input current, the IF update, the spikes and the reset, and finally the readout, the number of correct
predictions and every layer's spike count. Inductor fuses the elementwise work around each GEMM/convolution
(C++ with OpenMP on the CPU, Triton on CUDA): the stream is hashed and compared where the first layer reads
its input, and bias → membrane → threshold → reset → spikes → count is one pass.

No recompilation per step: the step number is a device tensor that the step increments itself, the network's
structure is a tuple of constants (:class:`StepPlan`), weights and state are arguments, and the batch
dimension is marked dynamic when batches differ in size. Everything stays on the device: no host sync per step.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from typing import Any, NamedTuple

import torch
import torch.nn.functional as F

from ..network import SpikingNetwork
from .ops import square
from .stream import spikes_at

log = logging.getLogger("snnconv.simulate")

COMPILE_SETTINGS = ("auto", "true", "false")
# `auto` compiles a simulation of at least this many neuron updates (images × steps × neurons per image), where the
# time compiling saves covers the compile. The saving is elementwise work, so it scales with neurons, not with
# multiply-accumulates. Measured (docs/benchmarks.md, "Compiled step and counter stream"): 12–29 ps saved per neuron
# update on an H200 against 3–7 s of compiling; 0.4–2.3 ns on a 2-core CPU against 10–30 s cold (a conv-bound net
# like the paper's VGG gains nothing on the CPU either way, ±3 %).
AUTO_MIN_NEURON_STEPS = {"cpu": 5e10, "cuda": 1e12}
RECOMPILE_LIMIT = 64  # distinct network structures compiled in one process (tests simulate many small nets)


class LayerPlan(NamedTuple):
    """The static structure of one layer: what the compiled step specializes on."""

    op: str  # conv2d | linear
    conv: tuple[Any, ...]  # (stride, padding, dilation, groups) of a conv2d
    pre_ops: tuple[tuple[Any, ...], ...]  # ("avgpool", kernel, stride, padding) or ("flatten",)
    spiking: bool
    shortcut: tuple[Any, ...] | None = None  # (source layer, op, conv params) of a residual add; weight at L + l


class StepPlan(NamedTuple):
    """The static structure of a simulation: layers, encoding, reset and decoding."""

    layers: tuple[LayerPlan, ...]
    encoding: str
    reset: str
    decode: str
    input_shape: tuple[int, ...]
    input_nhwc: bool  # the stream's words are stored in (H, W, C) order: the first conv reads channels-last input


def _hashable(v: Any) -> Any:
    """Lists (as converted layers store kernel sizes) as tuples."""
    return tuple(_hashable(x) for x in v) if isinstance(v, (list, tuple)) else v


def make_plan(net: SpikingNetwork, encoding: str, reset: str, decode: str, input_nhwc: bool = False) -> StepPlan:
    """The :class:`StepPlan` of a network and simulation settings."""
    layers = []
    for layer in net.layers:
        op = layer.op
        conv = tuple(
            _hashable(op.get(k, d)) for k, d in (("stride", 1), ("padding", 0), ("dilation", 1), ("groups", 1))
        )
        pre = tuple(
            ("flatten",)
            if p["type"] == "flatten"
            else (
                "avgpool",
                _hashable(p["kernel_size"]),
                _hashable(p.get("stride") or p["kernel_size"]),
                _hashable(p.get("padding", 0)),
            )
            for p in layer.pre_ops
        )
        shortcut = None
        if layer.shortcut is not None:
            sop = layer.shortcut["op"]
            sconv = tuple(
                _hashable(sop.get(k, d)) for k, d in (("stride", 1), ("padding", 0), ("dilation", 1), ("groups", 1))
            )
            shortcut = (int(layer.shortcut["source"]), sop["type"], sconv)
        layers.append(LayerPlan(op["type"], conv, pre, bool(layer.spiking), shortcut))
    nhwc = bool(input_nhwc and len(net.input_shape) == 3)
    return StepPlan(tuple(layers), encoding, reset, decode, tuple(net.input_shape), nhwc)


def to_nhwc(words: torch.Tensor, input_shape: tuple[int, ...]) -> torch.Tensor:
    """Per-pixel words (B, C·H·W) in NCHW order rearranged into (B, H·W·C) order (a copy)."""
    c, h, w = input_shape
    return words.view(-1, c, h, w).permute(0, 2, 3, 1).reshape(len(words), -1)


def _input(plan: StepPlan, spikes: torch.Tensor) -> torch.Tensor:
    """The spikes of one step shaped as the network's input: (B, C, H, W) in the stored order, or (B, n)."""
    if plan.input_nhwc:
        c, h, w = plan.input_shape
        return spikes.view(-1, h, w, c).permute(0, 3, 1, 2)
    return spikes.view(-1, *plan.input_shape)


def _tiling_pool(lp: LayerPlan, shape: torch.Size) -> int:
    """k if ``lp`` starts with a k×k, stride-k, unpadded average pool that tiles a (B, C, H, W) map exactly, else 0."""
    if not lp.pre_ops or lp.pre_ops[0][0] != "avgpool" or len(shape) != 4:
        return 0
    k, stride, pad = (square(v) for v in lp.pre_ops[0][1:])
    ok = isinstance(k, int) and stride == k and pad == 0 and shape[2] % k == 0 and shape[3] % k == 0
    return k if ok else 0


def _current(lp: LayerPlan, x: torch.Tensor, w: torch.Tensor, b: torch.Tensor | None, skip: int = 0) -> torch.Tensor:
    """A layer's input current from the previous layer's output (the same calls as ``SpikingLayer.current``);
    the first ``skip`` pre-ops were already applied."""
    for pre in lp.pre_ops[skip:]:
        x = torch.flatten(x, 1) if pre[0] == "flatten" else F.avg_pool2d(x, pre[1], pre[2], pre[3])
    if lp.op == "linear":
        return F.linear(x, w, b)
    return F.conv2d(x, w, b, *lp.conv)


def network_step(
    plan: StepPlan,
    t: torch.Tensor,
    source: list[torch.Tensor],
    weights: list[torch.Tensor],
    biases: list[torch.Tensor | None],
    thresholds: list[torch.Tensor],
    v: list[torch.Tensor],
    readout: torch.Tensor,
    activity: torch.Tensor,
    labels: torch.Tensor,
) -> torch.Tensor:
    """Advance one step, in place: ``t`` (0-d int32) += 1, membranes ``v``, the readout and ``activity``.

    ``source`` is (base, limit, r) of the counter stream for Poisson input, or (first layer's current, input)
    for constant input. ``weights`` holds the L layers' weights, then per layer its shortcut's weight (or None).
    Returns int64 [correct predictions, spikes of each recorded layer] of this step.
    """
    t.add_(1)
    dtype = readout.dtype
    x = None
    if plan.encoding == "poisson":
        base, limit, r = source
        x = _input(plan, spikes_at(t, base, limit, r).to(dtype))
    last = len(plan.layers) - 1
    counts = []
    outs: list[torch.Tensor] = []  # this step's spikes of every layer so far (shortcut sources), before pooling
    skip = 0  # pre-ops of this layer already applied by the layer before it
    for l, lp in enumerate(plan.layers):
        membrane_readout = l == last and plan.decode == "membrane"
        cur = source[0] if x is None else _current(lp, x, weights[l], biases[l], skip)
        if lp.shortcut is not None:  # the add node: the shortcut's current into the same neurons
            src, sop, sconv = lp.shortcut
            w_s = weights[len(plan.layers) + l]
            cur = cur + (F.linear(outs[src], w_s) if sop == "linear" else F.conv2d(outs[src], w_s, None, *sconv))
        if membrane_readout:
            into = source[1] if x is None else x  # the readout's input: spikes, or the constant input itself
            activity.add_(into.reshape(len(into), -1).sum(1).to(activity.dtype))
            readout.add_(cur)
            break
        th = thresholds[l]
        v[l].add_(cur)
        spikes = v[l] >= th
        if plan.reset == "subtract":
            v[l].sub_(spikes.to(dtype) * th)
        else:
            v[l].masked_fill_(spikes, 0.0)
        x = spikes.to(dtype)
        outs.append(x)
        skip = 0
        if l == last:
            counts.append(spikes.sum(dtype=torch.int32).to(torch.int64))
            activity.add_(spikes.reshape(len(spikes), -1).sum(1).to(activity.dtype))
            readout.add_(x)
        elif (k := _tiling_pool(plan.layers[l + 1], x.shape)) > 0:
            # the next layer's first op is a k×k pool that tiles the map: count the spikes from the pooled map (each
            # value is a multiple of 1/k², exact), so the count is a sum over 1/k² of the data, in the pool's pass
            x = F.avg_pool2d(x, k, k, 0)
            counts.append((x * (k * k)).round().to(torch.int32).sum(dtype=torch.int32).to(torch.int64))
            skip = 1
        else:
            counts.append(spikes.sum(dtype=torch.int32).to(torch.int64))  # int32: vectorises; < 2^31 per step
    correct = (readout.argmax(-1) == labels).sum(dtype=torch.int64)
    return torch.stack([correct, *counts])


def wants_compile(setting: str | bool, device: torch.device, neurons: int, n_images: int, T: int) -> tuple[bool, str]:
    """Whether to compile, and why: ``true``/``false`` as set; ``auto`` when there are enough neuron updates
    (``neurons`` per image and step × images × T) for the compile to pay (:data:`AUTO_MIN_NEURON_STEPS`)."""
    setting = str(setting).lower()
    if setting not in COMPILE_SETTINGS:
        raise ValueError(f"simulation.compile must be one of {COMPILE_SETTINGS}, got {setting!r}")
    if setting != "auto":
        return setting == "true", f"compile: {setting}"
    work = float(neurons) * n_images * T
    floor = AUTO_MIN_NEURON_STEPS.get(device.type, math.inf)
    verdict = work >= floor
    return verdict, f"compile: auto, {work:.2g} neuron updates {'>=' if verdict else '<'} {floor:.2g} on {device.type}"


_COMPILED: Callable[..., torch.Tensor] | None = None


def compiled_step() -> Callable[..., torch.Tensor]:
    """The process-wide ``torch.compile(network_step)``: one cache of compiled code, keyed by plan and shapes."""
    global _COMPILED
    if _COMPILED is None:
        config = torch._dynamo.config
        key = "recompile_limit" if hasattr(config, "recompile_limit") else "cache_size_limit"  # older torch
        setattr(config, key, max(getattr(config, key), RECOMPILE_LIMIT))
        _COMPILED = torch.compile(network_step, fullgraph=True)
    return _COMPILED


class StepRunner:
    """Runs :func:`network_step` compiled, or eagerly where compiling failed under ``auto`` (one log line)."""

    def __init__(self, plan: StepPlan, strict: bool, dynamic_batch: bool) -> None:
        self.plan, self.strict, self.dynamic_batch = plan, strict, dynamic_batch
        self.fn: Callable[..., torch.Tensor] = compiled_step()
        self.compiled = True
        self.compile_seconds = 0.0
        self._warm = False

    def _mark(self, args: tuple[Any, ...]) -> None:
        """Mark the batch dimension of every per-sample tensor dynamic (batches of several sizes, one compile)."""
        _, _, source, _, _, _, v, readout, activity, labels = args
        for x in (*source, *v, readout, activity, labels):
            torch._dynamo.maybe_mark_dynamic(x, 0)

    def warm_up(self, args: tuple[Any, ...]) -> None:
        """Compile on copies of the state (timed), so a failure leaves the run's state untouched."""
        if self._warm:
            return
        self._warm = True
        plan, t, source, weights, biases, thresholds, v, readout, activity, labels = args
        copies = (plan, t.clone(), source, weights, biases, thresholds, [x.clone() for x in v])
        copies += (readout.clone(), activity.clone(), labels)
        if self.dynamic_batch:
            self._mark(copies)
        start = time.perf_counter()
        try:
            self.fn(*copies)
        except Exception as exc:  # no working compiler (or an op inductor cannot lower): eager, said once
            if self.strict:
                raise RuntimeError(f"simulation.compile is true but torch.compile failed: {exc}") from exc
            log.warning("torch.compile unavailable (%s: %s); simulating eagerly", type(exc).__name__, exc)
            self.fn, self.compiled = network_step, False
        self.compile_seconds = time.perf_counter() - start

    def __call__(self, *args: Any) -> torch.Tensor:
        """One step (compiling on the first call)."""
        self.warm_up(args)
        if self.dynamic_batch and self.compiled:
            self._mark(args)
        return self.fn(*args)
