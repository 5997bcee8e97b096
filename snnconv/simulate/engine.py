"""The spiking-network simulator: accuracy and rates at every t = 1..T from one run (docs/method.md §S3–§S5).

Samples are processed in batches; within a batch, time runs in blocks of ``time_chunk`` steps. For each
block and layer, the input current of every step of the block comes from ONE op call on the
(steps·B, ...) stack of input spikes, then the IF scan walks the block's steps elementwise, carrying
each layer's membrane across blocks. ``reference.simulate_stepwise`` is the plain per-step loop.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from ..network import SpikingNetwork
from . import stream
from .allocator import keep_freed_memory
from .compiled import StepRunner, make_plan, to_nhwc, wants_compile
from .encoding import ENCODINGS, check_pixels, make_encoder
from .neurons import RESETS, if_scan, initial_membrane
from .ops import apply_op_buffered, pre_ops_spikes, prepare_layers, steps_per_call, to_layout, use_channels_last
from .workspace import Workspace

log = logging.getLogger("snnconv.simulate")

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
    compile_seconds: float = 0.0  # spent compiling the step (0 when eager); included in ``seconds``

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
        self.shapes = [tuple(o.shape[1:]) for o in outs]
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


class ProgressLog:
    """An INFO line (to the job's log) at most every :attr:`every` seconds of a long simulation: where it is, how
    long it has run and about how long it has left, so a log being followed shows a job that is alive."""

    every = 30.0

    def __init__(self, n_batches: int, T: int) -> None:
        self.total, self.T = n_batches * T, T
        self.start = self.last = time.perf_counter()

    def step(self, batch: int, t: int) -> None:
        """After step ``t`` (1-based) of batch ``batch`` (0-based)."""
        now = time.perf_counter()
        if now - self.last < self.every:
            return
        self.last = now
        done = batch * self.T + t
        left = (now - self.start) * (self.total - done) / max(done, 1)
        log.info(
            "simulate: batch %d, step %d of %d (%.0f %% of the run) after %.0f s, about %.0f s left",
            batch + 1,
            t,
            self.T,
            100.0 * done / self.total,
            now - self.start,
            left,
        )


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
        self.sources = net.shortcut_sources()
        self.block_spikes: dict[int, torch.Tensor] = {}  # this block's spikes of the layers that feed a shortcut
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
        if layer.shortcut is not None:  # the add node: the shortcut's current from its source's spikes of the block
            src = to_layout(self.block_spikes[layer.shortcut["source"]].flatten(0, 1), cl)
            cur = cur + layer.apply_shortcut(src)
        return pre.unflatten(0, (tc, B)), cur.unflatten(0, (tc, B))

    def _count_activity(self, per_sample: torch.Tensor) -> None:
        total = per_sample.sum(0)
        self.activity = total if self.activity is None else self.activity + total

    def block(self, t0: int, tc: int, spike_totals: torch.Tensor) -> torch.Tensor:
        """Advance by ``tc`` steps; returns the readout output at each step, shape (tc, B, classes)."""
        lay, s = self.layout, self.enc.block(tc)
        self.block_spikes = {}
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
            if l in self.sources:  # the scan's output is this layer's own buffer, rewritten only in the next block
                self.block_spikes[l] = s
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
    encoding: str,
    seed: int,
    max_rate: float,
    reset: str,
    decode: str,
    batch_size: int,
    time_chunk: int,
    device: str | torch.device,
    compile: str | bool,
    dtype: torch.dtype = torch.float32,
    progress: bool = False,
    probe: Probe | None = None,
    channels_last: bool | None = None,
    image_ids: torch.Tensor | None = None,
) -> SimulationResult:
    """Simulate ``net`` on ``images`` for T steps; accuracy and rates at every t = 1..T (§S3–§S5).

    The settings that are config keys (the ``simulation`` section; ``seed`` one of its ``input_seeds``) have no
    default here: the schema holds them, and callers pass the validated config's values.

    Arguments:
        net: the converted network (copied to ``device`` and ``dtype``).
        images, labels: inputs in [0, 1], shape (N, ...), and their N class indices.
        T: time steps; accuracy and rates are returned for every t = 1..T.
        encoding, seed, max_rate: the input (§S1): ``poisson`` spikes from the counter stream keyed by ``seed``,
            or a ``constant`` current; pixel · max_rate is the spike probability per step.
        reset, decode: IF reset (``subtract`` / ``zero``) and readout (``membrane`` / ``spikes``), §S2–§S3.
        batch_size, time_chunk: images per batch and steps per block of the eager engine (memory vs speed; the
            results do not depend on them, §S5).
        device, dtype: where and in which float type to simulate (``auto``: CUDA when present).
        progress: a progress bar over batches.
        probe: observer hooks (membrane statistics); a probe runs the eager engine.
        channels_last: conv layers in channels-last memory in the eager engine (None: float32 on the CPU).
        image_ids: each image's index in its dataset split, which keys its input spikes (default 0..N-1).
        compile: ``true`` / ``false`` / ``auto`` (compile where the work pays for it): one compiled step per
            time step (:mod:`.compiled`) instead of the eager block engine.

    Memory of the eager engine ≈ batch_size × time_chunk × (2 × input size + Σ linear widths + 2 × largest conv
    output) values of ``dtype`` (§S4); conv nets run at most ``ops.CONV_CALL_BYTES`` of conv output per block.
    """
    check_args(net, images, labels, T, encoding, reset, decode, batch_size, time_chunk)
    start, dev = time.perf_counter(), resolve_device(device)
    ids = stream.image_ids(len(images), image_ids)
    stream.check_counters(ids, images[0].numel(), T)
    net = net.to(dev, dtype)
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
        stream=stream.NAME,
    )
    layout = Layout(net, images, decode)
    if probe is not None:  # a probe reads every step's tensors: the eager engine
        use_compile, why = False, "a probe needs the eager engine"
    else:
        use_compile, why = wants_compile(compile, dev, sum(layout.out_sizes), len(images), T)
    settings["engine"] = "compiled" if use_compile else "eager"
    correct = torch.zeros(T, dtype=torch.int64, device=dev)
    spike_totals = torch.zeros(len(layout.recorded), T, dtype=torch.float64, device=dev)
    batches = [(b, lo) for b, lo in enumerate(range(0, len(images), batch_size))]
    progress_log = ProgressLog(len(batches), T)
    if progress:
        from tqdm import tqdm

        batches = tqdm(batches, desc="simulate", unit="batch")
    cfg = dict(settings, compile=compile, channels_last=channels_last)
    run = _Run(net, images, labels, ids, T, cfg, batches, layout, correct, spike_totals, probe, progress_log)
    with torch.inference_mode():
        silent, compile_seconds, compiled = (_run_compiled if use_compile else _run_eager)(run)
    if use_compile and not compiled:
        settings["engine"] = "eager (compile failed)"
    log.debug("simulate: %s (%s)", settings["engine"], why)
    result = finish(layout, correct, spike_totals, len(images), silent, start, settings)
    result.compile_seconds = compile_seconds
    return result


@dataclass
class _Run:
    """One simulation as both engines see it: the network (on its device and dtype), the images with their labels
    and ids, the settings, the batches, the layout and the accumulators the engines add to."""

    net: SpikingNetwork
    images: torch.Tensor
    labels: torch.Tensor
    ids: torch.Tensor
    T: int
    cfg: dict[str, Any]
    batches: Any
    layout: Layout
    correct: torch.Tensor
    spike_totals: torch.Tensor
    probe: Probe | None
    progress: ProgressLog


def _run_eager(run: _Run) -> tuple[int, float, bool]:
    """The block engine (§S4): per batch, blocks of time steps, one op call per layer and block."""
    net, images, labels, ids, T, cfg, layout = run.net, run.images, run.labels, run.ids, run.T, run.cfg, run.layout
    correct, spike_totals, probe = run.correct, run.spike_totals, run.probe
    dev, dtype = correct.device, net.layers[0].weight.dtype
    cl = prepare_layers(net, use_channels_last(dev, dtype) if cfg["channels_last"] is None else cfg["channels_last"])
    layout.channels_last = cl
    ws = Workspace(dev)
    batch_size = int(cfg["batch_size"])
    chunk = steps_per_call(net, layout.out_sizes, min(batch_size, len(images)), dtype.itemsize, int(cfg["time_chunk"]))
    silent = torch.zeros((), dtype=torch.int64, device=dev)
    for b, lo in run.batches:
        x, y = images[lo : lo + batch_size], labels[lo : lo + batch_size].to(dev)
        enc = make_encoder(
            cfg["encoding"],
            x,
            seed=int(cfg["seed"]),
            image_ids=ids[lo : lo + batch_size],
            max_rate=float(cfg["max_rate"]),
            device=dev,
            dtype=dtype,
            workspace=ws,
        )
        one = _Batch(net, layout, ws, enc, cfg["reset"], cfg["decode"], probe, b)
        for t0 in range(0, T, chunk):
            tc = min(chunk, T - t0)
            correct[t0 : t0 + tc] += (one.block(t0, tc, spike_totals).argmax(-1) == y).sum(1)
            run.progress.step(b, t0 + tc)
        silent += (one.activity == 0).sum()
        if probe is not None:
            probe.on_batch_end(b)
    return int(silent), 0.0, False


def _membrane(layout: Layout, l: int, batch: int, v_init: float, channels_last: bool) -> torch.Tensor:
    """Initial membrane of layer ``l`` for a batch, channels-last where its conv output is."""
    shape = (batch, *layout.shapes[l])
    th = layout.thresholds[l]
    if channels_last and len(shape) == 4:
        like = torch.empty(shape, dtype=th.dtype, device=th.device, memory_format=torch.channels_last)
        return initial_membrane(th, shape, v_init, like=like)
    return initial_membrane(th, shape, v_init)


def _run_compiled(run: _Run) -> tuple[int, float, bool]:
    """One compiled call per time step (:mod:`.compiled`); per-step results stay on the device until a batch ends."""
    net, images, labels, ids, T, cfg, layout = run.net, run.images, run.labels, run.ids, run.T, run.cfg, run.layout
    correct, spike_totals = run.correct, run.spike_totals
    dev, dtype = correct.device, net.layers[0].weight.dtype
    if dev.type == "cpu":
        keep_freed_memory()
    batch_size, n_pixels = int(cfg["batch_size"]), images[0].numel()
    cl = prepare_layers(net, use_channels_last(dev, dtype) if cfg["channels_last"] is None else cfg["channels_last"])
    plan = make_plan(net, cfg["encoding"], cfg["reset"], cfg["decode"], input_nhwc=cl[0])
    uneven = len(images) > batch_size and len(images) % batch_size != 0  # a shorter last batch
    runner = StepRunner(plan, strict=str(cfg["compile"]).lower() == "true", dynamic_batch=uneven)
    weights = [layer.weight for layer in net.layers] + [layer.shortcut_weight for layer in net.layers]
    biases = [layer.bias for layer in net.layers]
    silent = torch.zeros((), dtype=torch.int64, device=dev)
    for b, lo in run.batches:
        x, y = images[lo : lo + batch_size].to(dev), labels[lo : lo + batch_size].to(dev)
        if cfg["encoding"] == "poisson":
            base, r = stream.image_keys(ids[lo : lo + batch_size].to(dev), int(cfg["seed"]), n_pixels)
            limit = stream.spike_limits(x, float(cfg["max_rate"]))
            if plan.input_nhwc:  # same words, stored in the order a channels-last first conv reads
                base, limit = to_nhwc(base, plan.input_shape), to_nhwc(limit, plan.input_shape)
            source = [base, limit, r]
        else:
            value = (x.to(dtype) * float(cfg["max_rate"])).contiguous()
            source = [net.layers[0].current(value), value]
        v = [_membrane(layout, l, len(x), net.v_init, cl[l]) for l in layout.recorded]
        readout = torch.zeros(len(x), net.layers[-1].n_out, dtype=dtype, device=dev)
        activity = torch.zeros(len(x), dtype=torch.float64, device=dev)
        t = torch.zeros((), dtype=torch.int32, device=dev)  # 0-d: a scalar in the compiled kernels
        args = (plan, t, source, weights, biases, layout.thresholds, v, readout, activity, y)
        rows = []
        for step in range(T):
            rows.append(runner(*args))
            run.progress.step(b, step + 1)
        steps = torch.stack(rows)
        correct += steps[:, 0]
        spike_totals += steps[:, 1:].T.double()
        silent += (activity == 0).sum()
    return int(silent), runner.compile_seconds, runner.compiled


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
