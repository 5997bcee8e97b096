"""Residual nets in the IF simulator: the add node sums both branches' currents into the block-output neurons.

The step-by-step reference and the block engine give the same spikes (the compiled step:
tests/integration/test_compiled_step.py); under constant input the
rates converge to the rate model within the error bound of docs/method.md §S2, propagated through both branches.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers.residual import X, Y, small_resnet

from snnconv.defaults import sim_args, stats_args, stepwise_args
from snnconv.simulate import Probe, simulate, simulate_stepwise

CUDA = torch.cuda.is_available()


class Totals(Probe):
    """Per-neuron spike counts, final membranes and summed input currents (one batch)."""

    def __init__(self) -> None:
        self.counts: dict[int, torch.Tensor] = {}
        self.v: dict[int, torch.Tensor] = {}
        self.current: dict[int, torch.Tensor] = {}

    def on_current(self, layer, batch, t0, pre, current):
        self.current[layer] = self.current.get(layer, 0.0) + current.sum(0)

    def on_spikes(self, layer, batch, t0, spikes, v):
        self.counts[layer] = self.counts.get(layer, 0.0) + spikes.sum(0)
        self.v[layer] = v.clone()


@pytest.mark.parametrize("encoding", ["poisson", "constant"])
@pytest.mark.parametrize("decode,reset", [("membrane", "subtract"), ("spikes", "zero")])
def test_engine_equals_reference_in_float64(encoding, decode, reset):
    _, net = small_resnet(v_init=0.5 if reset == "zero" else 0.0)
    kw = dict(seed=3, encoding=encoding, decode=decode, reset=reset, device="cpu", dtype=torch.float64)
    eager = simulate(net, X, Y, 11, **sim_args(batch_size=8, time_chunk=4, compile="false", **kw))
    ref = simulate_stepwise(net, X, Y, 11, **stepwise_args(batch_size=21, **kw))
    assert np.array_equal(eager.accuracy, ref.accuracy)
    assert np.array_equal(eager.rates, ref.rates)
    assert eager.silent_output == ref.silent_output
    assert eager.rates[:, -1].max() > 0  # the net is active: the comparison is not between silent nets


def test_float32_channels_last_engine_agrees_with_float64_reference():
    _, net = small_resnet()
    fast = simulate(net, X, Y, 30, **sim_args(batch_size=21, compile="false", device="cpu", dtype=torch.float32))
    ref = simulate_stepwise(net, X, Y, 30, **stepwise_args(dtype=torch.float64, device="cpu"))
    np.testing.assert_allclose(fast.rates, ref.rates, atol=2e-3)
    assert np.abs(fast.accuracy - ref.accuracy).max() <= 2 / len(X) + 1e-12


def test_without_the_shortcut_the_spikes_change():
    """The shortcut's current really reaches the block-output neurons (a bug dropping it would pass agreement
    tests between engines that all dropped it)."""
    _, net = small_resnet()
    kw = dict(seed=3, device="cpu", dtype=torch.float64, compile="false")
    base = simulate(net, X, Y, 15, **sim_args(**kw))
    net.layers[2].shortcut_weight = torch.zeros_like(net.layers[2].shortcut_weight)
    assert not np.array_equal(simulate(net, X, Y, 15, **sim_args(**kw)).rates[2], base.rates[2])


@pytest.mark.parametrize("v_init", [0.0, 0.5])
def test_constant_input_rates_converge_within_the_propagated_bound(v_init):
    """§S2 per layer: r = z̄ − residual exactly, |r − clamp(z̄)| ≤ |residual|, and the rate-model error δ_l is bounded
    by (|W_l| δ_{l−1} + |W_s| δ_source)/θ + ε_l: the add node propagates both branches' errors."""
    _, net = small_resnet(v_init=v_init)
    T = 1500
    probe = Totals()
    simulate(
        net,
        X,
        Y,
        T,
        **sim_args(
            encoding="constant",
            batch_size=len(X),
            time_chunk=250,
            device="cpu",
            dtype=torch.float64,
            probe=probe,
            compile="false",
        ),
    )
    net64, x = net.to("cpu", torch.float64), X.double()
    acts = net64.rate_forward(x)
    deltas: list[torch.Tensor] = []
    prev_delta = torch.zeros_like(x)
    for l, layer in enumerate(net64.layers):
        th = layer.threshold_view(acts[l].ndim)
        prop = layer.apply_op(layer.apply_pre_ops(prev_delta), weight=layer.weight.abs(), bias=False)
        if layer.shortcut is not None:
            prop = prop + layer.apply_shortcut(deltas[layer.shortcut["source"]], weight=layer.shortcut_weight.abs())
        if not layer.spiking:
            err = (probe.current[l] / T - acts[l]).abs()
            assert bool((err <= prop + 1e-9).all())
            break
        r, zbar = probe.counts[l] / T, probe.current[l] / (th * T)
        residual = (probe.v[l] - net.v_init * th) / (th * T)
        assert torch.allclose(r, zbar - residual, rtol=0, atol=1e-9)
        eps = (r - zbar.clamp(0, 1)).abs()
        assert bool((eps <= residual.abs() + 1e-12).all())
        delta = prop / th + eps
        assert bool(((r - acts[l]).abs() <= delta + 1e-9).all()), l
        deltas.append(delta)
        prev_delta = delta


def test_spiking_net_approaches_the_ann_at_large_T():
    """Constant input, max norm: the SNN's predictions at T = 2000 are the ANN's on the conversion set, and the
    readout's mean current approaches the ANN logits (error shrinking with T)."""
    model, net = small_resnet()
    with torch.no_grad():
        ann = model(X)
    res = simulate(
        net, X, ann.argmax(1), 2000, **sim_args(encoding="constant", device="cpu", dtype=torch.float64, compile="false")
    )
    assert res.accuracy[-1] >= 20 / 21
    assert res.accuracy[-1] >= res.accuracy[49]


@pytest.mark.skipif(not CUDA, reason="no CUDA device: the CUDA-vs-CPU agreement needs a GPU")
@pytest.mark.parametrize("compile", ["false", "true"])
def test_cuda_agrees_with_cpu(compile):
    _, net = small_resnet()
    kw = dict(seed=3, batch_size=10, time_chunk=4, dtype=torch.float64)
    a = simulate(net, X, Y, 12, **sim_args(device="cpu", compile="false", **kw))
    b = simulate(net, X, Y, 12, **sim_args(device="cuda", compile=compile, **kw))
    np.testing.assert_allclose(a.rates, b.rates, atol=3e-3)
    assert np.abs(a.accuracy - b.accuracy).max() <= 0.15


def test_membrane_stats_predict_the_variance_of_both_branches():
    """The ‖w‖² prediction of a block-output neuron counts the shortcut's inputs (fan-in and variance)."""
    from snnconv.simulate import record_membrane_stats

    _, net = small_resnet()
    frame = record_membrane_stats(net, X, 200, **stats_args(seed=1, neurons_per_layer=20, device="cpu", batch_size=21))
    for l in (2, 4, 6):  # the block outputs
        layer, rows = net.layers[l], frame[frame.layer_index == l]
        assert (rows.fan_in == layer.weight[0].numel() + layer.shortcut_weight[0].numel()).all()
        active = rows[rows.var_current > 1e-4]
        assert len(active) >= 10
        ratio = float(active.var_pred_exact.sum() / active.var_current.sum())
        assert 0.8 < ratio < 1.25, (l, ratio)
