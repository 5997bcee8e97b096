"""Small network files for the bad-checkpoint and interrupted-run tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch


def saved_network(path: Path, threshold: float = 1.0, shape=(1, 8, 8), damage: Callable | None = None) -> Path:
    """A small converted-style network 64 -> 16 (IF) -> 10 (readout), saved like the convert rule does."""
    from snnconv.network import SpikingLayer, SpikingNetwork, network_to_dict, save_network

    torch.manual_seed(0)
    n_in = int(torch.tensor(shape).prod())
    hidden = SpikingLayer(
        {"type": "linear"},
        torch.rand(16, n_in) * 0.1,
        torch.zeros(16),
        torch.full((16,), threshold),
        pre_ops=[{"type": "flatten"}],
        name="fc1",
    )
    out = SpikingLayer(
        {"type": "linear"}, torch.rand(10, 16), None, torch.full((10,), threshold), spiking=False, name="out"
    )
    net = SpikingNetwork([hidden, out], shape)
    if damage is None:
        save_network(net, path)
    else:  # bypass save_network's own checks, as a tampered or foreign file would
        data = network_to_dict(net)
        damage(data)
        torch.save(data, path)
    return path
