"""Integrate-and-fire dynamics as an in-place elementwise scan over a block of time steps (docs/method.md §S2).

Per step t: ``V += I_t``; ``s_t = [V >= θ]``; then reset by subtraction ``V -= s_t θ`` or to zero
``V = 0 where s_t``. At most one spike per neuron and step. Initial membrane ``V_0 = v_init · θ``.
"""

from __future__ import annotations

import torch

RESETS = ("subtract", "zero")


def initial_membrane(threshold: torch.Tensor, shape: tuple[int, ...], v_init: float) -> torch.Tensor:
    """Membrane state of shape (B, ...) filled with ``v_init · θ`` (``threshold`` already broadcastable)."""
    return (threshold * float(v_init)).expand(shape).contiguous()


def if_scan(current: torch.Tensor, v: torch.Tensor, threshold: torch.Tensor, reset: str = "subtract",
            out: torch.Tensor | None = None) -> torch.Tensor:
    """Run IF neurons over the leading time axis of ``current`` (T, B, ...), updating ``v`` in place.

    Spikes (0/1 in ``out``'s dtype) go to ``out``, which defaults to ``current`` itself (overwritten
    step by step after use). ``threshold`` must broadcast against ``v``. Returns the spike tensor.
    """
    if reset not in RESETS:
        raise ValueError(f"reset {reset!r} not in {RESETS}")
    out = current if out is None else out
    mask = torch.empty(v.shape, dtype=torch.bool, device=v.device) if reset == "zero" else None
    for t in range(current.shape[0]):
        v.add_(current[t])
        if reset == "subtract":
            torch.ge(v, threshold, out=out[t])
            v.addcmul_(out[t], threshold, value=-1.0)  # exactly V - θ where s = 1, V where s = 0
        else:
            torch.ge(v, threshold, out=mask)
            out[t].copy_(mask)
            v.masked_fill_(mask, 0.0)
    return out
