"""The counter-based input stream (docs/method.md §S1): its definition, its invariances and its statistical quality."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
import torch
from helpers.nets import normalise, random_mlp, small_cnn
from scipy import stats as sps

from snnconv.defaults import sim_args, stepwise_args
from snnconv.simulate import PoissonEncoder, simulate, simulate_stepwise
from snnconv.simulate import stream as st

M32 = 0xFFFFFFFF
CUDA = torch.cuda.is_available()


# ------------------------------------------------------------------------------------------------ the definition
def triple32_py(x: int) -> int:
    """triple32 on one unsigned 32-bit word, in Python integers (the published C function, mod 2^32)."""
    x ^= x >> 17
    x = (x * 0xED5AD4BB) & M32
    x ^= x >> 11
    x = (x * 0xAC4C1B51) & M32
    x ^= x >> 15
    x = (x * 0x31848BAB) & M32
    return x ^ (x >> 14)


def u_py(seed: int, image: int, t: int, pixel: int) -> int:
    """The stream's 31-bit uniform, from the documented construction, word by word in Python integers."""
    digest = hashlib.sha256(f"snnconv-stream:{seed}".encode()).digest()
    k1, k2, k3 = (int.from_bytes(digest[4 * i : 4 * i + 4], "little") for i in range(3))
    a, r, g = triple32_py(image ^ k1), triple32_py(image ^ k3), triple32_py(pixel ^ k2)
    base, q = triple32_py(g ^ a), triple32_py(t ^ r)
    return triple32_py(base ^ q) >> 1


def test_triple32_is_the_published_function_on_every_bit_pattern():
    words = [0, 1, 2, 0x7FFFFFFF, 0x80000000, 0xDEADBEEF, M32] + list(range(3, 1000, 37))
    got = st.triple32(torch.tensor([st.as_int32(w) for w in words], dtype=torch.int32))
    assert [int(v) & M32 for v in got] == [triple32_py(w) for w in words]
    assert triple32_py(0) == 0 and len({triple32_py(w) for w in range(5000)}) == 5000  # a bijection: no collision


def test_in_place_hash_equals_the_pure_one():
    x = torch.randint(-(2**31), 2**31 - 1, (4097,), dtype=torch.int32, generator=torch.Generator().manual_seed(0))
    assert torch.equal(st.triple32_(x.clone(), torch.empty_like(x)), st.triple32(x))


def test_spikes_follow_the_documented_rule_word_by_word():
    """u(seed, image id, t, pixel) from the construction in docs/method.md §S1; spike iff u < round(p·2^31)."""
    images = torch.rand(3, 1, 2, 3, generator=torch.Generator().manual_seed(1))
    images[0, 0, 0, :3] = torch.tensor([0.0, 1.0, 0.5])
    ids = torch.tensor([7, 0, 123456])
    got = PoissonEncoder(images, seed=11, image_ids=ids, max_rate=0.9).block(4)
    for t in range(4):
        for b, image in enumerate(ids.tolist()):
            for j in range(6):
                p = min(1.0, float(images.double()[b].reshape(-1)[j]) * 0.9)
                expected = u_py(11, image, t + 1, j) < round(p * 2**31)
                assert bool(got[t, b].reshape(-1)[j]) == expected, (t, b, j)
    assert got[:, 0, 0, 0, 0].eq(0).all() and got[:, 0, 0, 0, 1].eq(1).all()


def test_out_of_range_ids_and_steps_are_refused_naming_the_value():
    with pytest.raises(ValueError, match=r"image ids.*-1"):
        PoissonEncoder(torch.rand(2, 4), 0, image_ids=torch.tensor([0, -1]))
    with pytest.raises(ValueError, match="one image id per image"):
        PoissonEncoder(torch.rand(2, 4), 0, image_ids=torch.tensor([0]))
    with pytest.raises(ValueError, match=r"image ids.*2147483648"):
        simulate(
            random_mlp([4, 3], (1, 2, 2)),
            torch.rand(1, 1, 2, 2),
            torch.zeros(1).long(),
            2,
            **sim_args(image_ids=[2**31]),
        )


# ----------------------------------------------------------------------------------------------- invariances
def _spikes(images: torch.Tensor, ids: torch.Tensor, steps: int, **kw) -> torch.Tensor:
    return PoissonEncoder(images, seed=5, image_ids=ids, **kw).block(steps)


def test_an_images_spikes_do_not_depend_on_its_batch_chunking_dtype_or_threads():
    images = torch.rand(40, 1, 5, 5, generator=torch.Generator().manual_seed(2))
    ids = torch.arange(100, 140)
    whole = _spikes(images, ids, 12)
    alone = torch.cat([_spikes(images[k : k + 1], ids[k : k + 1], 12) for k in range(40)], 1)
    assert torch.equal(whole, alone)
    shuffled = torch.randperm(40, generator=torch.Generator().manual_seed(3))
    assert torch.equal(_spikes(images[shuffled], ids[shuffled], 12), whole[:, shuffled])
    enc = PoissonEncoder(images, seed=5, image_ids=ids)
    assert torch.equal(torch.cat([enc.block(5).clone(), enc.block(1).clone(), enc.block(6).clone()]), whole)
    assert torch.equal(_spikes(images, ids, 12, dtype=torch.float64).float(), whole)
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        one = _spikes(images, ids, 12)
        torch.set_num_threads(2)
        two = _spikes(images, ids, 12)
    finally:
        torch.set_num_threads(threads)
    assert torch.equal(one, whole) and torch.equal(two, whole)


def test_cpu_pieces_cover_many_rows_and_odd_sizes():
    """The eager CPU encoder hashes row pieces (PIECE words): any split gives the pure function's spikes."""
    from snnconv.simulate import encoding

    images = torch.rand(301, 1, 28, 28, generator=torch.Generator().manual_seed(4))
    ids = torch.arange(301)
    base, r = st.image_keys(ids, 5, 784)
    limit = st.spike_limits(images, 1.0)
    expected = torch.stack([st.spikes_at(torch.tensor(t, dtype=torch.int32), base, limit, r) for t in (1, 2, 3)])
    assert encoding.PIECE < 301 * 784  # several pieces
    assert torch.equal(_spikes(images, ids, 3).reshape(3, 301, -1).bool(), expected)


def test_test_subset_keeps_each_images_spikes_and_results():
    """Image k of the first n images gets the spikes it gets in the full run: curves over a subset are exact."""
    x = torch.rand(30, 1, 8, 8, generator=torch.Generator().manual_seed(5))
    y = torch.randint(0, 5, (30,), generator=torch.Generator().manual_seed(6))
    net = normalise(random_mlp([64, 32, 5], (1, 8, 8)), x)
    kw = dict(seed=2, device="cpu", dtype=torch.float64, time_chunk=4)
    full = simulate(net, x, y, 10, **sim_args(batch_size=7, **kw))
    parts = [
        simulate(
            net,
            x[lo : lo + 10],
            y[lo : lo + 10],
            10,
            **sim_args(batch_size=4, image_ids=torch.arange(lo, lo + 10), **kw),
        )
        for lo in (0, 10, 20)
    ]
    assert np.allclose(sum(p.accuracy for p in parts) / 3, full.accuracy, atol=1e-12)
    assert np.allclose(sum(p.rates for p in parts) / 3, full.rates, atol=1e-12)


@pytest.mark.skipif(not CUDA, reason="no CUDA device: the CPU-vs-CUDA bit equality needs a GPU (bench/gpu_check.py)")
def test_cuda_stream_is_bit_identical_to_cpu():
    images = torch.rand(200, 3, 8, 8, generator=torch.Generator().manual_seed(7))
    ids = torch.arange(1000, 1200)
    cpu = _spikes(images, ids, 20)
    assert torch.equal(_spikes(images, ids, 20, device="cuda").cpu(), cpu)


# ---------------------------------------------------------------------------------------------------- quality
def test_per_pixel_rates_lie_inside_999_binomial_bounds_over_a_million_draws():
    """8 probabilities × 1,000 images × 1,000 steps: each pixel's 10^6 spikes within its 99.9 % binomial interval."""
    p = torch.tensor([0.001, 0.01, 0.1, 0.25, 0.5, 0.7, 0.9, 0.999])
    images = p.repeat(1000, 1)
    counts = PoissonEncoder(images, seed=0, image_ids=torch.arange(1000)).block(1000).sum((0, 1)).double()
    n = 1000 * 1000
    lo, hi = sps.binom.interval(0.999, n, p.double().numpy())
    assert np.all((counts.numpy() >= lo) & (counts.numpy() <= hi)), (counts.numpy() / n, p.numpy())


def _r(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(np.corrcoef(a.reshape(-1).double().numpy(), b.reshape(-1).double().numpy())[0, 1])


def test_neighbouring_steps_pixels_images_and_seeds_are_uncorrelated():
    """|Pearson r| < 5/√n between uniforms at neighbouring t, pixel, image id and seed."""
    ids, steps = torch.arange(500, 1000), torch.arange(1, 42)
    u = st.uniforms(0, ids, steps, 50)  # (41, 500, 50)
    pairs = {
        "t, t+1": (u[:-1], u[1:]),
        "pixel, pixel+1": (u[..., :-1], u[..., 1:]),
        "image, image+1": (u[:, :-1], u[:, 1:]),
        "seed, seed+1": (u, st.uniforms(1, ids, steps, 50)),
    }
    for what, (a, b) in pairs.items():
        bound = 5 / np.sqrt(a.numel())
        assert abs(_r(a, b)) < bound, (what, _r(a, b), bound)


@pytest.mark.parametrize("bits", ["high", "low"])
def test_uniforms_pass_a_chi_square_test_on_2_20_draws(bits):
    """1,024 equiprobable bins of the top (or bottom) 10 bits of 2^20 uniforms: χ² p-value above 0.001."""
    u = st.uniforms(3, torch.arange(1024), torch.arange(1, 9), 128).reshape(-1).long()
    assert u.numel() == 2**20 and int(u.min()) >= 0 and int(u.max()) < 2**31
    bins = (u >> 21) if bits == "high" else (u & 1023)
    observed = torch.bincount(bins, minlength=1024).numpy()
    assert sps.chisquare(observed).pvalue > 1e-3


# ------------------------------------------------------------------------------------------- simulation level
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_simulation_results_do_not_depend_on_batch_size(dtype):
    x = torch.rand(37, 1, 8, 8, generator=torch.Generator().manual_seed(8))
    y = torch.randint(0, 5, (37,), generator=torch.Generator().manual_seed(9))
    net = normalise(small_cnn(), x)
    kw = dict(seed=4, device="cpu", dtype=dtype, decode="spikes")
    a, b = (
        simulate(net, x, y, 12, **sim_args(batch_size=37, **kw)),
        simulate(net, x, y, 12, **sim_args(batch_size=5, time_chunk=3, **kw)),
    )
    ref = simulate_stepwise(net, x, y, 12, **stepwise_args(batch_size=8, **kw))
    assert np.array_equal(a.accuracy, b.accuracy) and np.allclose(a.rates, b.rates, rtol=1e-12)
    assert np.array_equal(ref.accuracy, a.accuracy) and np.allclose(ref.rates, a.rates, rtol=1e-12)
