"""Walk a flat ``nn.Sequential`` ANN into weighted layers with θ = 1 (docs/method.md §C1).

Batch norm is folded into the preceding Conv2d/Linear, dropout and redundant ReLUs are dropped,
average pooling and flatten become the next layer's ``pre_ops``. A residual :class:`~snnconv.models.BasicBlock`
becomes two layers, the second with a shortcut from the block's input layer (BN folded on both branches, the
shortcut's folded bias added to the main bias: both feed the same neurons). Anything else is rejected.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from ..models import BasicBlock
from ..network import SpikingLayer
from ..qcfs import QCFS

SKIPPED = (nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Identity)
MAXPOOL_HINT = "use average pooling (or set conversion.maxpool_to_avgpool: true)"


@dataclass
class ParsedModel:
    """The ANN as weighted layers (θ = 1, raw weights) plus what conversion metadata needs."""

    layers: list[SpikingLayer]
    module_index: list[int]
    folded_batchnorm: bool = False
    ann_layers: list[str] = field(default_factory=list)
    replaced_maxpool: bool = False
    qcfs_lambdas: list[float] = field(default_factory=list)  # trained clip λ of each spiking layer (QCFS nets)
    qcfs_levels: int | None = None


def _pair(v: int | tuple[int, ...]) -> list[int]:
    """An int or tuple as a 2-element list (JSON-friendly)."""
    return [int(v), int(v)] if isinstance(v, int) else [int(x) for x in v]


def _unsupported(m: nn.Module, idx: int, why: str = "") -> ValueError:
    """The standard rejection message."""
    return ValueError(f"{type(m).__name__} at index {idx} is not supported" + (f": {why}" if why else ""))


def _pool(m: nn.Module, idx: int) -> dict[str, Any]:
    """AvgPool2d (or MaxPool2d, approximated as AvgPool2d) as a pre-op dict."""
    if m.ceil_mode or (isinstance(m, nn.AvgPool2d) and m.divisor_override is not None):
        raise _unsupported(m, idx, "ceil_mode / divisor_override must be off")
    if isinstance(m, nn.AvgPool2d) and not m.count_include_pad and any(_pair(m.padding)):
        raise _unsupported(m, idx, "padded average pooling must count the padding")
    if isinstance(m, nn.MaxPool2d) and (any(d != 1 for d in _pair(m.dilation)) or m.return_indices):
        raise _unsupported(m, idx, "dilated or index-returning max pooling")
    kernel = _pair(m.kernel_size)
    return {
        "type": "avgpool",
        "kernel_size": kernel,
        "stride": _pair(m.stride or m.kernel_size),
        "padding": _pair(m.padding),
    }


def _weighted(m: nn.Module, idx: int) -> tuple[dict[str, Any], torch.Tensor, torch.Tensor | None]:
    """Op dict, weight and bias of a Linear/Conv2d (copied, float32)."""
    if isinstance(m, nn.Conv2d):
        if m.groups != 1 or m.padding_mode != "zeros":
            raise _unsupported(m, idx, "grouped convolution or non-zero padding mode")
        padding = m.padding if isinstance(m.padding, str) else _pair(m.padding)
        op = {
            "type": "conv2d",
            "stride": _pair(m.stride),
            "padding": padding,
            "dilation": _pair(m.dilation),
            "groups": 1,
        }
    else:
        op = {"type": "linear"}
    bias = None if m.bias is None else m.bias.detach().clone().float()
    return op, m.weight.detach().clone().float(), bias


def fold_batchnorm(
    weight: torch.Tensor, bias: torch.Tensor | None, bn: nn.modules.batchnorm._BatchNorm
) -> tuple[torch.Tensor, torch.Tensor]:
    """Fold eval-mode BN into the preceding op: W' = γW/√(σ²+ε), b' = γ(b−μ)/√(σ²+ε) + β (§C1)."""
    mean, var = bn.running_mean.double(), bn.running_var.double()
    gamma = bn.weight.detach().double() if bn.weight is not None else torch.ones_like(mean)
    beta = bn.bias.detach().double() if bn.bias is not None else torch.zeros_like(mean)
    scale = gamma / torch.sqrt(var + bn.eps)
    b = bias.double() if bias is not None else torch.zeros_like(mean)
    w = weight.double() * scale.view(-1, *([1] * (weight.ndim - 1)))
    return w.float(), ((b - mean) * scale + beta).float()


def parse_model(model: nn.Sequential, maxpool_to_avgpool: bool) -> ParsedModel:
    """Turn the ANN into weighted layers with θ = 1; the last Linear becomes the non-spiking readout."""
    if not isinstance(model, nn.Sequential):
        raise ValueError(f"conversion needs a flat nn.Sequential, got {type(model).__name__}")
    parsed = ParsedModel([], [], ann_layers=[type(m).__name__ for m in model])
    pending: list[dict[str, Any]] = []
    cur: dict[str, Any] | None = None  # the weighted layer waiting for its ReLU
    for idx, m in enumerate(model):
        name = type(m).__name__
        if isinstance(m, SKIPPED):
            continue
        if isinstance(m, BasicBlock):
            if cur is not None or pending or not parsed.layers:
                raise _unsupported(
                    m, idx, "a residual block must follow a weighted layer and its ReLU directly (no pooling between)"
                )
            _basic_block(parsed, m, idx)
            parsed.folded_batchnorm = True
        elif isinstance(m, (nn.Linear, nn.Conv2d)):
            if cur is not None:
                raise _unsupported(m, idx, f"it follows the {cur['cls']} at index {cur['idx']} without a ReLU")
            op, w, b = _weighted(m, idx)
            cur = {"cls": name, "idx": idx, "op": op, "w": w, "b": b, "pre": pending, "bn": False}
            pending = []
        elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            if cur is None or cur["bn"] or m.running_mean is None:
                raise _unsupported(
                    m, idx, "batch norm must directly follow a Conv2d/Linear and track running statistics"
                )
            cur["w"], cur["b"] = fold_batchnorm(cur["w"], cur["b"], m)
            cur["bn"] = parsed.folded_batchnorm = True
        elif isinstance(m, nn.ReLU):
            if cur is not None:  # a ReLU elsewhere acts on non-negative values: the identity
                _close(parsed, cur, spiking=True)
                cur = None
        elif isinstance(m, QCFS):
            if cur is None:
                raise _unsupported(m, idx, "a QCFS activation must follow a Conv2d/Linear (+BN)")
            _close(parsed, cur, spiking=True)
            parsed.qcfs_lambdas.append(float(m.lam.detach()))
            parsed.qcfs_levels = m.levels
            cur = None
        elif isinstance(m, (nn.AvgPool2d, nn.MaxPool2d, nn.Flatten)):
            if isinstance(m, nn.MaxPool2d) and not maxpool_to_avgpool:
                raise _unsupported(m, idx, MAXPOOL_HINT)
            if cur is not None:
                raise _unsupported(m, idx, f"it sits between the {cur['cls']} at index {cur['idx']} and its ReLU")
            if isinstance(m, nn.Flatten):
                if m.start_dim != 1 or m.end_dim != -1:
                    raise _unsupported(m, idx, "only Flatten(start_dim=1, end_dim=-1)")
                pending.append({"type": "flatten"})
            else:
                parsed.replaced_maxpool |= isinstance(m, nn.MaxPool2d)
                pending.append(_pool(m, idx))
        else:
            raise _unsupported(m, idx)
    if cur is None or cur["op"]["type"] != "linear" or pending:
        raise ValueError("the ANN must end with a Linear layer without ReLU (it becomes the non-spiking readout)")
    _close(parsed, cur, spiking=False)
    _check_finite(parsed)
    if parsed.qcfs_lambdas and len(parsed.qcfs_lambdas) != len(parsed.layers) - 1:
        raise ValueError("a QCFS network must use QCFS after every hidden layer, not a mix with ReLU")
    return parsed


def _folded(conv: nn.Conv2d, bn: nn.Module, idx: int) -> tuple[dict[str, Any], torch.Tensor, torch.Tensor]:
    """Op dict and BN-folded weight and bias of one conv + BN of a residual block."""
    if not isinstance(bn, nn.BatchNorm2d) or bn.running_mean is None:
        raise _unsupported(bn, idx, "a residual block's batch norm must track running statistics")
    op, w, b = _weighted(conv, idx)
    w, b = fold_batchnorm(w, b, bn)
    return op, w, b


def _shortcut(block: BasicBlock, c: int, idx: int) -> tuple[dict[str, Any], torch.Tensor, torch.Tensor]:
    """The shortcut as a 1×1 conv: its folded weight and bias, or an identity kernel (and zero bias)."""
    if isinstance(block.shortcut, nn.Identity):
        op = {"type": "conv2d", "stride": [1, 1], "padding": [0, 0], "dilation": [1, 1], "groups": 1}
        return op, torch.eye(c).view(c, c, 1, 1), torch.zeros(c)
    conv, bn = block.shortcut[0], block.shortcut[1]
    return _folded(conv, bn, idx)


def _basic_block(parsed: ParsedModel, block: BasicBlock, idx: int) -> None:
    """Append a basic block as conv1 (spiking) and conv2 + shortcut (spiking: the block output, after the add)."""
    source = len(parsed.layers) - 1
    op1, w1, b1 = _folded(block.conv1, block.bn1, idx)
    op2, w2, b2 = _folded(block.conv2, block.bn2, idx)
    op_s, w_s, b_s = _shortcut(block, w2.shape[0], idx)
    for name, op, w, b, shortcut, act in (
        (f"block{idx}.conv1", op1, w1, b1, None, block.relu1),
        (f"block{idx}.conv2", op2, w2, b2 + b_s, {"source": source, "op": op_s}, block.relu2),
    ):
        if isinstance(act, QCFS):
            parsed.qcfs_lambdas.append(float(act.lam.detach()))
            parsed.qcfs_levels = act.levels
        elif not isinstance(act, nn.ReLU):
            raise _unsupported(act, idx, "a residual block's activations must be ReLU or QCFS")
        parsed.layers.append(
            SpikingLayer(
                op=op,
                weight=w,
                bias=b,
                threshold=torch.ones(w.shape[0]),
                spiking=True,
                name=name,
                shortcut=shortcut,
                shortcut_weight=None if shortcut is None else w_s,
            )
        )
        parsed.module_index.append(idx)


def _close(parsed: ParsedModel, cur: dict[str, Any], spiking: bool) -> None:
    """Append a finished weighted layer with θ = 1."""
    w = cur["w"]
    parsed.layers.append(
        SpikingLayer(
            op=cur["op"],
            weight=w,
            bias=cur["b"],
            threshold=torch.ones(w.shape[0]),
            pre_ops=cur["pre"],
            spiking=spiking,
            name=f"{cur['op']['type']}{cur['idx']}",
        )
    )
    parsed.module_index.append(cur["idx"])


def _check_finite(parsed: ParsedModel) -> None:
    """Refuse NaN/inf weights or biases (after BN folding)."""
    for n, (layer, idx) in enumerate(zip(parsed.layers, parsed.module_index)):
        cls = parsed.ann_layers[idx]
        if not bool(torch.isfinite(layer.input_weight_rows()).all()):
            raise ValueError(f"refusing to convert: layer {n} weights contain NaN/inf ({cls} at index {idx})")
        if layer.bias is not None and not bool(torch.isfinite(layer.bias).all()):
            raise ValueError(f"refusing to convert: layer {n} bias contains NaN/inf ({cls} at index {idx})")
