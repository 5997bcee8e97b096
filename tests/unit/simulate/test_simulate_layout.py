"""The speed changes (channels-last, capped conv calls, tiled IF scan, mask encoder) change no result.

float64 runs are compared bit for bit with the step-by-step reference; the float32 channels-last path
is compared with float64 within the bound documented in docs/benchmarks.md (§ float32 difference).
"""

import numpy as np
import pytest
import torch
from helpers.nets import Recorder, normalise, random_mlp, small_cnn

import snnconv.simulate.ops as ops
from snnconv.defaults import sim_args, stepwise_args
from snnconv.network import SpikingLayer, SpikingNetwork
from snnconv.simulate import if_scan, simulate, simulate_stepwise
from snnconv.simulate.ops import is_nhwc, pool_spikes, steps_per_call, to_layout

G = torch.Generator().manual_seed(11)
X = torch.rand(30, 1, 8, 8, generator=G)
Y = torch.randint(0, 5, (30,), generator=G)


def rgb_cnn() -> SpikingNetwork:
    """3-channel conv3(8)-p2-conv3(8, per-channel θ)-p2-linear(5) on 3×8×8, so channels-last is a real permutation."""
    g = torch.Generator().manual_seed(5)
    conv, pool = {"type": "conv2d", "stride": 1, "padding": 1}, {"type": "avgpool", "kernel_size": 2}
    layers = [
        SpikingLayer(
            dict(conv),
            torch.randn(8, 3, 3, 3, generator=g) * 0.4,
            0.05 * torch.randn(8, generator=g),
            torch.ones(8),
            [],
            True,
            "c1",
        ),
        SpikingLayer(
            dict(conv),
            torch.randn(8, 8, 3, 3, generator=g) * 0.3,
            0.05 * torch.randn(8, generator=g),
            torch.linspace(0.5, 1.5, 8),
            [dict(pool)],
            True,
            "c2",
        ),
        SpikingLayer(
            {"type": "linear"},
            torch.randn(5, 32, generator=g) * 0.3,
            None,
            torch.ones(5),
            [dict(pool), {"type": "flatten"}],
            False,
            "out",
        ),
    ]
    return SpikingNetwork(layers, (3, 8, 8), v_init=0.5)


XRGB = torch.rand(30, 3, 8, 8, generator=G)


def nets():
    return {
        "mlp": (normalise(random_mlp([64, 40, 16, 5], (1, 8, 8)), X), X),
        "cnn": (normalise(small_cnn(), X), X),
        "rgb": (normalise(rgb_cnn(), XRGB), XRGB),
    }


@pytest.mark.parametrize("arch", ["mlp", "cnn", "rgb"])
@pytest.mark.parametrize("channels_last", [False, True])
@pytest.mark.parametrize(
    "reset,decode,encoding",
    [("subtract", "membrane", "poisson"), ("zero", "spikes", "poisson"), ("subtract", "spikes", "constant")],
)
def test_float64_spikes_and_curves_identical_to_reference(arch, channels_last, reset, decode, encoding, monkeypatch):
    """Every spike, accuracy and rate equal to simulate_stepwise, with tiny IF tiles and capped conv calls.

    Forced channels-last convolutions sum in another order (last-bit differences in the membrane, so equal
    spikes only "in practice"); the default float64 path (NCHW) must match the membrane bit for bit too.
    """
    monkeypatch.setattr("snnconv.simulate.neurons.TILE_BYTES", 256)  # several tiles per layer
    monkeypatch.setattr(ops, "CONV_CALL_BYTES", 8 * 8 * 8 * 8 * 3)  # 3 steps per conv call at batch 8
    net, x = nets()[arch]
    kw = dict(seed=7, batch_size=8, device="cpu", dtype=torch.float64, reset=reset, decode=decode, encoding=encoding)
    fast_rec, ref_rec = Recorder(), Recorder()
    fast = simulate(net, x, Y, 19, **sim_args(time_chunk=10, probe=fast_rec, channels_last=channels_last, **kw))
    ref = simulate_stepwise(net, x, Y, 19, **stepwise_args(probe=ref_rec, **kw))
    assert fast_rec.spikes.keys() == ref_rec.spikes.keys()
    for l in ref_rec.spikes:
        assert torch.equal(fast_rec.spike_train(l), ref_rec.spike_train(l)), l
        if channels_last and arch != "mlp":
            torch.testing.assert_close(fast_rec.final_v(l), ref_rec.final_v(l), rtol=1e-12, atol=1e-12)
        else:
            assert torch.equal(fast_rec.final_v(l), ref_rec.final_v(l)), l
    assert np.array_equal(fast.accuracy, ref.accuracy) and np.array_equal(fast.rates, ref.rates)
    assert fast.silent_output == ref.silent_output


def test_default_float64_keeps_nchw_and_float32_cpu_goes_channels_last():
    """float64 must stay on the reference's summation order; float32 on the CPU uses channels-last convs."""
    seen = {}

    class Layouts(Recorder):
        def on_spikes(self, layer, batch, t0, spikes, v):
            seen.setdefault(spikes.dtype, set()).add((layer, is_nhwc(spikes[0])))

    net, x = nets()["rgb"]
    for dtype in (torch.float64, torch.float32):
        simulate(net, x, Y, 4, **sim_args(batch_size=10, device="cpu", dtype=dtype, probe=Layouts()))
    assert seen[torch.float64] == {(0, False), (1, False)}
    assert seen[torch.float32] == {(0, True), (1, True)}


def test_float32_channels_last_within_documented_bound_of_float64():
    """float32 (channels-last convs) vs float64 reference: rare flips only; bound from docs/benchmarks.md."""
    net, x = nets()["rgb"]
    kw = dict(seed=2, batch_size=15, device="cpu")
    a = simulate(net, x, Y, 40, **sim_args(dtype=torch.float32, **kw))
    b = simulate_stepwise(net, x, Y, 40, **stepwise_args(dtype=torch.float64, **kw))
    assert np.abs(a.rates - b.rates).max() <= 1e-3
    assert np.abs(a.accuracy - b.accuracy).max() <= 1 / 30 + 1e-12  # at most one of 30 samples at any t


@pytest.mark.parametrize("k", [2, 3])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("c", [1, 5])
def test_channels_last_spike_pooling_bit_identical(k, dtype, c):
    x = (torch.rand(4, c, 12, 12, generator=torch.Generator().manual_seed(k)) < 0.4).to(dtype)
    xl = to_layout(x, True)
    assert is_nhwc(xl) and torch.equal(xl, x)
    out = pool_spikes(xl, k)
    assert is_nhwc(out) or c == 1
    assert torch.equal(out, torch.nn.functional.avg_pool2d(x, k))


@pytest.mark.parametrize("reset", ["subtract", "zero"])
@pytest.mark.parametrize("scalar", [False, True])
@pytest.mark.parametrize("channels_last", [False, True])
def test_tiled_if_scan_equals_untiled(reset, scalar, channels_last):
    """Row tiles (per-channel θ) and flat-memory tiles (common θ, any dense layout) change nothing."""
    g = torch.Generator().manual_seed(0)
    cur = torch.randn(6, 9, 4, 5, 5, generator=g, dtype=torch.float64)
    th = (
        torch.full((4, 1, 1), 0.7, dtype=torch.float64)
        if scalar
        else torch.rand(4, 1, 1, generator=g, dtype=torch.float64) + 0.5
    )
    v1, v2 = torch.zeros(9, 4, 5, 5, dtype=torch.float64), torch.zeros(9, 4, 5, 5, dtype=torch.float64)
    if channels_last:
        cur = torch.stack([c.contiguous(memory_format=torch.channels_last) for c in cur])
        cur = cur.flatten(0, 1).contiguous(memory_format=torch.channels_last).unflatten(0, (6, 9))
        v2 = v2.contiguous(memory_format=torch.channels_last)
    s1 = if_scan(cur.clone(), v1, th, reset, tile_bytes=1 << 30)
    s2 = if_scan(cur.clone(memory_format=torch.preserve_format), v2, th, reset, tile_bytes=37 * 8)  # odd tiles
    assert torch.equal(s1, s2) and torch.equal(v1, v2) and float(s1.sum()) > 0


def test_conv_calls_capped_by_output_bytes():
    net = small_cnn()
    sizes = [4 * 8 * 8, 6 * 4 * 4, 5]
    per_step = 4 * 8 * 8 * 10 * 4  # largest conv output of one step, batch 10, float32
    assert steps_per_call(net, sizes, 10, 4, 50) == min(50, ops.CONV_CALL_BYTES // per_step)
    assert steps_per_call(random_mlp([64, 5], (1, 8, 8)), [5], 10, 4, 50) == 50  # no conv: the time_chunk
    assert steps_per_call(net, sizes, 10**9, 4, 50) == 1


def test_converted_pool_specs_as_lists_take_the_fast_pool(monkeypatch):
    """Converted nets store kernel_size/stride/padding as [k, k]: they must use pool_spikes, with equal results."""
    from snnconv.simulate.ops import pre_ops_spikes

    calls = []
    monkeypatch.setattr(ops, "pool_spikes", lambda x, k: calls.append(k) or torch.nn.functional.avg_pool2d(x, k))
    x = (torch.rand(2, 3, 8, 8, generator=torch.Generator().manual_seed(0)) < 0.5).float()
    pool = {"type": "avgpool", "kernel_size": [2, 2], "stride": [2, 2], "padding": [0, 0]}
    layer = SpikingLayer({"type": "linear"}, torch.ones(1, 48), None, torch.ones(1), [pool, {"type": "flatten"}])
    assert torch.equal(pre_ops_spikes(layer, x), layer.apply_pre_ops(x)) and calls == [2]
    odd = dict(pool, stride=[1, 1])  # overlapping: the avg_pool2d fallback, still equal
    layer.pre_ops = [odd, {"type": "flatten"}]
    layer.weight = torch.ones(1, 147)
    assert torch.equal(pre_ops_spikes(layer, x), layer.apply_pre_ops(x)) and calls == [2]
