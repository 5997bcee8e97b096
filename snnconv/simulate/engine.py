"""The spiking-network simulator: accuracy and rates at every t = 1..T from one run (docs/method.md §S3–§S5).

Samples are processed in batches; within a batch, time runs in blocks of ``time_chunk`` steps. For each
block and layer, the input current of every step of the block comes from ONE op call on the
(steps·B, ...) stack of input spikes, then the IF scan walks the block's steps elementwise, carrying
each layer's membrane across blocks. ``reference.simulate_stepwise`` is the plain per-step loop.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from ..network import SpikingNetwork
from .encoding import ENCODINGS, check_pixels, make_encoder
from .neurons import RESETS, if_scan, initial_membrane
from .ops import apply_op_buffered, pre_ops_spikes, prepare_layers, steps_per_call, to_layout, use_channels_last
from .workspace import Workspace

DECODES = ("membrane", "spikes")


@dataclass
class SimulationResult:
    """Accuracy and mean firing rates at every t = 1..T of one simulation run (§S3)."""

    accuracy: np.ndarray  # (T,): fraction correct using the readout accumulated up to t
    rates: np.ndarray  # (L, T): cumulative mean spike rate per recorded layer up to t
    layer_names: list[str]
    n_samples: int
    silent_output: int  # samples whose readout saw no input spike (membrane) / emitted no spike (spikes)
    seconds: float
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def T(self) -> int:
        """Number of simulated time steps."""
        return int(self.accuracy.shape[0])


class Probe:
    """Observer hooks called by the simulators (no-ops here); tensors are internal buffers: read, don't keep.

    ``pre``/``current``/``spikes`` have shape (steps, B, ...) for the steps t0+1..t0+steps; ``v`` is the
    membrane (B, ...) after the last of these steps.
    """

    def on_current(self, layer: int, batch: int, t0: int, pre: torch.Tensor, current: torch.Tensor) -> None:
        """A layer's direct input (after pre_ops) and its input current, before integration."""

    def on_spikes(self, layer: int, batch: int, t0: int, spikes: torch.Tensor, v: torch.Tensor) -> None:
        """A spiking layer's output spikes and membrane (not called for a membrane-decoded readout)."""

    def on_batch_end(self, batch: int) -> None:
        """All T steps of a batch are done."""


def resolve_device(device: str | torch.device) -> torch.device:
    """``"auto"`` → CUDA when available, else CPU."""
    if str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def check_args(
    net: SpikingNetwork,
    images: torch.Tensor,
    labels: torch.Tensor,
    T: int,
    encoding: str,
    reset: str,
    decode: str,
    batch_size: int,
    time_chunk: int,
) -> None:
    """Validate simulator arguments with clear messages."""
    if encoding not in ENCODINGS or reset not in RESETS or decode not in DECODES:
        raise ValueError(
            f"encoding/reset/decode must be in {ENCODINGS}/{RESETS}/{DECODES}, got {encoding!r}/{reset!r}/{decode!r}"
        )
    if T < 1 or batch_size < 1 or time_chunk < 1:
        raise ValueError(f"T, batch_size and time_chunk must be >= 1, got {T}, {batch_size}, {time_chunk}")
    if not net.layers or any(not l.spiking for l in net.layers[:-1]):
        raise ValueError("network must be non-empty and only its last layer may be non-spiking")
    if not images.is_floating_point() or images.ndim < 2 or len(images) != len(labels) or len(images) == 0:
        raise ValueError(
            f"need float images (N, ...) and N labels, got {tuple(images.shape)} {images.dtype} "
            f"and {tuple(labels.shape)}"
        )
    check_pixels(images)


class Layout:
    """What is recorded for a network: layer shapes, broadcast thresholds, recorded layers and names."""

    def __init__(
        self, net: SpikingNetwork, sample: torch.Tensor, decode: str, channels_last: list[bool] | None = None
    ) -> None:
        with torch.inference_mode():
            outs = net.rate_forward(sample[:1].to(net.layers[0].weight), clamp=False)
        self.last = len(net.layers) - 1
        self.channels_last = channels_last or [False] * len(net.layers)
        self.out_sizes = [o[0].numel() for o in outs]
        self.thresholds = [layer.threshold_view(o.ndim) for layer, o in zip(net.layers, outs)]
        self.recorded = [l for l in range(len(net.layers)) if l < self.last or decode == "spikes"]
        self.slot = {l: i for i, l in enumerate(self.recorded)}
        self.sizes = [outs[l][0].numel() for l in self.recorded]
        self.names = [net.layers[l].name or f"layer{l}" for l in self.recorded]


def finish(
    layout: Layout,
    correct: torch.Tensor,
    spike_totals: torch.Tensor,
    n: int,
    silent: int,
    start: float,
    settings: dict[str, Any],
) -> SimulationResult:
    """Turn per-step correct counts and per-step spike totals into the result curves."""
    T = correct.shape[0]
    t = np.arange(1, T + 1, dtype=np.float64)
    sizes = np.asarray(layout.sizes, dtype=np.float64).reshape(-1, 1)
    rates = np.cumsum(spike_totals.cpu().numpy(), axis=1).reshape(-1, T) / (sizes * n * t)
    accuracy = correct.cpu().numpy().astype(np.float64) / n
    return SimulationResult(accuracy, rates, layout.names, n, int(silent), time.perf_counter() - start, settings)


def per_sample_counts(s: torch.Tensor) -> torch.Tensor:
    """Spike counts per (step, sample) as float64, summed in ``s``'s dtype first (exact below 2^24 per row).

    Reduces over the trailing dims in place of a reshape, which would copy a channels-last stack.
    """
    return s.sum(dim=tuple(range(2, s.ndim))).double() if s.ndim > 2 else s.double()


def _cumulate(x: torch.Tensor, carry: torch.Tensor | None) -> torch.Tensor:
    """In-place running sum over the leading time axis, continuing from ``carry`` (same order as per step)."""
    if carry is not None:
        x[0].add_(carry)
    for t in range(1, x.shape[0]):
        x[t].add_(x[t - 1])
    return x


class _Batch:
    """One batch of samples through all T steps, block by block (§S4)."""

    def __init__(
        self,
        net: SpikingNetwork,
        layout: Layout,
        ws: Workspace,
        enc: Any,
        reset: str,
        decode: str,
        probe: Probe | None,
        index: int,
    ) -> None:
        self.net, self.layout, self.ws, self.enc, self.reset, self.decode = net, layout, ws, enc, reset, decode
        self.probe, self.index = probe, index
        self.v: dict[int, torch.Tensor] = {}
        self.carry: torch.Tensor | None = None
        self.activity: torch.Tensor | None = None  # per-sample spikes into (membrane) / out of (spikes) the readout
        self.const0 = None
        if enc.constant:  # constant input: the first layer's current is the same at every step
            pre0 = net.layers[0].apply_pre_ops(enc.value)
            self.const0 = (pre0, net.layers[0].apply_op(to_layout(pre0, layout.channels_last[0])))

    def _current(self, l: int, s: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Direct input and input current of layer ``l`` for all steps of the block, shape (Tc, B, ...)."""
        tc, B = s.shape[:2]
        cl = self.layout.channels_last[l]
        if l == 0 and self.const0 is not None:
            pre0, cur0 = self.const0
            buf = self.ws.get("cur0", (tc * B, *cur0.shape[1:]), cur0.dtype, channels_last=cl and cur0.ndim == 4)
            return pre0.expand(tc, *pre0.shape), buf.unflatten(0, (tc, B)).copy_(cur0)
        layer = self.net.layers[l]
        pre = to_layout(pre_ops_spikes(layer, s.flatten(0, 1)), cl)
        cur = apply_op_buffered(layer, pre, self.ws, f"cur{l}")
        return pre.unflatten(0, (tc, B)), cur.unflatten(0, (tc, B))

    def _count_activity(self, per_sample: torch.Tensor) -> None:
        total = per_sample.sum(0)
        self.activity = total if self.activity is None else self.activity + total

    def block(self, t0: int, tc: int, spike_totals: torch.Tensor) -> torch.Tensor:
        """Advance by ``tc`` steps; returns the readout output at each step, shape (tc, B, classes)."""
        lay, s = self.layout, self.enc.block(tc)
        for l, _layer in enumerate(self.net.layers):
            membrane_readout = l == lay.last and self.decode == "membrane"
            if membrane_readout:
                self._count_activity(per_sample_counts(s))
            pre, cur = self._current(l, s)
            if self.probe is not None:
                self.probe.on_current(l, self.index, t0, pre, cur)
            if membrane_readout:
                out = _cumulate(cur, self.carry)
                break
            if l not in self.v:
                self.v[l] = initial_membrane(lay.thresholds[l], tuple(cur.shape[1:]), self.net.v_init, like=cur[0])
            s = if_scan(cur, self.v[l], lay.thresholds[l], self.reset)
            counts = per_sample_counts(s)
            spike_totals[lay.slot[l], t0 : t0 + tc] += counts.sum(1)
            if self.probe is not None:
                self.probe.on_spikes(l, self.index, t0, s, self.v[l])
            if l == lay.last:
                self._count_activity(counts)
                out = _cumulate(s, self.carry)
        self.carry = out[-1].clone()
        return out


def simulate(
    net: SpikingNetwork,
    images: torch.Tensor,
    labels: torch.Tensor,
    T: int,
    *,
    encoding: str = "poisson",
    seed: int = 0,
    max_rate: float = 1.0,
    reset: str = "subtract",
    decode: str = "membrane",
    batch_size: int = 500,
    time_chunk: int = 50,
    device: str | torch.device = "auto",
    dtype: torch.dtype = torch.float32,
    progress: bool = False,
    probe: Probe | None = None,
    channels_last: bool | None = None,
) -> SimulationResult:
    """Simulate ``net`` on ``images`` for T steps; accuracy and rates at every t = 1..T (§S3–§S5).

    Memory ≈ batch_size × time_chunk × (2 × input size + Σ linear widths + 2 × largest conv output) values
    of ``dtype`` (§S4); the results do not depend on time_chunk (§S5). Conv nets run at most
    ``ops.CONV_CALL_BYTES`` of conv output per block (fewer steps than ``time_chunk`` if needed), and
    channels-last (``channels_last=None``: float32 on the CPU; float64 keeps the reference's summation order).
    """
    check_args(net, images, labels, T, encoding, reset, decode, batch_size, time_chunk)
    start, dev = time.perf_counter(), resolve_device(device)
    net = net.to(dev, dtype)
    cl = prepare_layers(net, use_channels_last(dev, dtype) if channels_last is None else channels_last)
    layout, ws = Layout(net, images, decode, cl), Workspace(dev)
    chunk = steps_per_call(net, layout.out_sizes, min(batch_size, len(images)), dtype.itemsize, time_chunk)
    correct = torch.zeros(T, dtype=torch.int64, device=dev)
    spike_totals = torch.zeros(len(layout.recorded), T, dtype=torch.float64, device=dev)
    silent = torch.zeros((), dtype=torch.int64, device=dev)
    starts = range(0, len(images), batch_size)
    if progress:
        from tqdm import tqdm

        starts = tqdm(starts, desc="simulate", unit="batch")
    with torch.inference_mode():
        for b, lo in enumerate(starts):
            x, y = images[lo : lo + batch_size], labels[lo : lo + batch_size].to(dev)
            enc = make_encoder(
                encoding, x, seed=seed, batch_index=b, max_rate=max_rate, device=dev, dtype=dtype, workspace=ws
            )
            run = _Batch(net, layout, ws, enc, reset, decode, probe, b)
            for t0 in range(0, T, chunk):
                tc = min(chunk, T - t0)
                correct[t0 : t0 + tc] += (run.block(t0, tc, spike_totals).argmax(-1) == y).sum(1)
            silent += (run.activity == 0).sum()
            if probe is not None:
                probe.on_batch_end(b)
    settings = dict(
        T=T,
        encoding=encoding,
        seed=seed,
        max_rate=max_rate,
        reset=reset,
        decode=decode,
        batch_size=batch_size,
        time_chunk=time_chunk,
        device=str(dev),
        dtype=str(dtype).split(".")[-1],
    )
    return finish(layout, correct, spike_totals, len(images), int(silent), start, settings)


def to_frame(result: SimulationResult, **ids: Any) -> Any:
    """Tidy pandas DataFrame: one row per t with the ``ids`` columns, t, accuracy, rate_<layer> columns,
    n_samples and silent_output."""
    import pandas as pd

    T = result.T
    cols: dict[str, Any] = {k: [v] * T for k, v in ids.items()}
    cols["t"] = np.arange(1, T + 1)
    cols["accuracy"] = result.accuracy
    for name, r in zip(result.layer_names, result.rates):
        cols[f"rate_{name}"] = r
    cols["n_samples"] = result.n_samples
    cols["silent_output"] = result.silent_output
    return pd.DataFrame(cols)
