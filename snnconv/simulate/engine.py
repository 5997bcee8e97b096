"""The spiking-network simulator: all time steps 1..T evaluated in one run (docs/method.md §S3–§S5).

Samples are processed in batches; within a batch, time runs in blocks of ``time_chunk`` steps. For each
block and layer, the input current of every step of the block comes from ONE op call on the
(steps·B, ...) stack of input spikes, then the IF scan walks the block's steps elementwise, carrying
each layer's membrane across blocks. :func:`simulate_stepwise` is the plain per-step reference.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from ..network import SpikingLayer, SpikingNetwork
from .encoding import ENCODINGS, Workspace, make_encoder
from .neurons import RESETS, if_scan, initial_membrane

DECODES = ("membrane", "spikes")


@dataclass
class SimulationResult:
    """Accuracy and mean firing rates at every t = 1..T of one simulation run (§S4)."""

    accuracy: np.ndarray  # (T,): fraction correct using the readout accumulated up to t
    rates: np.ndarray  # (L, T): cumulative mean spike rate per recorded layer up to t
    layer_names: list[str]
    n_samples: int
    silent_output: int  # samples whose readout saw no spike input (membrane) / emitted no spike (spikes)
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


def recorded_layers(net: SpikingNetwork, decode: str) -> list[int]:
    """Indices of the layers whose spike rates are reported: hidden layers (+ the readout for 'spikes')."""
    last = len(net.layers) - 1
    return [i for i in range(len(net.layers)) if i < last or decode == "spikes"]


def _check(net: SpikingNetwork, images: torch.Tensor, labels: torch.Tensor, T: int, encoding: str, reset: str,
           decode: str, batch_size: int, time_chunk: int) -> None:
    """Validate arguments with clear messages."""
    if encoding not in ENCODINGS or reset not in RESETS or decode not in DECODES:
        raise ValueError(f"encoding/reset/decode must be in {ENCODINGS}/{RESETS}/{DECODES}, "
                         f"got {encoding!r}/{reset!r}/{decode!r}")
    if T < 1 or batch_size < 1 or time_chunk < 1:
        raise ValueError(f"T, batch_size and time_chunk must be >= 1, got {T}, {batch_size}, {time_chunk}")
    if not net.layers or any(not l.spiking for l in net.layers[:-1]):
        raise ValueError("network must be non-empty and only its last layer may be non-spiking")
    if not images.is_floating_point() or images.ndim < 2 or len(images) != len(labels) or len(images) == 0:
        raise ValueError(f"need float images (N, ...) and N labels, got {tuple(images.shape)} {images.dtype} "
                         f"and {tuple(labels.shape)}")
    if float(images.min()) < 0.0 or float(images.max()) > 1.0:
        raise ValueError("images must lie in [0, 1] (pixel intensity = spike probability per step)")


def _thresholds(net: SpikingNetwork, images: torch.Tensor) -> list[torch.Tensor]:
    """Each layer's threshold reshaped to broadcast against its (B, ...) output."""
    outs = net.rate_forward(images[:1].to(net.layers[0].weight), clamp=False)
    return [layer.threshold_view(o.ndim) for layer, o in zip(net.layers, outs)]


def _apply_op(layer: SpikingLayer, pre: torch.Tensor, ws: Workspace, key: str) -> torch.Tensor:
    """``layer.apply_op`` with linear outputs written into a reused buffer (same kernel as ``F.linear``)."""
    if layer.op["type"] != "linear":
        return layer.apply_op(pre)
    out = ws.get(key, (pre.shape[0], layer.n_out), pre.dtype)
    if layer.bias is None:
        return torch.mm(pre, layer.weight.t(), out=out)
    return torch.addmm(layer.bias, pre, layer.weight.t(), out=out)


def _per_sample(s: torch.Tensor) -> torch.Tensor:
    """Spike counts per (step, sample) as float64; summed in ``s``'s dtype first (exact below 2^24 per row)."""
    return s.reshape(s.shape[0], s.shape[1], -1).sum(2).double()


def _cumulate(x: torch.Tensor, carry: torch.Tensor | None) -> torch.Tensor:
    """In-place running sum over the leading time axis, continuing from ``carry`` (sequential, as per step)."""
    if carry is not None:
        x[0].add_(carry)
    for t in range(1, x.shape[0]):
        x[t].add_(x[t - 1])
    return x


def _finish(correct: torch.Tensor, spikes: torch.Tensor, sizes: list[int], names: list[str], n: int, silent: int,
            seconds: float, settings: dict[str, Any]) -> SimulationResult:
    """Turn per-step correct counts and per-step spike totals into the result curves."""
    T = correct.shape[0]
    t = np.arange(1, T + 1, dtype=np.float64)
    acc = correct.cpu().numpy().astype(np.float64) / n
    counts = spikes.cpu().numpy()
    rates = np.cumsum(counts, axis=1) / (np.asarray(sizes, dtype=np.float64)[:, None] * n * t[None, :])
    return SimulationResult(acc, rates.reshape(len(sizes), T), names, n, int(silent), seconds, settings)


def simulate(net: SpikingNetwork, images: torch.Tensor, labels: torch.Tensor, T: int, *, encoding: str = "poisson",
             seed: int = 0, max_rate: float = 1.0, reset: str = "subtract", decode: str = "membrane",
             batch_size: int = 500, time_chunk: int = 50, device: str | torch.device = "auto",
             dtype: torch.dtype = torch.float32, progress: bool = False, probe: Probe | None = None) -> SimulationResult:
    """Simulate ``net`` for T steps and return accuracy and rates at every t = 1..T (§S3–§S5).

    Memory: about 3 × batch_size × time_chunk × (largest layer) values of ``dtype``.
    """
    _check(net, images, labels, T, encoding, reset, decode, batch_size, time_chunk)
    start = time.perf_counter()
    dev = resolve_device(device)
    net = net.to(dev, dtype)
    thr = _thresholds(net, images)
    last, rec = len(net.layers) - 1, recorded_layers(net, decode)
    slot = {l: i for i, l in enumerate(rec)}
    correct = torch.zeros(T, dtype=torch.int64, device=dev)
    spike_totals = torch.zeros(len(rec), T, dtype=torch.float64, device=dev)
    sizes = [0] * len(rec)
    silent = torch.zeros((), dtype=torch.int64, device=dev)
    ws = Workspace(dev)
    batches = range(0, len(images), batch_size)
    if progress:
        from tqdm import tqdm
        batches = tqdm(batches, desc="simulate", unit="batch")
    with torch.inference_mode():
        for b, lo in enumerate(batches):
            x_b, y = images[lo:lo + batch_size], labels[lo:lo + batch_size].to(dev)
            B = len(x_b)
            enc = make_encoder(encoding, x_b, seed=seed, batch_index=b, max_rate=max_rate, device=dev, dtype=dtype,
                               workspace=ws)
            v: dict[int, torch.Tensor] = {}
            readout_carry: torch.Tensor | None = None
            activity = torch.zeros(B, dtype=torch.float64, device=dev)
            const0 = None
            if enc.constant:  # constant input: the first layer's current is the same every step
                pre0 = net.layers[0].apply_pre_ops(enc.value)
                const0 = (pre0, net.layers[0].apply_op(pre0))
            for t0 in range(0, T, time_chunk):
                tc = min(time_chunk, T - t0)
                s = enc.block(tc)
                for l, layer in enumerate(net.layers):
                    if l == last and decode == "membrane":
                        activity += _per_sample(s).sum(0)
                    if l == 0 and const0 is not None:
                        pre = const0[0].unsqueeze(0).expand(tc, *const0[0].shape)
                        cur = ws.get("cur0", (tc, *const0[1].shape), dtype).copy_(const0[1])
                    else:
                        pre = layer.apply_pre_ops(s.reshape(tc * B, *s.shape[2:]))
                        cur = _apply_op(layer, pre, ws, f"cur{l}")
                        pre, cur = pre.view(tc, B, *pre.shape[1:]), cur.view(tc, B, *cur.shape[1:])
                    if probe is not None:
                        probe.on_current(l, b, t0, pre, cur)
                    if l == last and decode == "membrane":
                        readout = _cumulate(cur, readout_carry)
                        readout_carry = readout[-1].clone()
                        break
                    if l not in v:
                        v[l] = initial_membrane(thr[l], cur.shape[1:], net.v_init)
                    s = if_scan(cur, v[l], thr[l], reset)
                    sizes[slot[l]] = s[0, 0].numel()
                    per_sample = _per_sample(s)
                    spike_totals[slot[l], t0:t0 + tc] += per_sample.sum(1)
                    if probe is not None:
                        probe.on_spikes(l, b, t0, s, v[l])
                    if l == last:
                        activity += per_sample.sum(0)
                        readout = _cumulate(s, readout_carry)
                        readout_carry = readout[-1].clone()
                correct[t0:t0 + tc] += (readout.argmax(-1) == y).sum(1)
            silent += (activity == 0).sum()
            if probe is not None:
                probe.on_batch_end(b)
    settings = dict(T=T, encoding=encoding, seed=seed, max_rate=max_rate, reset=reset, decode=decode,
                    batch_size=batch_size, time_chunk=time_chunk, device=str(dev), dtype=str(dtype).split(".")[-1])
    names = [net.layers[l].name or f"layer{l}" for l in rec]
    return _finish(correct, spike_totals, sizes, names, len(images), int(silent), time.perf_counter() - start, settings)


def simulate_stepwise(net: SpikingNetwork, images: torch.Tensor, labels: torch.Tensor, T: int, *,
                      encoding: str = "poisson", seed: int = 0, max_rate: float = 1.0, reset: str = "subtract",
                      decode: str = "membrane", batch_size: int = 500, device: str | torch.device = "cpu",
                      dtype: torch.dtype = torch.float64, probe: Probe | None = None) -> SimulationResult:
    """Plain reference: for t, for layer: current, integrate, fire, reset (§S3). Slow; for tests."""
    _check(net, images, labels, T, encoding, reset, decode, batch_size, 1)
    start = time.perf_counter()
    dev = resolve_device(device)
    net = net.to(dev, dtype)
    thr = _thresholds(net, images)
    last, rec = len(net.layers) - 1, recorded_layers(net, decode)
    correct = torch.zeros(T, dtype=torch.int64)
    spike_totals = torch.zeros(len(rec), T, dtype=torch.float64)
    sizes = [net.rate_forward(images[:1].to(dev, dtype))[l][0].numel() for l in rec]
    silent = 0
    with torch.inference_mode():
        for b, lo in enumerate(range(0, len(images), batch_size)):
            x_b, y = images[lo:lo + batch_size], labels[lo:lo + batch_size].to(dev)
            enc = make_encoder(encoding, x_b, seed=seed, batch_index=b, max_rate=max_rate, device=dev, dtype=dtype)
            v: list[torch.Tensor | None] = [None] * len(net.layers)
            acc: torch.Tensor | float = 0.0
            activity = torch.zeros(len(x_b), dtype=torch.float64)
            for t in range(T):
                s = enc.block(1)[0]
                for l, layer in enumerate(net.layers):
                    if l == last and decode == "membrane":
                        activity += s.reshape(len(x_b), -1).sum(1, dtype=torch.float64).cpu()
                    pre = layer.apply_pre_ops(s)
                    cur = layer.apply_op(pre)
                    if probe is not None:
                        probe.on_current(l, b, t, pre[None], cur[None])
                    if l == last and decode == "membrane":
                        acc = acc + cur
                        break
                    if v[l] is None:
                        v[l] = thr[l] * net.v_init + torch.zeros_like(cur)
                    v[l] = v[l] + cur
                    s = (v[l] >= thr[l]).to(dtype)
                    v[l] = v[l] - s * thr[l] if reset == "subtract" else torch.where(s > 0, 0.0, v[l])
                    spike_totals[rec.index(l), t] += float(s.sum(dtype=torch.float64))
                    if probe is not None:
                        probe.on_spikes(l, b, t, s[None], v[l])
                    if l == last:
                        activity += s.reshape(len(x_b), -1).sum(1, dtype=torch.float64).cpu()
                        acc = acc + s
                correct[t] += int((acc.argmax(-1) == y).sum())
            silent += int((activity == 0).sum())
            if probe is not None:
                probe.on_batch_end(b)
    names = [net.layers[l].name or f"layer{l}" for l in rec]
    settings = dict(T=T, encoding=encoding, seed=seed, max_rate=max_rate, reset=reset, decode=decode,
                    batch_size=batch_size, time_chunk=1, device=str(dev), dtype=str(dtype).split(".")[-1])
    return _finish(correct, spike_totals, sizes, names, len(images), silent, time.perf_counter() - start, settings)


def to_frame(result: SimulationResult, **ids: Any) -> "Any":
    """Tidy pandas DataFrame: one row per t with the ``ids`` columns, t, accuracy and rate_<layer> columns."""
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
