"""The encoder's spikes in every dtype, CUDA agreeing with the CPU, bad pixels refused."""

import re

import numpy as np
import pytest
import torch
from helpers.nets import normalise, random_mlp, small_cnn

from snnconv.defaults import sim_args
from snnconv.simulate import PoissonEncoder, make_encoder, simulate
from snnconv.simulate.encoding import check_pixels

CUDA = torch.cuda.is_available()


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_poisson_spikes_are_the_stream_in_every_dtype(dtype):
    """The encoder's block is the pure stream function (stream.spikes_at) cast to the compute dtype."""
    from snnconv.simulate import stream

    p = torch.rand(3, 1, 5, 7, generator=torch.Generator().manual_seed(0))
    p[0, 0, 0, :3] = torch.tensor([0.0, 1.0, 0.5])
    got = PoissonEncoder(p, seed=4, image_ids=torch.tensor([9, 3, 4]), device="cpu", dtype=dtype).block(9)
    base, r = stream.image_keys(torch.tensor([9, 3, 4]), 4, 35)
    limit = stream.spike_limits(p, 1.0)
    want = torch.stack([stream.spikes_at(torch.tensor(t, dtype=torch.int32), base, limit, r) for t in range(1, 10)])
    assert got.dtype == dtype and got.device.type == "cpu"
    assert torch.equal(got.reshape(9, 3, -1), want.to(dtype))
    assert got[:, 0, 0, 0, 0].eq(0).all() and got[:, 0, 0, 0, 1].eq(1).all()


@pytest.mark.skipif(not CUDA, reason="no CUDA device: the CUDA-vs-CPU agreement needs a GPU")
def test_cuda_encoder_and_simulation_agree_with_cpu():
    x = torch.rand(20, 1, 8, 8, generator=torch.Generator().manual_seed(1))
    y = torch.randint(0, 5, (20,), generator=torch.Generator().manual_seed(2))
    cpu_spikes = PoissonEncoder(x, 3, device="cpu").block(6)
    gpu_spikes = PoissonEncoder(x, 3, device="cuda").block(6)
    assert gpu_spikes.device.type == "cuda" and torch.equal(gpu_spikes.cpu(), cpu_spikes)
    for net in (normalise(random_mlp([64, 32, 5], (1, 8, 8)), x), normalise(small_cnn(), x)):
        kw = dict(seed=3, batch_size=10, time_chunk=4, dtype=torch.float64)
        a, b = (
            simulate(net, x, y, 12, **sim_args(device="cpu", **kw)),
            simulate(net, x, y, 12, **sim_args(device="cuda", **kw)),
        )
        # float64 cuBLAS/cuDNN round differently from the CPU (§S4): rare spike flips, no systematic change
        np.testing.assert_allclose(a.rates, b.rates, atol=2e-3)
        assert np.abs(a.accuracy - b.accuracy).max() <= 0.1


@pytest.mark.parametrize("bad", [-0.25, -1e-7, 1.5, float("nan")])
def test_simulator_refuses_pixels_outside_unit_interval_naming_the_value(bad):
    x = torch.rand(6, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    x[4, 0, 3, 2] = bad
    net = random_mlp([64, 16, 5], (1, 8, 8))
    msg = "nan" if bad != bad else re.escape(repr(float(torch.tensor(bad))))  # the float32 value
    with pytest.raises(ValueError, match=rf"\[0, 1\].*{msg}.*sample 4"):
        simulate(net, x, torch.zeros(6, dtype=torch.int64), 3, **sim_args(device="cpu"))
    with pytest.raises(ValueError, match=rf"{msg}.*sample 4"):
        make_encoder("poisson", x, seed=0, max_rate=1.0, device="cpu", dtype=torch.float32)


def test_boundary_pixels_are_accepted():
    x = torch.tensor([[0.0, 1.0], [0.5, 0.25]])
    check_pixels(x)  # no error
    with pytest.raises(ValueError, match="floating point"):
        check_pixels(x.to(torch.uint8))
