"""The weighted ops applied to stacks of spikes, made cheaper without changing a bit (docs/method.md §S4)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..network import SpikingLayer
from .workspace import Workspace


def pool_spikes(x: torch.Tensor, k: int) -> torch.Tensor:
    """k×k, stride-k average pool of (N, C, H, W) by slice additions (rows first: contiguous, vectorised).

    Faster than ``F.avg_pool2d`` on CPU and bit-identical on 0/1 inputs (exact integer sums, same division).
    """
    if k == 1:
        return x
    n, c, h, w = x.shape
    rows = x.reshape(n, c, h // k, k, w)
    acc = rows[:, :, :, 0] + rows[:, :, :, 1]
    for i in range(2, k):
        acc += rows[:, :, :, i]
    cols = acc.view(n, c, h // k, w // k, k)
    out = cols[..., 0] + cols[..., 1]
    for i in range(2, k):
        out += cols[..., i]
    return out.div_(k * k)


def pre_ops_spikes(layer: SpikingLayer, x: torch.Tensor) -> torch.Tensor:
    """``layer.apply_pre_ops`` for 0/1 inputs, using :func:`pool_spikes` for plain k×k/stride-k pools on CPU."""
    for pre in layer.pre_ops:
        k = pre.get("kernel_size")
        if pre["type"] == "flatten":
            x = torch.flatten(x, 1)
        elif x.device.type == "cpu" and isinstance(k, int) and pre.get("stride") in (None, k) \
                and not pre.get("padding", 0) and x.ndim == 4 and x.shape[2] % k == 0 and x.shape[3] % k == 0:
            x = pool_spikes(x, k)
        else:  # the same call as SpikingLayer.apply_pre_ops
            x = F.avg_pool2d(x, k, pre.get("stride") or k, pre.get("padding", 0))
    return x


def apply_op_buffered(layer: SpikingLayer, x: torch.Tensor, ws: Workspace, key: str) -> torch.Tensor:
    """``layer.apply_op`` with linear outputs written into a reused buffer (the kernel ``F.linear`` uses)."""
    if layer.op["type"] != "linear":
        return layer.apply_op(x)
    out = ws.get(key, (x.shape[0], layer.n_out), x.dtype)
    if layer.bias is None:
        return torch.mm(x, layer.weight.t(), out=out)
    return torch.addmm(layer.bias, x, layer.weight.t(), out=out)
