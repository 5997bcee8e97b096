"""Reusable buffers for the simulator's large per-block tensors (docs/method.md §S4)."""

from __future__ import annotations

import math

import torch


class Workspace:
    """Reusable flat buffers: large fresh allocations cost page faults every block, reuse does not."""

    def __init__(self, device: torch.device | str = "cpu") -> None:
        self.device, self.buffers = torch.device(device), {}

    def get(
        self,
        key: str,
        shape: tuple[int, ...],
        dtype: torch.dtype,
        device: torch.device | None = None,
        channels_last: bool = False,
    ) -> torch.Tensor:
        """An uninitialised tensor of ``shape``, backed by the buffer cached under ``key``.

        ``channels_last`` (4-d shapes only): the memory is ordered (N, H, W, C) while the shape stays (N, C, H, W).
        """
        n = math.prod(shape)
        buf = self.buffers.get(key)
        if buf is None or buf.numel() < n or buf.dtype != dtype:
            buf = self.buffers[key] = torch.empty(n, dtype=dtype, device=device or self.device)
        if channels_last:
            N, C, H, W = shape
            return buf[:n].view(N, H, W, C).permute(0, 3, 1, 2)
        return buf[:n].view(shape)
