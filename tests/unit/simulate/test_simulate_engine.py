"""The fast chunked simulator vs. the per-step reference, determinism, decoding edge cases (§S3–§S5)."""

import numpy as np
import pytest
import torch
from helpers.nets import Recorder, linear, normalise, random_mlp, small_cnn

from snnconv.defaults import sim_args, stepwise_args
from snnconv.network import SpikingNetwork
from snnconv.simulate import Workspace, simulate, simulate_stepwise, to_frame
from snnconv.simulate.ops import pool_spikes, pre_ops_spikes

G = torch.Generator().manual_seed(7)
X = torch.rand(24, 1, 8, 8, generator=G)
Y = torch.randint(0, 5, (24,), generator=G)


def nets():
    return {"mlp": normalise(random_mlp([64, 32, 16, 5], (1, 8, 8)), X), "cnn": normalise(small_cnn(), X)}


@pytest.mark.parametrize("arch", ["mlp", "cnn"])
@pytest.mark.parametrize(
    "encoding,decode,reset",
    [("poisson", "membrane", "subtract"), ("poisson", "spikes", "zero"), ("constant", "spikes", "subtract")],
)
def test_fast_path_equals_stepwise_reference_float64(arch, encoding, decode, reset):
    net = nets()[arch]
    net.v_init = 0.25
    fast_rec, step_rec = Recorder(), Recorder()
    kw = dict(encoding=encoding, decode=decode, reset=reset, seed=3, batch_size=10, device="cpu", dtype=torch.float64)
    fast = simulate(net, X, Y, 23, **sim_args(time_chunk=7, probe=fast_rec, **kw))
    ref = simulate_stepwise(net, X, Y, 23, **stepwise_args(probe=step_rec, **kw))
    for l in fast_rec.spikes:
        assert torch.equal(fast_rec.spike_train(l), step_rec.spike_train(l)), l
    assert np.array_equal(fast.accuracy, ref.accuracy)
    assert np.array_equal(fast.rates, ref.rates)
    assert fast.silent_output == ref.silent_output and fast.layer_names == ref.layer_names


def test_fast_path_float32_matches_stepwise():
    """float32: identical in practice (GEMM/conv rows do not depend on the row count here; see §S4)."""
    net = nets()["cnn"]
    kw = dict(seed=1, batch_size=12, device="cpu", dtype=torch.float32)
    fast, ref = (
        simulate(net, X, Y, 15, **sim_args(time_chunk=5, **kw)),
        simulate_stepwise(net, X, Y, 15, **stepwise_args(**kw)),
    )
    assert np.array_equal(fast.accuracy, ref.accuracy)
    assert np.array_equal(fast.rates, ref.rates)  # the docstring promises identity: test identity


@pytest.mark.parametrize("arch", ["mlp", "cnn"])
def test_result_independent_of_time_chunk(arch):
    net = nets()[arch]
    runs = [
        simulate(net, X, Y, 30, **sim_args(seed=5, batch_size=8, time_chunk=c, device="cpu", dtype=torch.float64))
        for c in (1, 7, 30, 100)
    ]
    for r in runs[1:]:
        assert np.array_equal(r.accuracy, runs[0].accuracy) and np.array_equal(r.rates, runs[0].rates)


def test_same_seed_identical_csv_bytes_and_different_seeds_differ(tmp_path):
    net = nets()["mlp"]
    kw = dict(batch_size=10, time_chunk=9, device="cpu")
    a, b, c = (simulate(net, X, Y, 40, **sim_args(seed=s, **kw)) for s in (11, 11, 12))
    ids = dict(dataset="toy", arch="mlp", seed=0, norm="l4", input_seed=11)
    assert to_frame(a, **ids).to_csv(index=False).encode() == to_frame(b, **ids).to_csv(index=False).encode()
    assert not np.array_equal(a.rates, c.rates)


def test_batch_size_changes_nothing_and_image_ids_key_the_draws():
    """The stream is keyed by (seed, image id, t, pixel): another batch_size gives the same results; other image ids
    give other, equally valid draws."""
    net = nets()["mlp"]
    a = simulate(net, X, Y, 200, **sim_args(seed=2, batch_size=24, device="cpu"))
    b = simulate(net, X, Y, 200, **sim_args(seed=2, batch_size=8, device="cpu"))
    assert np.array_equal(a.accuracy, b.accuracy) and np.allclose(a.rates, b.rates, rtol=1e-6)
    c = simulate(net, X, Y, 200, **sim_args(seed=2, batch_size=8, device="cpu", image_ids=torch.arange(len(X)) + 1000))
    assert not np.array_equal(a.rates, c.rates)
    np.testing.assert_allclose(a.rates[:, -1], c.rates[:, -1], atol=0.02)


def test_silent_readout_spike_decode():
    """A readout that never spikes: no crash, silent_output = N, every prediction is class 0 (ties)."""
    net = random_mlp([64, 16, 5], (1, 8, 8))
    net.layers[-1].spiking = True
    net.layers[-1].threshold = torch.full((5,), 1e9)
    res = simulate(net, X, Y, 10, **sim_args(decode="spikes", device="cpu"))
    assert res.silent_output == len(X)
    assert np.allclose(res.accuracy, float((Y == 0).float().mean()))
    assert res.rates.shape == (2, 10) and np.all(res.rates[1] == 0)
    frame = to_frame(res, dataset="toy")
    assert list(frame.columns) == ["dataset", "t", "accuracy", "rate_fc1", "rate_fc2", "n_samples", "silent_output"]
    assert (frame.silent_output == len(X)).all()


def test_silent_membrane_readout_counts_samples_without_input_spikes():
    net = random_mlp([64, 16, 5], (1, 8, 8))
    net.layers[0].threshold = torch.full((16,), 1e9)
    res = simulate(net, X, Y, 5, **sim_args(device="cpu"))
    assert res.silent_output == len(X)


def test_accuracy_curve_shape_and_progress_bar():
    res = simulate(nets()["mlp"], X, Y, 12, **sim_args(batch_size=5, time_chunk=5, device="cpu", progress=True))
    assert res.accuracy.shape == (12,) and res.T == 12 and res.n_samples == 24
    assert res.rates.shape == (2, 12) and res.layer_names == ["fc1", "fc2"] and res.seconds > 0
    assert np.all((res.accuracy >= 0) & (res.accuracy <= 1))


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(encoding="rate"),
        dict(reset="none"),
        dict(decode="max"),
        dict(T=0),
        dict(time_chunk=0),
        dict(images=X * 2),
        dict(images=(X * 255).byte()),
    ],
)
def test_rejects_bad_arguments(kwargs):
    args = dict(net=nets()["mlp"], images=X, labels=Y, T=5) | kwargs
    with pytest.raises(ValueError):
        simulate(
            args.pop("net"), args.pop("images"), args.pop("labels"), args.pop("T"), **sim_args(device="cpu", **args)
        )


def test_only_last_layer_may_be_non_spiking():
    net = random_mlp([64, 16, 5], (1, 8, 8))
    net.layers[0].spiking = False
    with pytest.raises(ValueError, match="last layer"):
        simulate(net, X, Y, 3, **sim_args(device="cpu"))


def test_layer_without_bias_and_per_neuron_thresholds():
    g = torch.Generator().manual_seed(0)
    net = SpikingNetwork(
        [
            linear(
                torch.rand(6, 64, generator=g) * 0.1,
                None,
                torch.linspace(0.5, 2, 6),
                pre=[{"type": "flatten"}],
                name="h",
            ),
            linear(torch.randn(3, 6, generator=g), None, 1.0, spiking=False, name="o"),
        ],
        (1, 8, 8),
    )
    kw = dict(seed=4, batch_size=7, device="cpu", dtype=torch.float64)
    assert np.array_equal(
        simulate(net, X, Y % 3, 17, **sim_args(time_chunk=4, **kw)).rates,
        simulate_stepwise(net, X, Y % 3, 17, **stepwise_args(**kw)).rates,
    )


@pytest.mark.parametrize("k", [1, 2, 3, 4])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_fast_spike_pooling_is_bit_identical_to_avg_pool2d(k, dtype):
    x = (torch.rand(5, 3, 12, 12, generator=torch.Generator().manual_seed(k)) < 0.3).to(dtype)
    assert torch.equal(pool_spikes(x, k), torch.nn.functional.avg_pool2d(x, k))


def test_pre_ops_spikes_falls_back_for_overlapping_or_padded_pools():
    from snnconv.network import SpikingLayer

    x = (torch.rand(2, 3, 9, 9, generator=torch.Generator().manual_seed(0)) < 0.5).float()
    pools = (
        {"type": "avgpool", "kernel_size": 3, "stride": 2},
        {"type": "avgpool", "kernel_size": 2, "padding": 1},
        {"type": "avgpool", "kernel_size": 2},
    )  # the last: 9 is not divisible by 2
    for pool in pools:
        layer = SpikingLayer({"type": "linear"}, torch.ones(1, 1), None, torch.ones(1), [pool, {"type": "flatten"}])
        assert torch.equal(pre_ops_spikes(layer, x), layer.apply_pre_ops(x))


def test_workspace_reuses_and_grows_buffers():
    ws = Workspace("cpu")
    a = ws.get("k", (2, 3), torch.float32)
    b = ws.get("k", (3, 2), torch.float32)
    assert a.data_ptr() == b.data_ptr() and b.shape == (3, 2)
    c = ws.get("k", (4, 4), torch.float32)
    assert c.shape == (4, 4) and ws.get("k", (1,), torch.float64).dtype == torch.float64


def test_a_long_simulation_logs_its_progress(monkeypatch, caplog):
    """A progress line reaches the job's log every ProgressLog.every seconds (here: every step)."""
    import logging

    from snnconv.simulate import engine

    monkeypatch.setattr(engine.ProgressLog, "every", 0.0)
    with caplog.at_level(logging.INFO, logger="snnconv.simulate"):
        simulate(nets()["mlp"], X, Y, 6, **sim_args(batch_size=12, time_chunk=3, device="cpu", compile="false"))
    lines = [r.message for r in caplog.records if r.message.startswith("simulate: batch")]
    assert lines[0].startswith("simulate: batch 1, step 3 of 6") and "about" in lines[-1]
    assert len(lines) == 2 * -(-len(X) // 12)  # two blocks of 3 steps per batch of 12
