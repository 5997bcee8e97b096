"""IF dynamics: hand-computed spike trains on a 2-layer toy network (docs/method.md §S2)."""

import pytest
import torch
from helpers.nets import Recorder, linear

from snnconv.defaults import sim_args, stepwise_args
from snnconv.network import SpikingNetwork
from snnconv.simulate import if_scan, initial_membrane, simulate, simulate_stepwise

# Input x = (1, 0.5), constant current. Layer 1: W = [[.5, .25], [.75, 0]], b = (0, .125) -> I = (.625, .875).
# Layer 2: W = [[1, 0], [.5, .5]], b = 0. All thresholds 1; values are exact in binary floating point.
X = torch.tensor([[[[1.0, 0.5]]]])
EXPECTED = {  # (reset, v_init): (layer-1 trains for neurons a, b; layer-2 trains for neurons c0, c1)
    ("subtract", 0.0): ([0, 1, 0, 1, 1, 0], [0, 1, 1, 1, 1, 1], [0, 1, 0, 1, 1, 0], [0, 1, 0, 1, 1, 1]),
    ("zero", 0.0): ([0, 1, 0, 1, 0, 1], [0, 1, 0, 1, 0, 1], [0, 1, 0, 1, 0, 1], [0, 1, 0, 1, 0, 1]),
    ("subtract", 0.5): ([1, 0, 1, 1, 0, 1], [1, 1, 1, 1, 0, 1], [1, 0, 1, 1, 0, 1], [1, 1, 1, 1, 0, 1]),
}


def toy(v_init: float, readout_spiking: bool, dtype=torch.float64) -> SpikingNetwork:
    l1 = linear(
        torch.tensor([[0.5, 0.25], [0.75, 0.0]], dtype=dtype),
        torch.tensor([0.0, 0.125], dtype=dtype),
        1.0,
        name="hidden",
        pre=[{"type": "flatten"}],
    )
    l2 = linear(
        torch.tensor([[1.0, 0.0], [0.5, 0.5]], dtype=dtype),
        torch.zeros(2, dtype=dtype),
        1.0,
        spiking=readout_spiking,
        name="out",
    )
    return SpikingNetwork([l1, l2], (1, 1, 2), v_init)


@pytest.mark.parametrize("reset,v_init", list(EXPECTED))
@pytest.mark.parametrize("sim", ["fast", "stepwise"])
def test_hand_computed_spike_trains(reset, v_init, sim):
    rec = Recorder()
    kw = dict(encoding="constant", reset=reset, decode="spikes", dtype=torch.float64, device="cpu", probe=rec)
    if sim == "fast":
        res = simulate(toy(v_init, True), X, torch.tensor([1]), 6, **sim_args(time_chunk=4, **kw))
    else:
        res = simulate_stepwise(toy(v_init, True), X, torch.tensor([1]), 6, **stepwise_args(**kw))
    a, b, c0, c1 = EXPECTED[(reset, v_init)]
    assert rec.spike_train(0)[:, 0].T.tolist() == [a, b]
    assert rec.spike_train(1)[:, 0].T.tolist() == [c0, c1]
    # readout = cumulative spike counts, argmax with ties -> lowest index (class 0); label is 1
    counts = torch.tensor([c0, c1]).cumsum(1)
    assert res.accuracy.tolist() == [float(counts[1, t] > counts[0, t]) for t in range(6)]
    assert res.rates[0].tolist() == pytest.approx([sum(a[:t] + b[:t]) / (2 * t) for t in range(1, 7)])


def test_membrane_decode_accumulates_readout_current_with_ties_to_class_0():
    res = simulate(
        toy(0.0, False),
        X,
        torch.tensor([1]),
        6,
        **sim_args(encoding="constant", decode="membrane", dtype=torch.float64, device="cpu", time_chunk=4),
    )
    # readout currents: c0 = a = 0,1,0,1,1,0; c1 = (a+b)/2 = 0,1,.5,1,1,.5 -> cumulative ties at t=1,2
    assert res.accuracy.tolist() == [0, 0, 1, 1, 1, 1]
    assert res.layer_names == ["hidden"] and res.rates.shape == (1, 6)
    assert res.silent_output == 0


def test_if_scan_in_place_and_out_buffer():
    th = torch.tensor([1.0, 2.0])
    cur = torch.tensor([[0.6, 1.5], [0.6, 1.5], [0.6, -4.0]])
    v = initial_membrane(th, (2,), 0.5)
    assert v.tolist() == [0.5, 1.0]
    out = torch.empty_like(cur)
    s = if_scan(cur, v, th, "subtract", out=out)
    assert s is out and s.tolist() == [[1, 1], [0, 1], [1, 0]]
    assert v.tolist() == pytest.approx([0.3, -4.0])
    assert cur[0].tolist() == pytest.approx([0.6, 1.5])  # input untouched when out is given
    v = torch.zeros(2)
    s = if_scan(cur.clone(), v, th, "zero")
    assert s.tolist() == [[0, 0], [1, 1], [0, 0]] and v.tolist() == pytest.approx([0.6, -4.0])
    with pytest.raises(ValueError):
        if_scan(cur, v, th, "leaky")
