"""λ per layer pinned against values computed independently of snnconv.convert (a wrong λ
still gives a working network, so only the values themselves can catch it).

The reference takes the ANN's own ReLU outputs (forward hooks on the torch model, not the converted
network) and applies each definition in numpy (docs/method.md §C2–§C5):

* max:        λ_l = max a_l (per channel for conv layers when per_channel);
* p<q>:       λ_l = np.percentile(a_l, q), zeros included; λ ≤ 0 falls back to the layer (channel) max, then 1;
* model:      λ_l = max_j Σ_i max(0, W_ji λ_{l−1,i}) + max(0, b_j), λ_0 = 1, λ_{l−1} expanded through flatten;
* none:       1; ``<base>-v0half``: the base's λ with v_init = 0.5.

Nets have ≥ 2 hidden layers and conv channels, so a λ that ignores the previous layer's λ, or a
per-channel λ taken layer-wise, changes the numbers. The rescaled weights W_l·λ_{l−1}/λ_l are pinned too.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from snnconv.convert import convert, parse_norm
from snnconv.defaults import convert_args

RTOL = 1e-5  # float32 activations, float64 λ: agreement to a few ulps of float32


def conv_net() -> nn.Sequential:
    """conv(2→3) – avgpool – conv(3→4) – flatten – fc(→6) – readout(3): three hidden layers, two with channels."""
    torch.manual_seed(21)
    model = nn.Sequential(
        nn.Conv2d(2, 3, 3, padding=1),
        nn.ReLU(),
        nn.AvgPool2d(2),
        nn.Conv2d(3, 4, 3, padding=1),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(4 * 4 * 4, 6),
        nn.ReLU(),
        nn.Linear(6, 3),
    )
    with torch.no_grad():  # distinct channel scales so per-channel and layer-wise λ differ clearly
        model[0].weight.mul_(torch.tensor([1.0, 2.0, 0.5]).view(3, 1, 1, 1))
        model[3].weight.mul_(torch.tensor([0.5, 1.5, 1.0, 3.0]).view(4, 1, 1, 1))
        model[0].bias.add_(0.05)
    return model.eval()


def mlp_net() -> nn.Sequential:
    """MLP: flatten – fc(25→12) – fc(12→9) – fc(9→7) – readout(4)."""
    torch.manual_seed(22)
    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(25, 12),
        nn.ReLU(),
        nn.Linear(12, 9),
        nn.ReLU(),
        nn.Linear(9, 7),
        nn.ReLU(),
        nn.Linear(7, 4),
    ).eval()


NETS = {"cnn": (conv_net, (2, 8, 8)), "mlp": (mlp_net, (1, 5, 5))}


def images(shape: tuple[int, ...], n: int = 24) -> torch.Tensor:
    """Seeded images in [0, 1]."""
    return torch.rand(n, *shape, generator=torch.Generator().manual_seed(5))


def relu_outputs(model: nn.Sequential, x: torch.Tensor) -> list[np.ndarray]:
    """a_l of every hidden layer, from the ANN itself (float64 numpy)."""
    acts: list[np.ndarray] = []
    hooks = [
        m.register_forward_hook(lambda m, i, o: acts.append(o.detach().double().numpy().copy()))
        for m in model
        if isinstance(m, nn.ReLU)
    ]
    with torch.no_grad():
        model(x)
    for h in hooks:
        h.remove()
    return acts


def weighted(model: nn.Sequential) -> list[nn.Module]:
    """The Linear/Conv2d modules in order (the last is the readout)."""
    return [m for m in model if isinstance(m, (nn.Linear, nn.Conv2d))]


def groups(a: np.ndarray, per_channel: bool) -> np.ndarray:
    """(groups, values): one row per channel of a conv output, or one row."""
    if per_channel and a.ndim == 4:
        return a.transpose(1, 0, 2, 3).reshape(a.shape[1], -1)
    return a.reshape(1, -1)


def positive(lam: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    """λ ≤ 0 → fallback, still ≤ 0 → 1."""
    lam = np.where(lam > 0, lam, fallback)
    return np.where(lam > 0, lam, 1.0)


def expand(lam_prev: np.ndarray, module: nn.Module) -> np.ndarray:
    """λ_{l−1} per input of ``module``: per input channel for conv, per flattened input (channel-major) for linear."""
    n_in = module.weight.shape[1]
    if lam_prev.size == 1:
        return np.full(n_in, float(lam_prev[0]))
    return np.repeat(lam_prev, n_in // lam_prev.size)


def reference_lambdas(
    model: nn.Sequential, x: torch.Tensor, base: str, q: float | None, per_channel: bool
) -> list[np.ndarray]:
    """λ of every hidden layer from the definitions (see module docstring)."""
    acts, mods = relu_outputs(model, x), weighted(model)[:-1]
    pcs = [per_channel and isinstance(m, nn.Conv2d) for m in mods]
    if base == "none":
        return [np.ones(1) for _ in mods]
    if base == "max":
        return [positive(groups(a, pc).max(1), np.ones(1)) for a, pc in zip(acts, pcs)]
    if base == "percentile":
        out = []
        for a, pc in zip(acts, pcs):
            g = groups(a, pc)
            out.append(positive(np.percentile(g, q, axis=1), g.max(1)))
        return out
    assert base == "model"
    out, prev = [], np.ones(1)
    for m, pc in zip(mods, pcs):
        w = m.weight.detach().double().numpy()
        lam_in = expand(prev, m)
        scaled = w * lam_in.reshape(1, -1, *([1] * (w.ndim - 2)))
        bound = np.clip(scaled, 0, None).reshape(w.shape[0], -1).sum(1) + np.clip(
            m.bias.detach().double().numpy(), 0, None
        )
        prev = positive(bound if pc else np.array([bound.max()]), np.ones(1))
        out.append(prev)
    return out


CASES = ["none", "max", "p99", "p90", "p50", "model", "max-v0half", "p99.9-v0half", "model-v0half"]


@pytest.mark.parametrize("per_channel", [False, True])
@pytest.mark.parametrize("norm", CASES)
@pytest.mark.parametrize("arch", sorted(NETS))
def test_lambdas_match_definition(arch, norm, per_channel):
    build, shape = NETS[arch]
    model, x = build(), images(shape)
    spec = parse_norm(norm)
    net = convert(model, x, spec, **convert_args(per_channel=per_channel))
    want = reference_lambdas(model, x, spec.base, spec.percentile, per_channel)
    got = net.meta["lambdas"]
    assert len(got) == len(want) + 1 and got[-1] == 1.0  # readout λ_L = 1
    for l, (g, w) in enumerate(zip(got[:-1], want)):
        g = np.atleast_1d(np.asarray(g, dtype=np.float64))
        assert g.shape == w.shape, (l, g, w)
        np.testing.assert_allclose(g, w, rtol=RTOL, err_msg=f"{arch} {norm} layer {l}")
    assert net.v_init == (0.5 if norm.endswith("-v0half") else 0.0)
    # the rescaled weights use the same λ: W_l λ_{l−1} / λ_l, b_l / λ_l
    prev = np.ones(1)
    for l, (m, layer) in enumerate(zip(weighted(model), net.layers)):
        lam = want[l] if l < len(want) else np.ones(1)
        w = m.weight.detach().double().numpy()
        lam_out = lam.reshape(-1, *([1] * (w.ndim - 1))) if lam.size > 1 else lam[0]
        expect_w = w * expand(prev, m).reshape(1, -1, *([1] * (w.ndim - 2))) / lam_out
        np.testing.assert_allclose(layer.weight.double().numpy(), expect_w, rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(
            layer.bias.double().numpy(), m.bias.detach().double().numpy() / lam, rtol=1e-5, atol=1e-7
        )
        prev = lam


def test_per_channel_lambdas_really_differ_across_channels():
    """Guard for the test above: with per_channel the conv λ are not all equal (else layer-wise would pass)."""
    model, x = conv_net(), images((2, 8, 8))
    for norm in ("max", "p99", "model"):
        lams = convert(model, x, parse_norm(norm), **convert_args(per_channel=True)).meta["lambdas"]
        assert np.ptp(lams[0]) > 0.1 * max(lams[0]) and np.ptp(lams[1]) > 0.1 * max(lams[1]), norm


# ------------------------------------------------------------------------------------- hand-computed cases

X2 = torch.tensor([[1.0, 0.0], [0.5, 1.0], [0.0, 0.0]]).view(3, 1, 1, 2)


def two_hidden() -> nn.Sequential:
    """2-2-2-1 MLP; hidden-1 activations on X2: [1,0], [2.5,1], [0,0.5] (max 2.5)."""
    model = nn.Sequential(nn.Flatten(), nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 1))
    with torch.no_grad():
        model[1].weight.copy_(torch.tensor([[1.0, 2.0], [-1.0, 1.0]]))
        model[1].bias.copy_(torch.tensor([0.0, 0.5]))
        model[3].weight.copy_(torch.tensor([[1.0, -1.0], [0.5, 2.0]]))
        model[3].bias.copy_(torch.tensor([0.1, 0.0]))
        model[5].weight.copy_(torch.tensor([[1.0, 1.0]]))
        model[5].bias.zero_()
    return model.eval()


def test_model_lambda_uses_previous_lambda_by_hand():
    """λ_1 = max(1+2+0, 1+0.5) = 3; λ_2 = max(1·3 + 0.1, 0.5·3 + 2·3) = 7.5 (ignoring λ_1 would give 2.5)."""
    net = convert(two_hidden(), X2, parse_norm("model"), **convert_args())
    assert net.meta["lambdas"] == pytest.approx([3.0, 7.5, 1.0], rel=1e-12)
    # rescaled second layer: W_2·λ_1/λ_2 = W_2·0.4, b_2/λ_2
    assert torch.allclose(net.layers[1].weight, torch.tensor([[0.4, -0.4], [0.2, 0.8]]))
    assert torch.allclose(net.layers[1].bias, torch.tensor([0.1 / 7.5, 0.0]))


def test_max_lambda_second_layer_by_hand():
    """Hidden-2 activations: relu([1−0.5+0.1, 0.5+1]) = [0.6, 1.5], [1.6, 3.25], [0, 1] → λ = [2.5, 3.25]."""
    net = convert(two_hidden(), X2, parse_norm("max"), **convert_args())
    assert net.meta["lambdas"] == pytest.approx([2.5, 3.25, 1.0], rel=1e-6)


def sparse_net() -> nn.Sequential:
    """Second hidden layer fires on one image of four: its p50 is 0, its max 4."""
    model = nn.Sequential(nn.Flatten(), nn.Linear(1, 2), nn.ReLU(), nn.Linear(2, 1), nn.ReLU(), nn.Linear(1, 1))
    with torch.no_grad():
        model[1].weight.copy_(torch.tensor([[1.0], [2.0]]))
        model[1].bias.zero_()
        model[3].weight.copy_(torch.tensor([[4.0, 2.0]]))
        model[3].bias.copy_(torch.tensor([-6.0]))
        model[5].weight.fill_(1.0)
        model[5].bias.zero_()
    return model.eval()


def test_sparse_percentile_falls_back_to_the_layer_max_by_hand():
    """x = 0, 0.25, 0.5, 1: hidden-1 = [x, 2x] → p50 over {0,0,.25,.5,.5,1,1,2} = 0.5;
    hidden-2 = relu(8x − 6) = [0, 0, 0, 2] → p50 = 0 → fallback to its max 2 (not to 1)."""
    x = torch.tensor([0.0, 0.25, 0.5, 1.0]).view(4, 1, 1, 1)
    net = convert(sparse_net(), x, parse_norm("p50"), **convert_args())
    assert net.meta["lambdas"] == pytest.approx([0.5, 2.0, 1.0], rel=1e-6)
    again = convert(sparse_net(), x, parse_norm("p90"), **convert_args())  # h = 2.7: 0 + 0.7·2 = 1.4 > 0, no fallback
    assert again.meta["lambdas"][1] == pytest.approx(1.4, rel=1e-6)


def test_sparse_percentile_per_channel_falls_back_to_the_channel_max():
    """Conv 1×1, two channels: channel 0 = x (dense), channel 1 = relu(6x − 4) (one pixel of four lit).

    Channel 0: p50 of {.2, .4, .6, 1} = 0.5; channel 1: {0, 0, 0, 2} → p50 = 0 → channel max 2 (not 1)."""
    x = torch.tensor([0.2, 0.4, 0.6, 1.0]).view(1, 1, 2, 2)
    model2 = nn.Sequential(nn.Conv2d(1, 2, 1), nn.ReLU(), nn.Flatten(), nn.Linear(8, 1)).eval()
    with torch.no_grad():
        model2[0].weight.copy_(torch.tensor([1.0, 6.0]).view(2, 1, 1, 1))
        model2[0].bias.copy_(torch.tensor([0.0, -4.0]))
    net2 = convert(model2, x, parse_norm("p50"), **convert_args(per_channel=True))
    assert net2.meta["lambdas"][0] == pytest.approx([0.5, 2.0], rel=1e-6)
