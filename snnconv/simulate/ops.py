"""The weighted ops applied to stacks of spikes, made cheaper without changing a bit (docs/method.md §S4).

Layout: on the CPU, conv layers run channels-last (N, H, W, C in memory; measured faster for the
convolutions and pools of spike stacks, docs/benchmarks.md), with their weights converted once by
:func:`prepare_layers`. Call size: conv layers get at most :data:`CONV_CALL_BYTES` of output per call
(:func:`steps_per_call`); one huge stacked call is memory-bound.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..network import SpikingLayer, SpikingNetwork
from .workspace import Workspace

CONV_CALL_BYTES = 32 << 20  # largest conv output per op call (measured: docs/benchmarks.md §0, "Conv call size")


def is_nhwc(x: torch.Tensor) -> bool:
    """True for a 4-d tensor with channels-last strides (C = 1 only if its channel stride says so)."""
    if x.ndim != 4 or not x.is_contiguous(memory_format=torch.channels_last):
        return False
    return not x.is_contiguous() or (x.shape[1] == 1 and x.stride(1) == 1 and x.shape[2] * x.shape[3] > 1)


def use_channels_last(device: torch.device, dtype: torch.dtype) -> bool:
    """Channels-last conv layers for float32 on the CPU (measured win with oneDNN).

    float64 keeps NCHW: its convolutions are not oneDNN's, and NCHW keeps float64 results bit-identical to
    the step-by-step reference (channels-last changes the summation order, §S4). GPUs keep cuDNN's default.
    """
    return device.type == "cpu" and dtype == torch.float32


def prepare_layers(net: SpikingNetwork, channels_last: bool) -> list[bool]:
    """Per layer: whether it runs channels-last; converts those layers' conv weights in place (a copy of the net)."""
    flags = []
    for layer in net.layers:
        cl = layer.op["type"] == "conv2d" and channels_last
        if cl:
            layer.weight = channels_last_weight(layer.weight)
            if layer.shortcut_weight is not None and layer.shortcut_weight.ndim == 4:
                layer.shortcut_weight = channels_last_weight(layer.shortcut_weight)
        flags.append(cl)
    return flags


def channels_last_weight(w: torch.Tensor) -> torch.Tensor:
    """A conv weight in channels-last memory, with channels-last strides even for one input channel.

    With C_in = 1 both layouts have the same memory and ``contiguous(memory_format=...)`` keeps the NCHW strides,
    from which oneDNN would pick NCHW outputs; explicit strides make every conv output channels-last.
    """
    w = w.contiguous(memory_format=torch.channels_last)
    if w.shape[1] == 1:
        o, _, kh, kw = w.shape
        w = w.as_strided(w.shape, (kh * kw, 1, kw, 1))
    return w


def steps_per_call(net: SpikingNetwork, out_sizes: list[int], batch: int, itemsize: int, time_chunk: int) -> int:
    """Steps per block: ``time_chunk``, capped for conv nets so a conv output stays ≤ :data:`CONV_CALL_BYTES`."""
    conv = [n for layer, n in zip(net.layers, out_sizes) if layer.op["type"] == "conv2d"]
    if not conv:
        return time_chunk
    return max(1, min(time_chunk, CONV_CALL_BYTES // max(1, max(conv) * batch * itemsize)))


def to_layout(x: torch.Tensor, channels_last: bool) -> torch.Tensor:
    """``x`` (N, C, H, W) in channels-last memory if asked and not already (a copy only when needed)."""
    if not channels_last or x.ndim != 4 or is_nhwc(x):
        return x
    n, c, h, w = x.shape
    if c == 1 and x.is_contiguous():  # same memory; explicit channels-last strides so the conv output is too
        return x.as_strided(x.shape, (h * w, 1, w, 1))
    return x.contiguous(memory_format=torch.channels_last)


def pool_spikes(x: torch.Tensor, k: int) -> torch.Tensor:
    """k×k, stride-k average pool of (N, C, H, W) by slice additions (rows first: contiguous, vectorised).

    Faster than ``F.avg_pool2d`` on NCHW CPU tensors and bit-identical on 0/1 inputs (exact integer sums, same
    division). A channels-last input goes to ``F.avg_pool2d``, which keeps its layout and is faster there.
    """
    if k == 1:
        return x
    if is_nhwc(x):  # channels-last: oneDNN's pooling is faster than slice additions (measured: docs/benchmarks.md §0)
        return F.avg_pool2d(x, k)
    n, c, h, w = x.shape
    x = x.contiguous()
    rows = x.reshape(n, c, h // k, k, w)
    acc = rows[:, :, :, 0] + rows[:, :, :, 1]
    for i in range(2, k):
        acc += rows[:, :, :, i]
    cols = acc.view(n, c, h // k, w // k, k)
    out = cols[..., 0] + cols[..., 1]
    for i in range(2, k):
        out += cols[..., i]
    return out.div_(k * k)


def square(v: object) -> object:
    """``k`` for ``k`` or ``[k, k]``/``(k, k)`` (as converted nn.AvgPool2d layers store them), else ``v`` unchanged."""
    if isinstance(v, (list, tuple)) and len(v) == 2 and v[0] == v[1] and isinstance(v[0], int):
        return v[0]
    return v


def pre_ops_spikes(layer: SpikingLayer, x: torch.Tensor) -> torch.Tensor:
    """``layer.apply_pre_ops`` for 0/1 inputs, using :func:`pool_spikes` for plain k×k/stride-k pools on CPU."""
    for pre in layer.pre_ops:
        if pre["type"] == "flatten":
            x = torch.flatten(x, 1)
            continue
        k, stride, pad = square(pre.get("kernel_size")), square(pre.get("stride")), square(pre.get("padding", 0))
        if (
            x.device.type == "cpu"
            and isinstance(k, int)
            and stride in (None, k)
            and not pad
            and x.ndim == 4
            and x.shape[2] % k == 0
            and x.shape[3] % k == 0
        ):
            x = pool_spikes(x, k)
        else:  # the same call as SpikingLayer.apply_pre_ops
            x = F.avg_pool2d(x, pre["kernel_size"], pre.get("stride") or pre["kernel_size"], pre.get("padding", 0))
    return x


def apply_op_buffered(layer: SpikingLayer, x: torch.Tensor, ws: Workspace, key: str) -> torch.Tensor:
    """``layer.apply_op`` with linear outputs written into a reused buffer (the kernel ``F.linear`` uses)."""
    if layer.op["type"] != "linear":
        return layer.apply_op(x)
    out = ws.get(key, (x.shape[0], layer.n_out), x.dtype)
    if layer.bias is None:
        return torch.mm(x, layer.weight.t(), out=out)
    return torch.addmm(layer.bias, x, layer.weight.t(), out=out)
