"""A small converted resnet8 and the compiled-vs-reference check shared by the traced (unit) and the
inductor-compiled (integration) residual tests."""

from __future__ import annotations

import numpy as np
import torch

from helpers.nets import randomize_bn
from snnconv.convert import convert, parse_norm
from snnconv.defaults import arch_args, convert_args, sim_args, stepwise_args
from snnconv.models import build_resnet
from snnconv.simulate import simulate, simulate_stepwise

X = torch.rand(21, 1, 8, 8, generator=torch.Generator().manual_seed(0))
Y = torch.randint(0, 5, (21,), generator=torch.Generator().manual_seed(1))


def small_resnet(norm: str = "max", v_init: float = 0.0):
    """resnet8 (an identity block and two 1×1-shortcut blocks), narrow, BN randomized, converted on X."""
    torch.manual_seed(5)
    model = randomize_bn(build_resnet((1, 8, 8), 5, **arch_args("resnet", preset="resnet8", channels=[3, 4, 5])), 2)
    net = convert(model, X, parse_norm(norm), **convert_args())
    net.v_init = v_init
    return model, net


def assert_compiled_equals_reference(net, encoding: str, decode: str, reset: str) -> None:
    """The compiled engine (batches of 10) and the stepwise reference (one batch) give identical curves in float64."""
    kw = dict(seed=4, encoding=encoding, decode=decode, reset=reset, device="cpu", dtype=torch.float64)
    fast = simulate(net, X, Y, 9, **sim_args(batch_size=10, compile="true", **kw))
    ref = simulate_stepwise(net, X, Y, 9, **stepwise_args(batch_size=21, **kw))
    assert fast.settings["engine"] == "compiled"
    assert np.array_equal(fast.accuracy, ref.accuracy)
    assert np.array_equal(fast.rates, ref.rates)
