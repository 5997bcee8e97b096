"""Integrate-and-fire dynamics as an in-place elementwise scan over a block of time steps (docs/method.md §S2).

Per step t: ``V += I_t``; ``s_t = [V >= θ]``; then reset by subtraction ``V -= s_t θ`` or to zero
``V = 0 where s_t``. At most one spike per neuron and step. Initial membrane ``V_0 = v_init · θ``.

On the CPU the scan runs tile by tile over the batch (all steps of one tile, then the next): a tile's
membrane stays in cache across its steps, so each step reads the current and writes the spikes once,
instead of three full passes over the membrane per step (§S4, "Speed details"). Every element still
sees exactly the same operations in the same order.
"""

from __future__ import annotations

import torch

RESETS = ("subtract", "zero")
TILE_BYTES = 96 << 10  # membrane bytes per CPU tile: below ATen's 32768-element grain (float32), so a tile op never
# opens an OpenMP region (with 2 threads on a loaded machine 256 KiB tiles cost 5x; docs/benchmarks.md)


def initial_membrane(
    threshold: torch.Tensor, shape: tuple[int, ...], v_init: float, like: torch.Tensor | None = None
) -> torch.Tensor:
    """Membrane state of shape (B, ...) filled with ``v_init · θ`` (``threshold`` already broadcastable).

    With ``like`` (a tensor of that shape), the state gets ``like``'s memory layout (e.g. channels-last).
    """
    full = (threshold * float(v_init)).expand(shape)
    if like is None:
        return full.contiguous()
    return torch.empty_like(like).copy_(full)


def scalar_threshold(threshold: torch.Tensor) -> float | None:
    """The common value if every threshold is equal (a Python float makes the scan's ops cheaper), else None."""
    flat = threshold.reshape(-1)
    first = flat[:1]
    return float(first) if bool((flat == first).all()) else None


def tile_rows(v: torch.Tensor, tile_bytes: int | None = None) -> int:
    """Batch rows per tile: the whole batch off the CPU, else about ``tile_bytes`` of membrane per tile."""
    if v.device.type != "cpu" or v.ndim == 0:
        return max(1, v.shape[0] if v.ndim else 1)
    row = max(1, v[0].numel() * v.element_size()) if v.shape[0] else 1
    return max(1, (tile_bytes or TILE_BYTES) // row)


def _dense_alike(*xs: torch.Tensor) -> bool:
    """True if all tensors have the same strides and are dense (contiguous or channels-last contiguous)."""
    first = xs[0]
    dense = first.is_contiguous() or (first.ndim == 4 and first.is_contiguous(memory_format=torch.channels_last))
    return dense and all(x.stride() == first.stride() and x.shape == first.shape for x in xs[1:])


def _flat(x: torch.Tensor) -> torch.Tensor:
    """A dense tensor's memory as a 1-d view (in memory order, whatever its layout)."""
    return x.as_strided((x.numel(),), (1,))


def _scan_tiles(
    v: torch.Tensor,
    cur: list[torch.Tensor],
    out: list[torch.Tensor],
    th: torch.Tensor | float,
    theta: float | None,
    reset: str,
    tiles: list[tuple[int, int]],
) -> None:
    """The IF recurrence over all steps of one tile (slice of the leading dim), tile after tile."""
    for b0, b1 in tiles:
        vt = v[b0:b1]
        mask = torch.empty(vt.shape, dtype=torch.bool, device=v.device) if reset == "zero" else None
        for cur_t, out_full in zip(cur, out):
            out_t = out_full[b0:b1]
            vt.add_(cur_t[b0:b1])
            if reset == "subtract":
                torch.ge(vt, th, out=out_t)
                if theta is None:
                    vt.addcmul_(out_t, th, value=-1.0)  # exactly V - θ where s = 1, V where s = 0
                else:
                    vt.sub_(out_t, alpha=theta)  # the same: V - 1·θ where s = 1, V - 0·θ where s = 0
            else:
                torch.ge(vt, th, out=mask)
                out_t.copy_(mask)
                vt.masked_fill_(mask, 0.0)


def if_scan(
    current: torch.Tensor,
    v: torch.Tensor,
    threshold: torch.Tensor,
    reset: str,
    out: torch.Tensor | None = None,
    tile_bytes: int | None = None,
) -> torch.Tensor:
    """Run IF neurons over the leading time axis of ``current`` (T, B, ...), updating ``v`` in place.

    Spikes (0/1 in ``out``'s dtype) go to ``out``, which defaults to ``current`` itself (overwritten
    step by step after use). ``threshold`` must broadcast against ``v``. Returns the spike tensor.
    On the CPU the scan runs tile by tile: a common (scalar) θ tiles the flat memory in ``tile_bytes`` pieces
    (any dense layout), per-neuron θ tiles :func:`tile_rows` batch rows; on a GPU one tile. Results do not
    depend on the tiling.
    """
    if reset not in RESETS:
        raise ValueError(f"reset {reset!r} not in {RESETS}")
    out = current if out is None else out
    th: torch.Tensor | float = threshold
    theta = scalar_threshold(threshold)
    if theta is not None:  # a 0-d tensor: no scalar-to-tensor conversion in every tile op
        th = torch.tensor(theta, dtype=v.dtype, device=v.device)
    if theta is not None and _dense_alike(v, current[0], out[0]):  # scalar θ: tiles over the flat memory
        views = (
            _flat(v),
            [_flat(current[t]) for t in range(current.shape[0])],
            [_flat(out[t]) for t in range(current.shape[0])],
        )
        n = v.numel()
        size = n if v.device.type != "cpu" else max(1, (tile_bytes or TILE_BYTES) // v.element_size())
        tiles = [(e, min(n, e + size)) for e in range(0, n, size)]
        _scan_tiles(views[0], views[1], views[2], th, theta, reset, tiles)
        return out
    B = v.shape[0]
    rows = tile_rows(v, tile_bytes)
    tiles = [(b, min(B, b + rows)) for b in range(0, B, rows)]
    _scan_tiles(
        v,
        [current[t] for t in range(current.shape[0])],
        [out[t] for t in range(current.shape[0])],
        th,
        theta,
        reset,
        tiles,
    )
    return out
