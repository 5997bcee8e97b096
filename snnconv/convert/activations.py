"""Per-layer activation statistics on the normalization set, streamed in batches (docs/method.md §C2, §C4).

The folded ANN is the θ = 1 rate model without clamping, so every statistic is gathered from
``SpikingNetwork.rate_forward(x, clamp=False)``. Percentiles are exact: a radix selection on the
float32 bit patterns, a few passes over the data and O(groups·2^bits) memory (§C4).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator

import numpy as np
import torch

from ..network import SpikingNetwork

BATCH = 128


def layer_outputs(
    net: SpikingNetwork, images: torch.Tensor, clamp: bool = False, batch_size: int = BATCH
) -> Iterator[list[torch.Tensor]]:
    """Every layer's rate-model output, one batch of the normalization set at a time."""
    with torch.no_grad():
        for start in range(0, len(images), batch_size):
            yield net.rate_forward(images[start : start + batch_size], clamp=clamp)


def grouped(z: torch.Tensor, per_channel: bool) -> torch.Tensor:
    """Activations as (groups, values): one group per conv channel, or one group for the whole layer."""
    if per_channel and z.ndim == 4:
        return z.transpose(0, 1).reshape(z.shape[1], -1)
    return z.reshape(1, -1)


def activation_max(net: SpikingNetwork, images: torch.Tensor, per_channel: list[bool]) -> list[torch.Tensor]:
    """Max ReLU activation per spiking layer, shape (groups,) (§C2)."""
    spiking = [i for i, l in enumerate(net.layers) if l.spiking]
    best: dict[int, torch.Tensor] = {}
    for outs in layer_outputs(net, images):
        for i in spiking:
            m = grouped(outs[i], per_channel[i]).amax(dim=1)
            best[i] = m if i not in best else torch.maximum(best[i], m)
    return [best[i].double() for i in spiking]


def _sortable(values: torch.Tensor) -> torch.Tensor:
    """float32 → int64 keys in [0, 2^32) whose order is the float order (sign-magnitude flip)."""
    bits = values.float().contiguous().view(torch.int32).to(torch.int64)
    return torch.where(bits < 0, bits ^ 0x7FFFFFFF, bits) + (1 << 31)


def _unsortable(keys: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`_sortable`."""
    bits = keys - (1 << 31)
    bits = torch.where(bits < 0, bits ^ 0x7FFFFFFF, bits)
    return bits.to(torch.int32).view(torch.float32)


def _top_digit(values: torch.Tensor, bits: int) -> torch.Tensor:
    """The top ``bits`` bits of :func:`_sortable`'s key, computed in int32 (fast first pass)."""
    b = values.float().contiguous().view(torch.int32)
    signed = b ^ ((b >> 31) & 0x7FFFFFFF)  # order-preserving signed int; the key is signed + 2^31
    return ((signed >> (32 - bits)) & ((1 << bits) - 1)) ^ (1 << (bits - 1))


class StreamingPercentile:
    """Exact q-th percentile per group (numpy's default 'linear' definition) by multi-pass radix select.

    Each pass histograms the next digit of the sortable key among values whose higher bits match
    the prefix found so far; after the last pass the two order statistics around h = (n−1)q/100
    are known exactly and interpolated in float64 (docs/method.md §C4).
    """

    def __init__(self, q: float, groups: int, n: int, widths: tuple[int, ...] | None = None):
        if not (0 <= q <= 100) or n < 1:
            raise ValueError(f"percentile {q} over {n} values")
        self.groups, self.n = groups, n
        self.widths = list(widths or ((16, 16) if groups <= 16 else (11, 11, 10)))
        if sum(self.widths) != 32:
            raise ValueError(f"digit widths {self.widths} must add up to 32 bits")
        h = (n - 1) * (q / 100.0)
        k = min(int(math.floor(h)), n - 1)
        self.frac = h - k
        self.rank = torch.tensor([k, min(k + 1, n - 1)], dtype=torch.int64).repeat(groups, 1)  # rank inside prefix
        self.prefix = torch.zeros(groups, 2, dtype=torch.int64)
        self.shift = 32  # low key bits still unknown
        self._new_counts()

    def _new_counts(self) -> None:
        """Zeroed histograms for the next digit of both order statistics."""
        self.bits = self.widths[0] if self.widths else 0
        self.counts = torch.zeros(2, self.groups << self.bits, dtype=torch.int64)

    @property
    def done(self) -> bool:
        """True once all 32 key bits are resolved."""
        return self.shift == 0

    def update(self, values: torch.Tensor) -> None:
        """Count one batch of values, shape (groups, m)."""
        values = values.float()
        size = self.groups << self.bits
        if self.shift == 32:  # first pass: every value shares the empty prefix
            idx = _top_digit(values, self.bits) + (torch.arange(self.groups, dtype=torch.int32) << self.bits).view(
                -1, 1
            )
            self.counts[0] += torch.bincount(idx.reshape(-1), minlength=size)
            self.counts[1] = self.counts[0]
            return
        shared = bool((self.prefix[:, 0] == self.prefix[:, 1]).all())  # usual case: count once for both ranks
        for t in range(1 if shared else 2):
            lo, hi = self._float_range(self.prefix[:, t])
            inside = (values >= lo.view(-1, 1)) & (values <= hi.view(-1, 1))  # cheap float pre-filter
            group = torch.arange(self.groups).view(-1, 1).expand_as(values)[inside]
            keys = _sortable(values[inside])
            exact = (keys >> self.shift) == self.prefix[group, t]  # ±0 differ in key, not in float
            idx = (group << self.bits) + ((keys >> (self.shift - self.bits)) & ((1 << self.bits) - 1))
            self.counts[t] += torch.bincount(idx[exact], minlength=size)
        if shared:
            self.counts[1] = self.counts[0]

    def _float_range(self, prefix: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Smallest and largest float whose key starts with ``prefix`` (clamped to ±inf, never NaN)."""
        ends = _sortable(torch.tensor([-math.inf, math.inf]))
        lo = (prefix << self.shift).clamp(int(ends[0]), int(ends[1]))
        hi = (((prefix + 1) << self.shift) - 1).clamp(int(ends[0]), int(ends[1]))
        return _unsortable(lo), _unsortable(hi)

    def end_pass(self) -> None:
        """Fix the next digit of both order statistics from the pass's histograms."""
        for t in range(2):
            cum = self.counts[t].view(self.groups, -1).cumsum(dim=1)
            d = torch.searchsorted(cum, self.rank[:, t : t + 1].contiguous(), right=True).squeeze(1)
            below = torch.where(d > 0, cum.gather(1, (d - 1).clamp(min=0).view(-1, 1)).squeeze(1), 0)
            self.rank[:, t] -= below
            self.prefix[:, t] = (self.prefix[:, t] << self.bits) | d
        self.shift -= self.widths.pop(0)
        self._new_counts()

    def result(self) -> torch.Tensor:
        """The percentile per group (float64), numpy 'linear' interpolation."""
        if not self.done:
            raise RuntimeError("StreamingPercentile.result() before all passes")
        lo, hi = _unsortable(self.prefix).double().unbind(1)
        t = self.frac
        return hi - (hi - lo) * (1 - t) if t >= 0.5 else lo + (hi - lo) * t


def percentile_of_chunks(
    chunks: Iterable[torch.Tensor] | Callable[[], Iterable[torch.Tensor]], q: float, n: int, groups: int = 1
) -> torch.Tensor:
    """Exact percentile of data given as a re-iterable of (groups, m) chunks (or a callable returning one)."""
    sel = StreamingPercentile(q, groups, n)
    while not sel.done:
        for chunk in chunks() if callable(chunks) else chunks:
            sel.update(chunk)
        sel.end_pass()
    return sel.result()


def percentile(values: np.ndarray | torch.Tensor, q: float, chunk: int = 1 << 22) -> float:
    """Exact percentile of a flat array without torch.quantile's size limit (matches ``np.percentile``)."""
    flat = torch.as_tensor(values).reshape(-1)
    return float(
        percentile_of_chunks([flat[i : i + chunk].view(1, -1) for i in range(0, len(flat), chunk)], q, len(flat))
    )


def activation_percentile(
    net: SpikingNetwork, images: torch.Tensor, q: float, per_channel: list[bool]
) -> list[torch.Tensor]:
    """Exact q-th percentile of each spiking layer's ReLU activations, zeros included (§C4)."""
    spiking = [i for i, l in enumerate(net.layers) if l.spiking]
    with torch.no_grad():
        probe = net.rate_forward(images[:1], clamp=False)
    sels = {}
    for i in spiking:
        g = grouped(probe[i], per_channel[i])
        sels[i] = StreamingPercentile(q, g.shape[0], g.shape[1] * len(images))
    while not all(s.done for s in sels.values()):
        for outs in layer_outputs(net, images):
            for i, s in sels.items():
                if not s.done:
                    s.update(grouped(outs[i], per_channel[i]))
        for s in sels.values():
            if not s.done:
                s.end_pass()
    return [sels[i].result() for i in spiking]


def input_rate_sq_means(net: SpikingNetwork, images: torch.Tensor, batch_size: int = BATCH) -> list[float]:
    """Mean squared input rate of every layer (after its pre-ops) in the clamped rate model (§C6).

    A layer with a shortcut also reads its source layer's rates: its E[r²] is the fan-in-weighted mean of both
    branches', (f·E_main + f_s·E_shortcut)/(f + f_s), so that fan_in·E[r²] is the receptive field's ‖r‖₂² (§C6.2).
    """
    sums = [0.0] * len(net.layers)
    count = [0] * len(net.layers)
    short_sums = [0.0] * len(net.layers)
    short_count = [0] * len(net.layers)
    with torch.no_grad():
        for start in range(0, len(images), batch_size):
            x = images[start : start + batch_size]
            outs = net.rate_forward(x, clamp=True)
            for i, layer in enumerate(net.layers):
                r = layer.apply_pre_ops(x if i == 0 else outs[i - 1]).double()
                sums[i] += float((r * r).sum())
                count[i] += r.numel()
                if layer.shortcut is not None:
                    rs = outs[layer.shortcut["source"]].double()
                    short_sums[i] += float((rs * rs).sum())
                    short_count[i] += rs.numel()
    means = []
    for i, layer in enumerate(net.layers):
        mean = sums[i] / count[i]
        if layer.shortcut is not None:
            f_main, f_short = layer.weight[0].numel(), layer.shortcut_weight[0].numel()
            mean = (f_main * mean + f_short * short_sums[i] / short_count[i]) / (f_main + f_short)
        means.append(mean)
    return means
