"""An independent reference for the L4 adjustment: per hidden layer, the base weights, E[r²] of the input rates,
ρ and σ̂ computed from the definitions (docs/method.md), not from snnconv.convert.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn


def reference(model: nn.Sequential, x: torch.Tensor, q: float | None = None) -> list[dict[str, np.ndarray | float]]:
    """Per hidden layer: base weights w, E[r²] of its input rates, ρ and σ̂ (L4), all from the definitions.

    The base is max normalization, or the q-th percentile (then some rates exceed 1 and are clamped)."""
    acts: list[torch.Tensor] = []
    hooks = [
        m.register_forward_hook(lambda m, i, o: acts.append(o.detach().double()))
        for m in model
        if isinstance(m, nn.ReLU)
    ]
    with torch.no_grad():
        model(x)
    for h in hooks:
        h.remove()
    lams = [float(a.max()) if q is None else float(np.percentile(a.numpy(), q)) for a in acts]  # λ per layer
    # the clamped rate model, walked module by module: weighted layer l computes (W(λ_{l−1}r) + b)/λ_l,
    # its ReLU gives min(1, ·); the input a weighted layer sees (after pooling/flatten) is recorded
    inputs, r, l, prev_lam = [], x.double(), 0, 1.0
    with torch.no_grad():
        for m in model:
            if isinstance(m, (nn.Linear, nn.Conv2d)):
                inputs.append(r)
                lam = lams[l] if l < len(lams) else 1.0
                r = m.double()(r * prev_lam) / lam
                prev_lam, l = lam, l + 1
            elif isinstance(m, nn.ReLU):
                r = r.clamp(min=0, max=1)
            else:
                r = m(r)
    model.float()
    out, prev_lam = [], 1.0
    for m, r, lam in zip([m for m in model if isinstance(m, (nn.Linear, nn.Conv2d))], inputs, lams):
        m2 = float((r**2).mean())
        w = m.weight.detach().double().numpy() * prev_lam / lam
        fan_in = int(np.prod(w.shape[1:]))
        rho = math.sqrt(fan_in * m2)
        l4 = (np.abs(w.reshape(w.shape[0], -1)) ** 4).sum(1) ** 0.25
        out.append(
            {
                "w": w,
                "m2": m2,
                "rho": rho,
                "sigma": l4 * math.sqrt(rho),
                "bias": (np.zeros(w.shape[0]) if m.bias is None else m.bias.detach().double().numpy()) / lam,
            }
        )
        prev_lam = lam
    return out
