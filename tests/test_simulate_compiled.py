"""The compiled simulation step (docs/method.md §S4): same results as the eager engine, one compile, eager fallback."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import torch
from test_simulate_nets import normalise, random_mlp, small_cnn

from snnconv.simulate import compiled, simulate, simulate_stepwise

X = torch.rand(23, 1, 8, 8, generator=torch.Generator().manual_seed(0))
Y = torch.randint(0, 5, (23,), generator=torch.Generator().manual_seed(1))


def _nets() -> dict[str, object]:
    mlp = normalise(random_mlp([64, 32, 16, 5], (1, 8, 8)), X)
    cnn = normalise(small_cnn(), X)
    cnn.v_init = 0.5
    return {"mlp": mlp, "cnn": cnn}


@pytest.fixture
def counting_backend(monkeypatch):
    """Compile with Dynamo's frame-counting backend instead of inductor: counts graphs, costs no C++ build."""
    from torch._dynamo.testing import CompileCounter

    counter = CompileCounter()
    monkeypatch.setattr(compiled, "_COMPILED", torch.compile(compiled.network_step, backend=counter, fullgraph=True))
    return counter


@pytest.mark.parametrize("net_name", ["mlp", "cnn"])
def test_compiled_step_equals_eager_and_reference_in_float64(net_name):
    """Every combination of encoding, decoding and reset, batches of unequal size: identical curves and rates."""
    net = _nets()[net_name]
    for encoding in ("poisson", "constant"):
        for decode, reset in (("membrane", "subtract"), ("spikes", "zero")):
            kw = dict(seed=3, encoding=encoding, decode=decode, reset=reset, device="cpu", dtype=torch.float64)
            fast = simulate(net, X, Y, 9, batch_size=10, compile="true", **kw)
            eager = simulate(net, X, Y, 9, batch_size=6, time_chunk=4, compile="false", **kw)
            ref = simulate_stepwise(net, X, Y, 9, batch_size=23, **kw)
            assert fast.settings["engine"] == "compiled" and eager.settings["engine"] == "eager"
            for other in (eager, ref):
                assert np.array_equal(fast.accuracy, other.accuracy), (encoding, decode)
                assert np.array_equal(fast.rates, other.rates), (encoding, decode)
                assert fast.silent_output == other.silent_output


def test_compiled_float32_agrees_with_float64_reference():
    net = _nets()["cnn"]
    fast = simulate(net, X, Y, 20, batch_size=23, compile="true", device="cpu")
    ref = simulate_stepwise(net, X, Y, 20, dtype=torch.float64, device="cpu")
    assert fast.compile_seconds > 0
    np.testing.assert_allclose(fast.rates, ref.rates, atol=1e-3)
    assert np.abs(fast.accuracy - ref.accuracy).max() <= 1 / len(X) + 1e-12


def test_one_compile_for_every_step_batch_and_seed(counting_backend):
    """The step number lives on the device, the batch dimension is dynamic: T steps × uneven batches × 2 seeds
    × both decodings of one network structure compile one graph per decoding."""
    net = _nets()["mlp"]
    for decode in ("membrane", "spikes"):
        for seed in (0, 1):
            res = simulate(net, X, Y, 7, seed=seed, batch_size=10, decode=decode, compile="true", device="cpu")
            assert res.settings["engine"] == "compiled"
    assert counting_backend.frame_count == 2


def test_failed_compile_falls_back_to_eager_under_auto_and_fails_under_true(monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("no C++ compiler found")

    monkeypatch.setattr(compiled, "_COMPILED", broken)
    monkeypatch.setattr(compiled, "AUTO_MIN_NEURON_STEPS", {"cpu": 0.0})
    net = _nets()["mlp"]
    eager = simulate(net, X, Y, 6, compile="false", device="cpu", dtype=torch.float64)
    with caplog.at_level(logging.WARNING, logger="snnconv.simulate"):
        auto = simulate(net, X, Y, 6, compile="auto", device="cpu", dtype=torch.float64)
    assert auto.settings["engine"] == "eager (compile failed)"
    assert np.array_equal(auto.accuracy, eager.accuracy) and np.array_equal(auto.rates, eager.rates)
    assert [r.message for r in caplog.records if "torch.compile" in r.message] == [
        "torch.compile unavailable (RuntimeError: no C++ compiler found); simulating eagerly"
    ]
    with pytest.raises(RuntimeError, match="simulation.compile is true but torch.compile failed"):
        simulate(net, X, Y, 6, compile="true", device="cpu")


def test_auto_compiles_only_where_the_work_pays():
    cpu = torch.device("cpu")
    cuda = torch.device("cuda")
    # the default digits MLP (256-256-10 neurons) on 450 test images × T = 200 stays eager
    assert compiled.wants_compile("auto", cpu, 522, 450, 200)[0] is False
    # the MNIST CNN (18,890 neurons) on the full test set × T = 500: 9.4·10^10 neuron updates
    assert compiled.wants_compile("auto", cpu, 18_890, 10_000, 500)[0] is True
    assert compiled.wants_compile("auto", cuda, 18_890, 10_000, 500)[0] is False  # seconds on an H200: not worth it
    assert compiled.wants_compile("auto", cuda, 229_898, 10_000, 1000)[0] is True
    assert compiled.wants_compile("false", cpu, 10**12, 10**6, 10**3)[0] is False
    assert compiled.wants_compile("true", cpu, 1, 1, 1)[0] is True
    with pytest.raises(ValueError, match=r"simulation.compile.*'sometimes'"):
        compiled.wants_compile("sometimes", cpu, 1, 1, 1)


def test_a_probe_keeps_the_eager_engine():
    from snnconv.simulate import Probe

    res = simulate(_nets()["mlp"], X, Y, 4, compile="true", probe=Probe(), device="cpu")
    assert res.settings["engine"] == "eager" and res.compile_seconds == 0.0


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device: the compiled CUDA step needs a GPU")
def test_cuda_compiled_step_agrees_with_cpu():
    """Triton kernels on the GPU: same spikes as the CPU (the stream is integer), curves within float tolerance."""
    for net in _nets().values():
        kw = dict(seed=5, batch_size=10, dtype=torch.float64)
        cpu = simulate(net, X, Y, 15, device="cpu", compile="false", **kw)
        gpu = simulate(net, X, Y, 15, device="cuda", compile="true", **kw)
        assert gpu.settings["engine"] == "compiled" and gpu.settings["device"].startswith("cuda")
        np.testing.assert_allclose(gpu.rates, cpu.rates, atol=2e-3)
        assert np.abs(gpu.accuracy - cpu.accuracy).max() <= 2 / len(X) + 1e-12
