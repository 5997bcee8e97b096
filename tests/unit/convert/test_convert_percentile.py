"""The exact streaming percentile against numpy, including beyond torch.quantile's 16M-element limit (§C4)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from snnconv.convert import StreamingPercentile, percentile
from snnconv.convert.activations import percentile_of_chunks


@pytest.mark.parametrize("n", [1, 2, 3, 10, 1001])
@pytest.mark.parametrize("q", [0.1, 1.0, 25.0, 50.0, 99.0, 99.9, 100.0])
def test_matches_numpy_with_zeros_and_negatives(n, q):
    rng = np.random.default_rng(n)
    x = rng.standard_normal(n).astype(np.float32)
    x[rng.random(n) < 0.4] = 0.0
    assert percentile(x, q) == pytest.approx(np.percentile(x.astype(np.float64), q), rel=1e-12, abs=1e-12)


@settings(max_examples=40, deadline=None)
@given(
    values=st.lists(st.floats(-1e6, 1e6, width=32), min_size=1, max_size=200),
    q=st.floats(0, 100),
    chunk=st.integers(1, 50),
)
def test_hypothesis_against_numpy(values, q, chunk):
    x = np.array(values, dtype=np.float32)
    want = np.percentile(x.astype(np.float64), q)
    assert percentile(x, q, chunk=chunk) == pytest.approx(want, rel=1e-9, abs=1e-9)


def test_ties_and_constant_data():
    assert percentile(np.zeros(1000, np.float32), 99.9) == 0.0
    x = np.array([0, 0, 0, 1, 1, 1, 1, 2], np.float32)
    for q in (10, 37.5, 50, 90, 100):
        assert percentile(x, q) == pytest.approx(np.percentile(x, q))


def test_grouped_per_channel():
    x = torch.rand(24, 500)
    x[x < 0.5] = 0
    chunks = [x[:, i : i + 64] for i in range(0, 500, 64)]
    got = percentile_of_chunks(chunks, 99.5, 500, groups=24)
    assert np.allclose(got.numpy(), np.percentile(x.double().numpy(), 99.5, axis=1), rtol=1e-12)
    sel = StreamingPercentile(50, 24, 500)
    assert sel.widths == [11, 11, 10] and not sel.done
    assert StreamingPercentile(50, 1, 10).widths == [16, 16]
    with pytest.raises(ValueError, match="32 bits"):
        StreamingPercentile(50, 1, 10, widths=(8, 8))


def test_beyond_torch_quantile_limit():
    """17M float32 values (> 2^24): torch.quantile refuses, the radix select is exact."""
    rng = np.random.default_rng(0)
    x = rng.random(17_000_000, dtype=np.float32)
    x[:8_000_000] = 0.0  # many inactive ReLUs
    assert x.size > 1 << 24  # torch.quantile refuses inputs this large
    assert percentile(x, 99.9) == pytest.approx(float(np.percentile(x, 99.9)), rel=1e-7)


@pytest.mark.parametrize("widths", [(8, 8, 8, 8), (11, 11, 10), (4, 12, 16)])
def test_any_digit_widths_are_exact(widths):
    x = torch.randn(3, 700)
    x[:, ::3] = 0.0
    x[0, 5] = -0.0
    sel = StreamingPercentile(83.3, 3, 700, widths=widths)
    while not sel.done:
        for chunk in (x[:, :300], x[:, 300:]):
            sel.update(chunk)
        sel.end_pass()
    assert np.allclose(sel.result().numpy(), np.percentile(x.double().numpy(), 83.3, axis=1), rtol=1e-12)
