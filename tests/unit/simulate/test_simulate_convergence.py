"""Constant input, reset by subtraction: spike rates converge to the rate model within the §S2 bound."""

import numpy as np
import pytest
import torch
from helpers.nets import normalise, random_mlp, small_cnn

from snnconv.defaults import sim_args
from snnconv.simulate import Probe, simulate

G = torch.Generator().manual_seed(11)
X = torch.rand(24, 1, 8, 8, generator=G)


class Totals(Probe):
    """Per-neuron spike counts, final membranes and summed input currents (single batch)."""

    def __init__(self):
        self.counts, self.v, self.current = {}, {}, {}

    def on_current(self, layer, batch, t0, pre, current):
        self.current[layer] = self.current.get(layer, 0.0) + current.sum(0)

    def on_spikes(self, layer, batch, t0, spikes, v):
        self.counts[layer] = self.counts.get(layer, 0.0) + spikes.sum(0)
        self.v[layer] = v.clone()


def bounds(net, x, T, probe):
    """Per spiking layer: rate r, rate model a, bound δ, residual ε and their checks (docs/method.md §S2)."""
    net, x = net.to("cpu", torch.float64), x.double()
    acts = net.rate_forward(x)
    out, delta = [], torch.zeros_like(x)
    for l, layer in enumerate(net.layers):
        th = layer.threshold_view(acts[l].ndim)
        prop = layer.apply_op(layer.apply_pre_ops(delta), weight=layer.weight.abs(), bias=False)
        if not layer.spiking:
            return out, (probe.current[l] / T, acts[l], prop)
        r, zbar = probe.counts[l] / T, probe.current[l] / (th * T)
        residual = (probe.v[l] - net.v_init * th) / (th * T)
        assert torch.allclose(r, zbar - residual, rtol=0, atol=1e-9)  # exact identity (§S2)
        eps = (r - zbar.clamp(0, 1)).abs()
        assert bool((eps <= residual.abs() + 1e-12).all())
        edge = (r == 0) | (r == 1)  # silent or saturated: ε ≤ max(v_init, 1 − v_init)/T for any input
        assert bool((eps[edge] <= max(net.v_init, 1 - net.v_init) / T + 1e-12).all())
        delta = prop / th + eps
        out.append((r, acts[l], delta, eps))


def run(net, x, T, v_init=0.0):
    net.v_init = v_init
    probe = Totals()
    res = simulate(
        net,
        x,
        torch.zeros(len(x), dtype=torch.int64),
        T,
        **sim_args(
            encoding="constant",
            reset="subtract",
            batch_size=len(x),
            time_chunk=250,
            device="cpu",
            dtype=torch.float64,
            probe=probe,
        ),
    )
    return res, *bounds(net, x, T, probe)


@pytest.mark.parametrize("arch", ["mlp", "cnn"])
@pytest.mark.parametrize("v_init", [0.0, 0.5])
def test_rates_converge_within_bound(arch, v_init):
    make = (lambda: random_mlp([64, 48, 32, 5], (1, 8, 8))) if arch == "mlp" else small_cnn
    T = 2000
    net = normalise(make(), X, headroom=0.9)  # some neurons saturate at rate 1 on purpose
    res, layers, (readout, z, prop) = run(net, X, T, v_init)
    (r0, a0, _, _) = layers[0]
    assert float((r0 - a0).abs().max()) <= max(v_init, 1 - v_init) / T + 1e-12  # first layer: closed form
    for l, (r, a, delta, _e) in enumerate(layers):
        assert bool(((r - a).abs() <= delta + 1e-9).all()), l
        assert abs(res.rates[l, -1] - float(a.mean())) <= float(delta.mean()) + 1e-9
        assert float(delta.mean()) < 0.02 and float(a.mean()) > 0.02  # the bound is tight enough to matter
    assert bool(((readout - z).abs() <= prop + 1e-9).all())
    # O(1/T): the mean bound shrinks ~4x from T=500 to T=2000
    _, short, _ = run(normalise(make(), X, headroom=0.9), X, 500, v_init)
    assert float(short[-1][2].mean()) > 2.5 * float(layers[-1][2].mean())


@pytest.mark.parametrize("arch", ["mlp", "cnn"])
def test_snn_accuracy_equals_rate_model_accuracy_below_saturation(arch):
    make = (lambda: random_mlp([64, 48, 32, 5], (1, 8, 8), seed=3)) if arch == "mlp" else (lambda: small_cnn(seed=3))
    net = normalise(make(), X, headroom=1.25)  # rate-model activations ≤ 0.8: no saturation
    T = 2000
    _, _, (readout, z, prop) = run(net, X, T)
    top2 = z.topk(2, dim=1).values
    keep = (top2[:, 0] - top2[:, 1]) > 2 * prop.amax(1)  # margin larger than the readout error bound
    assert int(keep.sum()) >= len(X) // 2
    x, labels = X[keep], torch.randint(0, 5, (int(keep.sum()),), generator=torch.Generator().manual_seed(0))
    rate_acc = float((net.rate_forward(x)[-1].argmax(1) == labels).double().mean())
    res = simulate(
        net, x, labels, T, **sim_args(encoding="constant", batch_size=len(x), device="cpu", dtype=torch.float64)
    )
    assert res.accuracy[-1] == pytest.approx(rate_acc, abs=1e-12)
    assert np.all(np.diff(res.rates, axis=1)[:, -100:] < 1e-3)  # rates have settled
