"""Input encodings: Bernoulli rates within binomial bounds, seeding, chunk independence (docs/method.md §S1)."""

import torch

from snnconv.simulate import ConstantEncoder, PoissonEncoder, Workspace, make_encoder

# sha256 prefix of the spikes in test_stream_is_pinned: the counter stream (triple32-counter) as first published
PINNED_STREAM = "754f0e587d2410c5"


def test_poisson_spike_counts_within_binomial_bounds():
    p = torch.linspace(0, 1, 256).reshape(1, 1, 16, 16).repeat(4, 1, 1, 1)
    T = 2000
    counts = PoissonEncoder(p, seed=0).block(T).sum(0)
    expected, sd = p * T, (T * p * (1 - p)).sqrt()
    z = (counts - expected) / sd.clamp(min=1e-9)
    assert counts[p == 0].eq(0).all() and counts[p == 1].eq(T).all()
    inner = (p > 0) & (p < 1)
    assert float(z[inner].abs().max()) < 5.0  # 1020 cells: |z| > 5 has probability ~6e-4
    assert abs(float(z[inner].mean())) < 4.0 / inner.sum().sqrt()  # mean of ~N(0,1) z-scores


def test_max_rate_scales_probability_and_clamps():
    p = torch.full((1, 1, 10, 10), 0.8)
    rate = float(PoissonEncoder(p, 0, max_rate=0.5).block(1000).mean())
    assert abs(rate - 0.4) < 0.015
    assert float(PoissonEncoder(p, 0, max_rate=2.0).block(50).mean()) == 1.0


def test_seeding_is_deterministic_and_keyed_by_seed_and_image_id():
    p = torch.full((3, 1, 5, 5), 0.5)
    a, b = PoissonEncoder(p, 1).block(20), PoissonEncoder(p, 1).block(20)
    assert torch.equal(a, b)
    assert not torch.equal(a, PoissonEncoder(p, 2).block(20))
    assert not torch.equal(a, PoissonEncoder(p, 1, image_ids=torch.tensor([1, 2, 3])).block(20))
    assert not torch.equal(a[:, 0], a[:, 1])  # equal images with different ids get different spikes


def test_stream_independent_of_time_chunk_and_dtype():
    p = torch.rand(3, 1, 5, 7, generator=torch.Generator().manual_seed(0))  # odd element count per step
    whole = PoissonEncoder(p, 9).block(30)
    enc = PoissonEncoder(p, 9, dtype=torch.float64)
    pieces = torch.cat([enc.block(n) for n in (1, 4, 11, 14)])
    assert pieces.dtype == torch.float64 and torch.equal(whole.double(), pieces)


def test_blocks_are_fresh_without_workspace_and_reused_with_one():
    p = torch.full((2, 1, 4, 4), 0.5)
    enc = PoissonEncoder(p, 0)
    a, b = enc.block(3), enc.block(3)
    assert a.data_ptr() != b.data_ptr() and not torch.equal(a, b)
    shared = PoissonEncoder(p, 0, workspace=Workspace())
    assert shared.block(3).data_ptr() == shared.block(3).data_ptr()


def test_constant_encoder_and_factory():
    x = torch.rand(2, 1, 3, 3)
    enc = make_encoder("constant", x, seed=0, max_rate=0.5, device="cpu", dtype=torch.float64)
    assert isinstance(enc, ConstantEncoder) and enc.constant
    blk = enc.block(4)
    assert blk.shape == (4, 2, 1, 3, 3) and torch.equal(blk[3], (x * 0.5).double())
    assert not make_encoder("poisson", x, seed=0, max_rate=1, device="cpu", dtype=torch.float32).constant


def test_stream_is_pinned():
    """A hash of the first spikes of a fixed input: any change of the Poisson stream fails here."""
    import hashlib

    images = torch.linspace(0, 1, 2 * 28 * 28).reshape(2, 1, 28, 28)
    spikes = PoissonEncoder(images, seed=0).block(5).to(torch.uint8).numpy().tobytes()
    assert hashlib.sha256(spikes).hexdigest()[:16] == PINNED_STREAM
