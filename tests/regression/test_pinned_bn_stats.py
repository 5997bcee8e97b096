"""Constants that must show, since dropping one changes the numbers only slightly: batch-norm ε, the T−1 of a sample variance, and the
hidden-layer variance prediction, each pinned against an independently computed value.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from helpers.nets import random_mlp
from torch import nn

from snnconv.convert import convert, fold_batchnorm, parse_norm
from snnconv.convert.layers import parse_model
from snnconv.defaults import convert_args, sim_args, stats_args
from snnconv.simulate import Probe, record_membrane_stats, simulate

# ------------------------------------------------------------------------------------------ batch norm ε


def bn_layer(cls: type, eps: float) -> nn.Module:
    """BN over 2 features with tiny running variances, so ε dominates √(σ² + ε)."""
    bn = cls(2, eps=eps)
    with torch.no_grad():
        bn.running_mean.copy_(torch.tensor([0.2, -0.3]))
        bn.running_var.copy_(torch.tensor([0.01, 0.0]))
        bn.weight.copy_(torch.tensor([2.0, 0.5]))
        bn.bias.copy_(torch.tensor([0.1, 0.2]))
    return bn.eval()


def test_fold_batchnorm_by_hand_where_eps_matters():
    """W' = γW/√(σ²+ε), b' = γ(b−μ)/√(σ²+ε) + β with ε = 0.1: scale = [2/√0.11, 0.5/√0.1]."""
    bn = bn_layer(nn.BatchNorm1d, 0.1)
    w, b = torch.tensor([[1.0, -1.0], [2.0, 0.5]]), torch.tensor([0.5, -1.0])
    fw, fb = fold_batchnorm(w, b, bn)
    s = [2 / math.sqrt(0.11), 0.5 / math.sqrt(0.1)]
    assert fw.flatten().tolist() == pytest.approx([s[0], -s[0], 2 * s[1], 0.5 * s[1]], rel=1e-6)
    assert fb.tolist() == pytest.approx([(0.5 - 0.2) * s[0] + 0.1, (-1.0 + 0.3) * s[1] + 0.2], rel=1e-6)
    without_eps = 2 / math.sqrt(0.01)  # what ε = 0 would give: 20 vs 6.03 — far outside the tolerance
    assert abs(fw[0, 0] - without_eps) > 1


@pytest.mark.parametrize("eps", [1e-5, 0.1])
def test_folded_conv_bn_reproduces_eval_ann(eps):
    """The ANN's own eval-mode BN (which uses ε) is the reference; running var 0 makes ε the whole denominator."""
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 2, 3, padding=1),
        bn_layer(nn.BatchNorm2d, eps),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(2 * 16, 2),
        bn_layer(nn.BatchNorm1d, eps),
        nn.ReLU(),
        nn.Linear(2, 3),
    ).eval()
    x = torch.rand(10, 1, 4, 4, generator=torch.Generator().manual_seed(1))
    parsed = parse_model(model, convert_args()["maxpool_to_avgpool"])
    conv = parsed.layers[0]
    with torch.no_grad():
        want = model[1](model[0](x))
        got = conv.apply_op(x)
    assert torch.allclose(got, want, rtol=1e-5, atol=1e-6 * float(want.abs().max()))
    net = convert(model, x, parse_norm("none"), **convert_args())
    with torch.no_grad():
        assert torch.allclose(net.rate_forward(x, clamp=False)[-1], model(x), rtol=1e-5, atol=1e-5)


# --------------------------------------------------------------------------------- membrane statistics


class InputRecorder(Probe):
    """Keeps every layer's direct input (after pre-ops) and input current, (T, N, ...) float64."""

    def __init__(self) -> None:
        self.pre: dict[int, dict[int, list]] = {}
        self.cur: dict[int, dict[int, list]] = {}

    def on_current(self, layer, batch, t0, pre, current):
        self.pre.setdefault(layer, {}).setdefault(batch, []).append((t0, pre.double().clone()))
        self.cur.setdefault(layer, {}).setdefault(batch, []).append((t0, current.double().clone()))

    @staticmethod
    def _stack(d: dict[int, list]) -> torch.Tensor:
        return torch.cat([torch.cat([x for _, x in sorted(v, key=lambda p: p[0])]) for _, v in sorted(d.items())], 1)

    def inputs(self, layer: int) -> np.ndarray:
        return self._stack(self.pre[layer]).flatten(2).numpy()

    def currents(self, layer: int) -> np.ndarray:
        return self._stack(self.cur[layer]).flatten(2).numpy()


@pytest.mark.parametrize("T", [3, 6])
def test_membrane_stats_match_numpy_sample_statistics(T):
    """Per neuron: mean over samples of the temporal mean and of the ddof=1 variance of the recorded current;
    prediction Σ_i w_ji² v_i with v_i the ddof=1 temporal variance of the recorded input (hidden layers) or
    the Bernoulli variance p(1−p) of the pixels (first layer). Small T makes T vs T−1 a 20–50 % difference."""
    net = random_mlp([16, 10, 8, 4], (1, 4, 4), seed=3, theta=0.6)
    x = torch.rand(12, 1, 4, 4, generator=torch.Generator().manual_seed(2))
    kw = dict(seed=7, batch_size=5, time_chunk=2, device="cpu", dtype=torch.float64)
    df = record_membrane_stats(net, x, T, **stats_args(neurons_per_layer=100, **kw))
    rec = InputRecorder()
    simulate(
        net,
        x,
        torch.zeros(len(x), dtype=torch.int64),
        T,
        **sim_args(encoding="poisson", max_rate=1.0, reset="subtract", decode="membrane", probe=rec, **kw),
    )
    for l, layer in enumerate(net.layers):
        rows = df[df.layer_index == l].sort_values("neuron")
        assert rows.neuron.tolist() == list(range(layer.n_out))
        cur = rec.currents(l)  # (T, N, n_out)
        assert cur.shape[0] == T
        np.testing.assert_allclose(rows.mean_current, cur.mean(0).mean(0), rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(rows.var_current, cur.var(0, ddof=1).mean(0), rtol=1e-9, atol=1e-12)
        w2 = layer.weight.double().numpy() ** 2
        if l == 0:
            p = x.flatten(1).double().numpy()
            v_in = p * (1 - p)
        else:
            v_in = rec.inputs(l).var(0, ddof=1)  # (N, n_in): previous layer's spikes
            assert v_in.max() > 0.1  # hidden inputs really vary, so a wrong divisor shows
        np.testing.assert_allclose(rows.var_pred_exact, (v_in @ w2.T).mean(0), rtol=1e-9, atol=1e-12)
    # the same spikes give a measured variance T/(T−1) larger than the biased estimate: guard that it shows
    cur = rec.currents(1)
    assert float(cur.var(0, ddof=1).mean()) > 1.15 * float(cur.var(0, ddof=0).mean())
