"""Normalization recipes: hand-computed λ and function preservation for none/max/percentile/model (§C2–§C5).

Exact relation tested (§C2): hidden rate-model output of layer l = a_l / λ_l, and the readout current
equals the ANN's logits (λ_L = 1 for the non-spiking readout), so argmax is preserved.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from snnconv.convert import convert, parse_norm
from snnconv.defaults import arch_args, convert_args
from snnconv.models import build_cnn, build_mlp

X = torch.tensor([[1.0, 0.0], [0.5, 1.0], [0.0, 0.0]]).view(3, 1, 1, 2)


def hand_net() -> nn.Sequential:
    """2-2-2 MLP with chosen weights; hidden activations on X are [1,0], [2.5,1], [0,0.5]."""
    model = nn.Sequential(nn.Flatten(), nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 2))
    with torch.no_grad():
        model[1].weight.copy_(torch.tensor([[1.0, 2.0], [-1.0, 1.0]]))
        model[1].bias.copy_(torch.tensor([0.0, 0.5]))
        model[3].weight.copy_(torch.tensor([[1.0, -1.0], [2.0, 1.0]]))
        model[3].bias.copy_(torch.tensor([0.1, 0.0]))
    return model.eval()


@pytest.mark.parametrize(
    "name, lam",
    [
        ("none", 1.0),
        ("max", 2.5),  # largest hidden activation
        ("p50", 0.75),  # sorted [0,0,0.5,1,1,2.5], h = 5·0.5 = 2.5 → 0.5 + 0.5·(1 − 0.5)
        ("p100", 2.5),
        ("model", 3.0),  # max(1 + 2 + 0, 1 + 0.5): positive weights plus positive bias
        ("max-v0half", 2.5),
    ],
)
def test_hand_computed_lambdas(name, lam):
    model = hand_net()
    net = convert(model, X, parse_norm(name), **convert_args())
    assert net.meta["lambdas"] == pytest.approx([lam, 1.0])
    hidden, readout = net.layers
    assert torch.allclose(hidden.weight, model[1].weight / lam) and torch.allclose(hidden.bias, model[1].bias / lam)
    assert torch.allclose(readout.weight, model[3].weight * lam) and torch.allclose(readout.bias, model[3].bias)
    assert torch.equal(hidden.threshold, torch.ones(2)) and not readout.spiking
    assert net.v_init == (0.5 if name.endswith("v0half") else 0.0)
    assert torch.allclose(net.rate_forward(X, clamp=False)[-1], model(X))


def test_per_channel_conv_then_flatten_hand_computed():
    """Conv 1×1 with weights 1 and 2 on one 2×2 image: channel maxima 0.4 and 0.8, expanded through flatten."""
    model = nn.Sequential(nn.Conv2d(1, 2, 1, bias=False), nn.ReLU(), nn.Flatten(), nn.Linear(8, 1)).eval()
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor([1.0, 2.0]).view(2, 1, 1, 1))
        model[3].weight.copy_(torch.arange(8.0).view(1, 8))
    x = torch.tensor([[0.1, 0.2], [0.3, 0.4]]).view(1, 1, 2, 2)
    net = convert(model, x, parse_norm("max"), **convert_args(per_channel=True))
    assert net.meta["lambdas"][0] == pytest.approx([0.4, 0.8]) and net.meta["per_channel"] == [True, False]
    assert torch.allclose(net.layers[0].weight.flatten(), torch.tensor([2.5, 2.5]))
    expected = torch.arange(8.0) * torch.tensor([0.4] * 4 + [0.8] * 4)
    assert torch.allclose(net.layers[1].weight.flatten(), expected)
    layer_wise = convert(model, x, parse_norm("model"), **convert_args(per_channel=True))
    assert layer_wise.meta["lambdas"][0] == pytest.approx([1.0, 2.0])  # Σ positive weights per channel


def relu_activations(model: nn.Sequential, x: torch.Tensor) -> list[torch.Tensor]:
    """Output of every ReLU of the ANN (hooks), i.e. a_l for each hidden layer."""
    acts: list[torch.Tensor] = []
    hooks = [
        m.register_forward_hook(lambda m, i, o: acts.append(o.detach().clone()))
        for m in model
        if isinstance(m, nn.ReLU)
    ]
    with torch.no_grad():
        model(x)
    for h in hooks:
        h.remove()
    return acts


def small_models() -> dict[str, nn.Sequential]:
    """An MLP, a CNN with avgpool and hidden FC, a conv→avgpool→flatten→linear net, with and without bias."""
    torch.manual_seed(3)
    out = {
        "mlp": build_mlp((1, 5, 5), 4, **arch_args("mlp", hidden=[12, 9], dropout=0.1)),
        "mlp_nobias": build_mlp((1, 5, 5), 4, **arch_args("mlp", hidden=[12], bias=False)),
        "cnn": build_cnn((2, 8, 8), 3, **arch_args("cnn", channels=[4, 5], kernel=3, hidden=7)),
        "cnn_nobias_bn": build_cnn(
            (2, 8, 8), 3, **arch_args("cnn", channels=[4], kernel=3, hidden=0, bias=False, batchnorm=True)
        ),
        "conv_pool_fc": nn.Sequential(
            nn.Conv2d(2, 3, 3, padding=1), nn.ReLU(), nn.AvgPool2d(2), nn.Flatten(), nn.Linear(48, 3)
        ),
    }
    for m in out.values():
        for mod in m.modules():
            if isinstance(mod, nn.modules.batchnorm._BatchNorm):
                mod.running_mean.uniform_(-0.5, 0.5)
                mod.running_var.uniform_(0.5, 2.0)
        m.eval()
    return out


MODELS = small_models()


def inputs(name: str, n: int = 40) -> torch.Tensor:
    """Random images in [0, 1] for the model's input shape."""
    g = torch.Generator().manual_seed(7)
    return torch.rand(n, *((1, 5, 5) if name.startswith("mlp") else (2, 8, 8)), generator=g)


@pytest.mark.parametrize("per_channel", [False, True])
@pytest.mark.parametrize("norm", ["none", "max", "p99", "p99.9", "model", "max-v0half"])
@pytest.mark.parametrize("arch", sorted(MODELS))
def test_function_preserved(arch, norm, per_channel):
    model, x = MODELS[arch], inputs(arch)
    net = convert(model, x, parse_norm(norm), **convert_args(per_channel=per_channel))
    with torch.no_grad():
        logits, outs = model(x), net.rate_forward(x, clamp=False)
    assert torch.allclose(outs[-1], logits, rtol=1e-4, atol=1e-5)  # readout == logits (λ_L = 1)
    assert torch.equal(outs[-1].argmax(1), logits.argmax(1))
    for a, z, lam in zip(relu_activations(model, x), outs[:-1], net.meta["lambdas"]):
        lam_t = torch.tensor(lam, dtype=torch.float32)
        lam_t = lam_t.view(1, -1, *([1] * (a.ndim - 2))) if lam_t.ndim else lam_t
        assert torch.allclose(z, a / lam_t, rtol=1e-4, atol=1e-6)  # hidden output = a_l / λ_l
        if norm.startswith("max") or norm == "model":
            assert float(z.max()) <= 1 + 1e-5  # max/model: nothing saturates on the normalization set
        if norm.startswith("max") and float(a.max()) > 0:
            assert float(z.max()) == pytest.approx(1.0, rel=1e-5)


@pytest.mark.parametrize("per_channel", [False, True])
def test_percentile_lambdas_match_numpy(per_channel):
    model, x = MODELS["cnn"], inputs("cnn", 60)
    net = convert(model, x, parse_norm("p97.5"), **convert_args(per_channel=per_channel))
    for a, lam in zip(relu_activations(model, x), net.meta["lambdas"]):
        if per_channel and a.ndim == 4:
            ref = np.percentile(a.transpose(0, 1).reshape(a.shape[1], -1).double().numpy(), 97.5, axis=1)
            ref = np.where(ref > 0, ref, a.amax(dim=(0, 2, 3)).double().numpy())
            ref = np.where(ref > 0, ref, 1.0)
            assert lam == pytest.approx(ref.tolist(), rel=1e-6)
        else:
            assert lam == pytest.approx(float(np.percentile(a.double().numpy(), 97.5)), rel=1e-6)


def test_silent_layer_gets_lambda_one():
    model = nn.Sequential(nn.Flatten(), nn.Linear(4, 2), nn.ReLU(), nn.Linear(2, 2)).eval()
    with torch.no_grad():
        model[1].weight.fill_(-1.0)
        model[1].bias.fill_(0.0)
    for norm in ("max", "p99", "model"):
        assert convert(model, torch.rand(5, 1, 2, 2), parse_norm(norm), **convert_args()).meta["lambdas"] == [1.0, 1.0]


@settings(max_examples=12, deadline=None)
@given(
    widths=st.lists(st.integers(1, 12), min_size=1, max_size=3),
    bias=st.booleans(),
    seed=st.integers(0, 10_000),
    norm=st.sampled_from(["max", "p99.9", "p50", "model"]),
)
def test_random_mlps_preserve_function(widths, bias, seed, norm):
    torch.manual_seed(seed)
    model = build_mlp((1, 3, 3), 3, **arch_args("mlp", hidden=widths, bias=bias, dropout=0.0)).eval()
    x = torch.rand(16, 1, 3, 3)
    net = convert(model, x, parse_norm(norm), **convert_args())
    with torch.no_grad():
        assert torch.allclose(net.rate_forward(x, clamp=False)[-1], model(x), rtol=1e-4, atol=1e-5)
