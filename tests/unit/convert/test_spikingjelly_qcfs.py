"""Our QCFS activation against SpikingJelly 2.0's independent pieces (an optional cross-check, not our code).

* ``ann2snn.SignedQCFSSequenceEncoder`` drives IF neurons (threshold = the step λ/L, T = L steps) and its
  spike train sums to round(x / step).clamp(-T, T) · step: for x ≥ 0 that is h(x) = λ/L · clip(floor(x·L/λ +
  1/2), 0, L), and its boundary-correction fraction says whether the IF neurons produced the counts unaided.
* ``quantize.floor`` is SpikingJelly's straight-through floor: the same formula built with it must give our
  values and gradients (x and λ).

SpikingJelly is not a project dependency: ``pip install --no-deps spikingjelly`` plus ``loguru`` (see
bench/bench_spikingjelly.py); without it these tests skip.
"""

from __future__ import annotations

import pytest
import torch

from snnconv.qcfs import QCFS

ann2snn = pytest.importorskip("spikingjelly.activation_based.ann2snn")
quantize = pytest.importorskip("spikingjelly.activation_based.quantize")

CASES = [(4, 2.0), (8, 0.7), (2, 5.0)]


@pytest.mark.parametrize("L, lam", CASES)
def test_sequence_encoder_spike_counts_equal_qcfs(L, lam):
    torch.manual_seed(L)
    x = torch.rand(2000, 3) * 1.5 * lam  # beyond λ too: both clip at L levels
    enc = ann2snn.SignedQCFSSequenceEncoder(torch.full((3,), lam / L), L, channel_dim=-1)
    spikes = enc.encode(x)
    assert spikes.shape[0] == L
    assert torch.allclose(spikes.sum(0), QCFS(L, lam)(x).detach(), atol=1e-5)
    assert enc.boundary_correction_fraction == 0.0  # the IF neurons alone produced these counts


@pytest.mark.parametrize("L, lam", CASES)
def test_straight_through_floor_gives_the_same_values_and_gradients(L, lam):
    torch.manual_seed(L + 1)
    x1 = (torch.rand(500, dtype=torch.float64) * 1.6 - 0.3) * lam
    x2 = x1.clone()
    x1.requires_grad_(True)
    x2.requires_grad_(True)
    ours = QCFS(L, lam).double()
    lam2 = torch.tensor(lam, dtype=torch.float64, requires_grad=True)
    weights = torch.rand(500, dtype=torch.float64)
    (ours(x1) * weights).sum().backward()
    theirs = quantize.floor(torch.clamp(x2 / lam2, 0.0, 1.0) * L + 0.5) / L * lam2
    (theirs * weights).sum().backward()
    assert torch.allclose(ours(x1), theirs)
    assert torch.allclose(x1.grad, x2.grad)
    assert torch.allclose(ours.lam.grad, lam2.grad)
