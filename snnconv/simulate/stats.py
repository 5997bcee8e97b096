"""Membrane statistics: per-step input current mean/variance of sampled neurons vs. the ‖w‖² prediction (§S6).

For each sampled neuron j and test sample, the per-step input current I_t = Σ_i w_ji x_i,t + b_j is
accumulated over t = 1..T; its temporal mean and (unbiased) variance are averaged over samples. The
prediction ``var_pred_exact`` = Σ_i w_ji² v_i uses the measured temporal variance v_i of each direct
input x_i (after pre_ops), or the exact Bernoulli variance r(1 − r) for the encoded input layer.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from ..network import SpikingLayer, SpikingNetwork
from .engine import Probe, simulate


def pick_seed(sample_seed: int, layer: int) -> int:
    """63-bit seed of the neuron sample of one layer (a hash of the statistics' seed and the layer index)."""
    digest = hashlib.sha256(f"snnconv-poisson:{int(sample_seed)}:{int(layer)}".encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


def fan_in(layer: SpikingLayer) -> int:
    """Nominal inputs per neuron: in_features, or in_channels/groups × kernel area (border padding ignored), plus
    a shortcut's inputs."""
    return int(layer.input_weight_rows().shape[1])


def independent_variance(layer: SpikingLayer, v: torch.Tensor) -> torch.Tensor:
    """Variance after ``layer.pre_ops`` of independent inputs with variances ``v`` (avgpool divides by area)."""
    for pre in layer.pre_ops:
        if pre["type"] == "avgpool":
            k = pre["kernel_size"]
            area = k * k if isinstance(k, int) else int(np.prod(k))
            v = F.avg_pool2d(v, k, pre.get("stride") or k, pre.get("padding", 0)) / area
        else:
            v = torch.flatten(v, 1)
    return v


class _StatsProbe(Probe):
    """Accumulates per-sample temporal sums of currents (sampled neurons) and direct inputs (all)."""

    def __init__(self, net: SpikingNetwork, picks: list[torch.Tensor], T: int, first_var: torch.Tensor) -> None:
        self.net, self.picks, self.T, self.first_var = net, picks, T, first_var
        self.offset = 0
        self.sources = net.shortcut_sources()
        self.batch: dict[str, dict[int, torch.Tensor]] = {k: {} for k in ("cs", "cq", "xs", "xq", "spk", "src")}
        self.rows: dict[str, list[list[torch.Tensor]]] = {
            k: [[] for _ in net.layers] for k in ("mu", "var", "pred", "spk")
        }

    def _add(self, key: str, l: int, value: torch.Tensor) -> None:
        acc = self.batch[key]
        acc[l] = value if l not in acc else acc[l] + value

    def _picked(self, layer: int, x: torch.Tensor) -> torch.Tensor:
        """The sampled neurons of a (steps, B, ...) tensor, as float64 (steps, B, k)."""
        return x.reshape(x.shape[0], x.shape[1], -1)[:, :, self.picks[layer].to(x.device)].double()

    def on_current(self, layer: int, batch: int, t0: int, pre: torch.Tensor, current: torch.Tensor) -> None:
        cur = self._picked(layer, current)
        self._add("cs", layer, cur.sum(0))
        self._add("cq", layer, (cur * cur).sum(0))
        if layer > 0:
            x = pre.double()
            self._add("xs", layer, x.sum(0))
            self._add("xq", layer, (x * x).sum(0))

    def on_spikes(self, layer: int, batch: int, t0: int, spikes: torch.Tensor, v: torch.Tensor) -> None:
        self._add("spk", layer, self._picked(layer, spikes).sum(0))
        if layer in self.sources:  # a shortcut's direct input: all its neurons' spike counts (0/1, so x² = x)
            self._add("src", layer, spikes.double().sum(0))

    def on_batch_end(self, batch: int) -> None:
        T, acc = self.T, {k: {l: t.cpu() for l, t in d.items()} for k, d in self.batch.items()}
        for l, layer in enumerate(self.net.layers):
            s, q = acc["cs"][l], acc["cq"][l]
            B = s.shape[0]
            if l == 0:
                v_in = self.first_var[self.offset : self.offset + B]
            else:
                v_in = (acc["xq"][l] - acc["xs"][l] ** 2 / T) / max(T - 1, 1)
            pred = layer.apply_op(v_in.clamp(min=0), weight=layer.weight**2, bias=False)
            if layer.shortcut is not None:  # the add node: the shortcut's independent inputs add their variance
                n = acc["src"][layer.shortcut["source"]]
                v_src = ((n - n * n / T) / max(T - 1, 1)).clamp(min=0)
                pred = pred + layer.apply_shortcut(v_src, weight=layer.shortcut_weight**2)
            pred = pred.reshape(B, -1)[:, self.picks[l]]
            self.rows["mu"][l].append(s / T)
            self.rows["var"][l].append(((q - s * s / T) / max(T - 1, 1)).clamp(min=0))
            self.rows["pred"][l].append(pred)
            if l in acc["spk"]:
                self.rows["spk"][l].append(acc["spk"][l] / T)
        self.offset += B
        self.batch = {k: {} for k in self.batch}


def _channel(layer_shape: tuple[int, ...], flat: torch.Tensor) -> torch.Tensor:
    """Channel index of flat neuron indices of a (C, ...) output (the neuron itself for linear layers)."""
    return flat // int(np.prod(layer_shape[1:])) if len(layer_shape) > 1 else flat


def record_membrane_stats(
    net: SpikingNetwork,
    images: torch.Tensor,
    T: int,
    *,
    seed: int,
    neurons_per_layer: int,
    sample_seed: int,
    max_rate: float,
    batch_size: int,
    time_chunk: int,
    device: str | torch.device,
    reset: str,
    dtype: torch.dtype = torch.float32,
) -> Any:
    """Membrane statistics of a seeded random sample of neurons per layer (readout included), Poisson input (§S6).

    The simulation runs in ``dtype``; all sums are accumulated in float64. Returns a pandas DataFrame, one row
    per sampled neuron: layer, layer_index, neuron (flat index), channel, fan_in, threshold, mean_current,
    var_current, std_current, var_pred_exact, rate, n_samples, T.
    """
    import pandas as pd

    if T < 2:
        raise ValueError("membrane statistics need T >= 2 (temporal variance)")
    net64 = net.to("cpu", torch.float64)
    with torch.inference_mode():
        shapes = [tuple(o.shape[1:]) for o in net64.rate_forward(images[:1].double(), clamp=False)]
        r = (images.double() * float(max_rate)).clamp(0.0, 1.0)
        first_var = independent_variance(net64.layers[0], r * (1 - r))
    picks = []
    for l, shape in enumerate(shapes):
        n = int(np.prod(shape))
        perm = torch.randperm(n, generator=torch.Generator().manual_seed(pick_seed(sample_seed, l)))
        picks.append(perm[: min(neurons_per_layer, n)].sort().values)
    probe = _StatsProbe(net64, picks, T, first_var)
    labels = torch.zeros(len(images), dtype=torch.int64)
    simulate(
        net,
        images,
        labels,
        T,
        encoding="poisson",
        seed=seed,
        max_rate=max_rate,
        reset=reset,
        decode="membrane",
        batch_size=batch_size,
        time_chunk=time_chunk,
        device=device,
        dtype=dtype,
        probe=probe,
        compile="false",  # a probe reads every step's tensors: the eager engine
    )
    frames = []
    for l, (layer, shape, pick) in enumerate(zip(net64.layers, shapes, picks)):

        def mean(key: str, l: int = l, pick: torch.Tensor = pick) -> np.ndarray:
            """Mean over samples of a per-sample statistic (NaN if never recorded, e.g. readout rates)."""
            rows = probe.rows[key][l]
            return torch.cat(rows).mean(0).numpy() if rows else np.full(len(pick), np.nan)

        var = mean("var")
        channel = _channel(shape, pick)
        frames.append(
            pd.DataFrame(
                {
                    "layer": layer.name or f"layer{l}",
                    "layer_index": l,
                    "neuron": pick.numpy(),
                    "channel": channel.numpy(),
                    "fan_in": fan_in(layer),
                    "threshold": layer.threshold[channel].numpy(),
                    "mean_current": mean("mu"),
                    "var_current": var,
                    "std_current": np.sqrt(var),
                    "var_pred_exact": mean("pred"),
                    "rate": mean("spk"),
                    "n_samples": len(images),
                    "T": T,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)
