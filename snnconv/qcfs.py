"""The quantization-clip-floor-shift activation of Bu et al. 2022 (ICLR), docs/method.md "QCFS".

h(x) = λ/L · clip(floor(x·L/λ + 1/2), 0, L) with a trainable clip λ per layer and L quantization levels. The floor
passes its gradient straight through, so λ and the weights train by plain backpropagation. A network trained with
it converts to IF neurons with θ = λ and initial membrane θ/2 (norm base ``qcfs``).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import torch
from torch import nn


class _FloorSTE(torch.autograd.Function):
    """floor in the forward pass, identity in the backward pass (straight-through estimator)."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor) -> torch.Tensor:  # noqa: D102 - autograd protocol
        return torch.floor(x)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> torch.Tensor:  # noqa: D102 - autograd protocol
        return grad


class QCFS(nn.Module):
    """h(x) = λ/L · clip(floor(x·L/λ + 1/2), 0, L), λ a trainable scalar (one per layer), L ``levels``."""

    def __init__(self, levels: int = 4, lambda_init: float = 8.0) -> None:
        super().__init__()
        if isinstance(levels, bool) or not isinstance(levels, int) or levels < 1:
            raise ValueError(f"QCFS levels must be a positive integer, got {levels!r}")
        if not float(lambda_init) > 0:
            raise ValueError(f"QCFS lambda_init must be positive, got {lambda_init!r}")
        self.levels = int(levels)
        self.lam = nn.Parameter(torch.tensor(float(lambda_init)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """clamp(x/λ, 0, 1) quantized to L levels with the half-step shift, scaled back by λ (same values as the
        formula: the clip of the level index and the clamp of x/λ agree for every x)."""
        y = torch.clamp(x / self.lam, 0.0, 1.0)
        return _FloorSTE.apply(y * self.levels + 0.5) / self.levels * self.lam

    def extra_repr(self) -> str:
        """Levels shown in the module's repr."""
        return f"levels={self.levels}"


def _with_activations(model: nn.Sequential, make: Callable[[nn.Module], nn.Module]) -> nn.Sequential:
    """The same network with every activation ``m`` replaced by ``make(m)``: the top-level ones and the two inside
    each residual block (weights shared, not copied; the blocks are new modules, so ``model`` is unchanged)."""
    from .models import BasicBlock

    def swap(m: nn.Module) -> nn.Module:
        if isinstance(m, BasicBlock):
            block = copy.copy(m)
            block._modules = dict(m._modules)  # a shallow copy would share (and so alter) the child table
            block.relu1, block.relu2 = make(m.relu1), make(m.relu2)
            return block
        return make(m)

    return nn.Sequential(*[swap(m) for m in model])


def to_qcfs(model: nn.Sequential, levels: int, lambda_init: float) -> nn.Sequential:
    """The same network with every ReLU (residual blocks' included) replaced by its own :class:`QCFS`."""
    return _with_activations(model, lambda m: QCFS(levels, lambda_init) if isinstance(m, nn.ReLU) else m)


def to_relu(model: nn.Sequential) -> nn.Sequential:
    """The ReLU twin of a QCFS network (every QCFS back to ReLU): its θ = 1 rate model has no quantization."""
    return _with_activations(model, lambda m: nn.ReLU() if isinstance(m, QCFS) else m)


def qcfs_lambdas(model: nn.Module) -> list[float]:
    """The trained λ of every QCFS activation, in order."""
    return [float(m.lam.detach()) for m in model.modules() if isinstance(m, QCFS)]
