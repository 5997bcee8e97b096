"""The compiled simulation step (docs/method.md §S4) through torch.compile: Dynamo traces the step, and inductor
writes C++ (Triton on a GPU) that a compiler subprocess builds. The compiled step gives the same spikes as the eager
engine and the stepwise reference in float64, for plain and residual nets (traced with Dynamo's eager backend for
every encoding, decoding and reset, built by inductor for a few); float32 within tolerance; one graph per decoding
for every step, batch and seed. Tracing and compiling cost seconds per test, so they live outside the unit layer;
the eager fallback and the choice of engine are unit-tested in tests/unit/simulate/test_simulate_compiled.py."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers.compile_nets import X, Y, compile_nets
from helpers.residual import assert_compiled_equals_reference, small_resnet

from snnconv.defaults import sim_args, stepwise_args
from snnconv.simulate import compiled, simulate, simulate_stepwise

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("encoding,decode,reset", [("poisson", "membrane", "subtract")])
def test_compiled_step_equals_reference_in_float64(encoding, decode, reset):
    """One inductor compile (C++ on the CPU): the fused step of a residual net keeps every spike."""
    _, net = small_resnet()
    assert_compiled_equals_reference(net, encoding, decode, reset)


@pytest.mark.parametrize("net_name", ["mlp", "cnn"])
def test_compiled_step_equals_eager_and_reference_in_float64(net_name):
    """Every combination of encoding, decoding and reset, batches of unequal size: identical curves and rates."""
    net = compile_nets()[net_name]
    for encoding in ("poisson", "constant"):
        for decode, reset in (("membrane", "subtract"), ("spikes", "zero")):
            kw = dict(seed=3, encoding=encoding, decode=decode, reset=reset, device="cpu", dtype=torch.float64)
            fast = simulate(net, X, Y, 9, **sim_args(batch_size=10, compile="true", **kw))
            eager = simulate(net, X, Y, 9, **sim_args(batch_size=6, time_chunk=4, compile="false", **kw))
            ref = simulate_stepwise(net, X, Y, 9, **stepwise_args(batch_size=23, **kw))
            assert fast.settings["engine"] == "compiled" and eager.settings["engine"] == "eager"
            for other in (eager, ref):
                assert np.array_equal(fast.accuracy, other.accuracy), (encoding, decode)
                assert np.array_equal(fast.rates, other.rates), (encoding, decode)
                assert fast.silent_output == other.silent_output


def test_compiled_float32_agrees_with_float64_reference():
    net = compile_nets()["cnn"]
    fast = simulate(net, X, Y, 20, **sim_args(batch_size=23, compile="true", device="cpu"))
    ref = simulate_stepwise(net, X, Y, 20, **stepwise_args(dtype=torch.float64, device="cpu"))
    assert fast.compile_seconds > 0
    np.testing.assert_allclose(fast.rates, ref.rates, atol=1e-3)
    assert np.abs(fast.accuracy - ref.accuracy).max() <= 1 / len(X) + 1e-12


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device: the compiled CUDA step needs a GPU")
def test_cuda_compiled_step_agrees_with_cpu():
    """Triton kernels on the GPU: same spikes as the CPU (the stream is integer), curves within float tolerance."""
    for net in compile_nets().values():
        kw = dict(seed=5, batch_size=10, dtype=torch.float64)
        cpu = simulate(net, X, Y, 15, **sim_args(device="cpu", compile="false", **kw))
        gpu = simulate(net, X, Y, 15, **sim_args(device="cuda", compile="true", **kw))
        assert gpu.settings["engine"] == "compiled" and gpu.settings["device"].startswith("cuda")
        np.testing.assert_allclose(gpu.rates, cpu.rates, atol=2e-3)
        assert np.abs(gpu.accuracy - cpu.accuracy).max() <= 2 / len(X) + 1e-12


@pytest.fixture
def dynamo_eager(monkeypatch):
    """Trace the step with Dynamo but run it without inductor: the plan and step logic, no C++ build."""
    torch._dynamo.reset()  # an empty cache: other tests' graphs of network_step do not count against its recompile limit
    monkeypatch.setattr(compiled, "_COMPILED", torch.compile(compiled.network_step, backend="eager", fullgraph=True))


@pytest.mark.parametrize("encoding", ["poisson", "constant"])
@pytest.mark.parametrize("decode,reset", [("membrane", "subtract"), ("spikes", "zero")])
def test_traced_step_equals_reference_in_float64(encoding, decode, reset, dynamo_eager):
    _, net = small_resnet(v_init=0.5 if reset == "zero" else 0.0)
    assert_compiled_equals_reference(net, encoding, decode, reset)


@pytest.fixture
def counting_backend(monkeypatch):
    """Compile with Dynamo's frame-counting backend instead of inductor: counts graphs, costs no C++ build."""
    from torch._dynamo.testing import CompileCounter

    torch._dynamo.reset()  # count from an empty cache, whatever other tests compiled before in this process
    counter = CompileCounter()
    monkeypatch.setattr(compiled, "_COMPILED", torch.compile(compiled.network_step, backend=counter, fullgraph=True))
    return counter


def test_one_compile_for_every_step_batch_and_seed(counting_backend):
    """The step number lives on the device, the batch dimension is dynamic: T steps × uneven batches × 2 seeds
    × both decodings of one network structure compile one graph per decoding."""
    net = compile_nets()["mlp"]
    for decode in ("membrane", "spikes"):
        for seed in (0, 1):
            res = simulate(
                net, X, Y, 7, **sim_args(seed=seed, batch_size=10, decode=decode, compile="true", device="cpu")
            )
            assert res.settings["engine"] == "compiled"
    assert counting_backend.frame_count == 2
