"""Choosing the engine of the compiled simulation step (docs/method.md §S4): the eager fallback when compiling fails,
`auto` compiling only where the work pays, a probe keeping the eager engine. The compiled step itself (traced and
built): tests/integration/test_compiled_step.py."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import torch
from helpers.compile_nets import X, Y, compile_nets

from snnconv.defaults import sim_args
from snnconv.simulate import compiled, simulate


def test_failed_compile_falls_back_to_eager_under_auto_and_fails_under_true(monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("no C++ compiler found")

    monkeypatch.setattr(compiled, "_COMPILED", broken)
    monkeypatch.setattr(compiled, "AUTO_MIN_NEURON_STEPS", {"cpu": 0.0})
    net = compile_nets()["mlp"]
    eager = simulate(net, X, Y, 6, **sim_args(compile="false", device="cpu", dtype=torch.float64))
    with caplog.at_level(logging.WARNING, logger="snnconv.simulate"):
        auto = simulate(net, X, Y, 6, **sim_args(compile="auto", device="cpu", dtype=torch.float64))
    assert auto.settings["engine"] == "eager (compile failed)"
    assert np.array_equal(auto.accuracy, eager.accuracy) and np.array_equal(auto.rates, eager.rates)
    assert [r.message for r in caplog.records if "torch.compile" in r.message] == [
        "torch.compile unavailable (RuntimeError: no C++ compiler found); simulating eagerly"
    ]
    with pytest.raises(RuntimeError, match="simulation.compile is true but torch.compile failed"):
        simulate(net, X, Y, 6, **sim_args(compile="true", device="cpu"))


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

    res = simulate(compile_nets()["mlp"], X, Y, 4, **sim_args(compile="true", probe=Probe(), device="cpu"))
    assert res.settings["engine"] == "eager" and res.compile_seconds == 0.0
