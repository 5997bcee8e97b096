"""Small spiking and ANN networks built by hand for the simulator and conversion tests, and a probe that records
what the engine sees.
"""

from __future__ import annotations

import torch
from torch import nn

from snnconv.network import (
    SpikingLayer,
    SpikingNetwork,
)
from snnconv.simulate import Probe


def linear(
    w: torch.Tensor,
    b: torch.Tensor | None,
    theta: torch.Tensor | float,
    spiking: bool = True,
    name: str = "",
    pre: list | None = None,
) -> SpikingLayer:
    """A linear layer; scalar ``theta`` is broadcast to every neuron."""
    th = theta if isinstance(theta, torch.Tensor) else torch.full((w.shape[0],), float(theta), dtype=w.dtype)
    return SpikingLayer({"type": "linear"}, w, b, th, pre or [], spiking, name)


def random_mlp(
    sizes: list[int], in_shape: tuple[int, int, int], seed: int = 0, theta: float = 1.0, v_init: float = 0.0
) -> SpikingNetwork:
    """Random MLP with a flatten in front and a non-spiking readout."""
    g = torch.Generator().manual_seed(seed)
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        w = torch.randn(b, a, generator=g) * (2.0 / a) ** 0.5
        layers.append(
            linear(
                w,
                0.05 * torch.randn(b, generator=g),
                theta,
                i < len(sizes) - 2,
                f"fc{i + 1}",
                [{"type": "flatten"}] if i == 0 else [],
            )
        )
    return SpikingNetwork(layers, in_shape, v_init)


def small_cnn(seed: int = 0, theta: float = 1.0) -> SpikingNetwork:
    """conv3(4) - avgpool2 - conv3(6) - avgpool2 - linear(5) readout on 1×8×8 inputs."""
    g = torch.Generator().manual_seed(seed)
    conv = {"type": "conv2d", "stride": 1, "padding": 1}
    pool = {"type": "avgpool", "kernel_size": 2}
    layers = [
        SpikingLayer(
            dict(conv),
            torch.randn(4, 1, 3, 3, generator=g) * 0.5,
            0.05 * torch.randn(4, generator=g),
            torch.full((4,), theta),
            [],
            True,
            "conv1",
        ),
        SpikingLayer(
            dict(conv),
            torch.randn(6, 4, 3, 3, generator=g) * 0.3,
            0.05 * torch.randn(6, generator=g),
            torch.full((6,), theta),
            [dict(pool)],
            True,
            "conv2",
        ),
        SpikingLayer(
            {"type": "linear"},
            torch.randn(5, 24, generator=g) * 0.3,
            0.05 * torch.randn(5, generator=g),
            torch.ones(5),
            [dict(pool), {"type": "flatten"}],
            False,
            "out",
        ),
    ]
    return SpikingNetwork(layers, (1, 8, 8))


def normalise(net: SpikingNetwork, x: torch.Tensor, headroom: float = 1.0) -> SpikingNetwork:
    """Layer-wise data-based normalisation: θ = headroom × max activation, so activations stay ≤ 1/headroom."""
    with torch.no_grad():
        for layer in net.layers:
            z = layer.current(x)
            if layer.spiking:
                layer.threshold = torch.full_like(layer.threshold, headroom * float(z.max().clamp(min=1e-3)))
                x = torch.relu(z / layer.threshold_view(z.ndim)).clamp(max=1)
    return net


class Recorder(Probe):
    """Probe keeping every layer's spike trains and currents (T, N, ...) and final membranes."""

    def __init__(self) -> None:
        self.spikes: dict[int, list[tuple[int, int, torch.Tensor]]] = {}
        self.currents: dict[int, list[tuple[int, int, torch.Tensor]]] = {}
        self.v: dict[int, dict[int, torch.Tensor]] = {}

    def on_current(self, layer, batch, t0, pre, current):
        self.currents.setdefault(layer, []).append((batch, t0, current.clone()))

    def on_spikes(self, layer, batch, t0, spikes, v):
        self.spikes.setdefault(layer, []).append((batch, t0, spikes.clone()))
        self.v.setdefault(layer, {})[batch] = v.clone()

    @staticmethod
    def _stack(items) -> torch.Tensor:
        """Concatenate blocks over time within a batch, then batches over samples."""
        batches: dict[int, list] = {}
        for b, t0, x in items:
            batches.setdefault(b, []).append((t0, x))
        in_time = [torch.cat([x for _, x in sorted(v, key=lambda p: p[0])]) for _, v in sorted(batches.items())]
        return torch.cat(in_time, 1)

    def spike_train(self, layer: int) -> torch.Tensor:
        """(T, N, ...) spikes of a layer."""
        return self._stack(self.spikes[layer])

    def current(self, layer: int) -> torch.Tensor:
        """(T, N, ...) input current of a layer."""
        return self._stack(self.currents[layer])

    def final_v(self, layer: int) -> torch.Tensor:
        """(N, ...) membrane after the last step."""
        return torch.cat([v for _, v in sorted(self.v[layer].items())])


def randomize_bn(model: nn.Module, seed: int = 0) -> nn.Module:
    """Trained-looking BN statistics and affine parameters (fresh BN is the identity and would hide folding bugs)."""
    g = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            n = m.num_features
            m.running_mean.copy_(torch.rand(n, generator=g) * 0.4 - 0.2)
            m.running_var.copy_(torch.rand(n, generator=g) + 0.5)
            m.weight.data.copy_(torch.rand(n, generator=g) + 0.5)
            m.bias.data.copy_(torch.rand(n, generator=g) * 0.4 - 0.1)
    return model.eval()
