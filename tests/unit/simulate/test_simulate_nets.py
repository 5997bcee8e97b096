"""Small spiking networks and a recording probe shared by the simulator tests (plus their own sanity checks)."""

from __future__ import annotations

import torch
from helpers.nets import Recorder, normalise, small_cnn


def test_normalise_bounds_rate_model_activations():
    x = torch.rand(16, 1, 8, 8, generator=torch.Generator().manual_seed(3))
    net = normalise(small_cnn(), x, headroom=1.25)
    for layer, a in zip(net.layers[:-1], net.rate_forward(x, clamp=False)[:-1]):
        assert float(a.max()) <= 0.8 + 1e-6, layer.name


def test_recorder_stacks_blocks_in_time_and_batches_in_samples():
    rec = Recorder()
    for b, t0 in [(0, 3), (0, 0), (1, 0), (1, 3)]:
        rec.on_spikes(0, b, t0, torch.full((3, 2, 1), float(10 * b + t0)), torch.zeros(2, 1))
    train = rec.spike_train(0)
    assert train.shape == (6, 4, 1)
    assert train[:, 0, 0].tolist() == [0, 0, 0, 3, 3, 3] and train[:, 3, 0].tolist() == [10, 10, 10, 13, 13, 13]
