"""The plain per-step simulation loop: the reference the fast engine must reproduce (docs/method.md §S4)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import torch

from ..network import SpikingNetwork
from . import stream
from .encoding import make_encoder
from .engine import Layout, Probe, SimulationResult, check_args, finish, resolve_device


def simulate_stepwise(
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
    device: str | torch.device,
    dtype: torch.dtype = torch.float64,
    probe: Probe | None = None,
    image_ids: torch.Tensor | None = None,
    encoder: Callable[[torch.Tensor, torch.Tensor], Any] | None = None,
) -> SimulationResult:
    """for t: for layer: current, integrate, fire, reset (§S2–§S3); same arguments and spikes as ``simulate``.

    ``encoder(images, image_ids)``, if given, replaces the input encoding: any object whose ``block(1)`` returns
    the next step's input (tests use it to run the same network on an independent Bernoulli stream).
    """
    check_args(net, images, labels, T, encoding, reset, decode, batch_size, 1)
    start, dev = time.perf_counter(), resolve_device(device)
    ids = stream.image_ids(len(images), image_ids)
    net = net.to(dev, dtype)
    layout = Layout(net, images, decode)
    correct = torch.zeros(T, dtype=torch.int64)
    spike_totals = torch.zeros(len(layout.recorded), T, dtype=torch.float64)
    silent = 0
    with torch.inference_mode():
        for b, lo in enumerate(range(0, len(images), batch_size)):
            x, y = images[lo : lo + batch_size], labels[lo : lo + batch_size].to(dev)
            batch_ids = ids[lo : lo + batch_size]
            enc = (
                encoder(x, batch_ids)
                if encoder is not None
                else make_encoder(
                    encoding, x, seed=seed, image_ids=batch_ids, max_rate=max_rate, device=dev, dtype=dtype
                )
            )
            v: list[torch.Tensor | None] = [None] * len(net.layers)
            out: torch.Tensor | float = 0.0
            activity = torch.zeros(len(x), dtype=torch.float64)
            for t in range(T):
                s = enc.block(1)[0]
                spikes: list[torch.Tensor] = []  # this step's spikes of every layer so far (shortcut sources)
                for l, layer in enumerate(net.layers):
                    th = layout.thresholds[l]
                    if l == layout.last and decode == "membrane":
                        activity += s.reshape(len(x), -1).sum(1).double().cpu()
                    pre = layer.apply_pre_ops(s)
                    cur = layer.apply_op(pre)
                    if layer.shortcut is not None:  # the add node: both branches' currents into one neuron
                        cur = cur + layer.apply_shortcut(spikes[layer.shortcut["source"]])
                    if probe is not None:
                        probe.on_current(l, b, t, pre[None], cur[None])
                    if l == layout.last and decode == "membrane":
                        out = out + cur
                        break
                    if v[l] is None:
                        v[l] = th * net.v_init + torch.zeros_like(cur)
                    v[l] = v[l] + cur
                    s = (v[l] >= th).to(dtype)
                    spikes.append(s)
                    v[l] = v[l] - s * th if reset == "subtract" else torch.where(s > 0, 0.0, v[l])
                    spike_totals[layout.slot[l], t] += float(s.sum(dtype=torch.float64))
                    if probe is not None:
                        probe.on_spikes(l, b, t, s[None], v[l])
                    if l == layout.last:
                        activity += s.reshape(len(x), -1).sum(1).double().cpu()
                        out = out + s
                correct[t] += int((out.argmax(-1) == y).sum())
            silent += int((activity == 0).sum())
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
        time_chunk=1,
        device=str(dev),
        dtype=str(dtype).split(".")[-1],
        stream=stream.NAME if encoder is None else "custom",
    )
    return finish(layout, correct, spike_totals, len(images), silent, start, settings)
