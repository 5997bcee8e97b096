"""Residual conversion: the add node with one λ per block output shared by both branches, BN folded on both
branches, every norm and adjustment on residual nets (docs/method.md, "Residual networks")."""

from __future__ import annotations

import math

import pytest
import torch
from helpers.nets import randomize_bn
from torch import nn

from snnconv.convert import convert, parse_norm, predicted_sigma
from snnconv.convert.activations import input_rate_sq_means
from snnconv.convert.layers import parse_model
from snnconv.defaults import arch_args, convert_args
from snnconv.models import BasicBlock, build_model, build_resnet
from snnconv.network import RESIDUAL_FORMAT_VERSION, load_network, network_to_dict, save_network

NORMS = (
    "none",
    "max",
    "p99.9",
    "p99",
    "model",
    "max-v0half",
    "lp4_k-0.25_scale_max",
    "lp4_k0.5_bias_p99.9",
    "lp2_k0.5_scale_model",
    "lpinf_k0.25_scale_max",
    "uniform_k0.5_scale_max",
    "uniform_k-0.25_bias_p99.9-v0half",
)


def tiny_residual() -> nn.Sequential:
    """Stem, an identity block (2→2) and a downsampling block with a 1×1 shortcut (2→3, stride 2), readout."""
    torch.manual_seed(3)
    model = nn.Sequential(
        nn.Conv2d(1, 2, 3, 1, 1, bias=False),
        nn.BatchNorm2d(2),
        nn.ReLU(),
        BasicBlock(2, 2, 1),
        BasicBlock(2, 3, 2),
        nn.AvgPool2d(3),
        nn.Flatten(),
        nn.Linear(3, 4),
    )
    return randomize_bn(model, 1)


def images(n: int = 40, shape: tuple[int, ...] = (1, 6, 6), seed: int = 0) -> torch.Tensor:
    return torch.rand(n, *shape, generator=torch.Generator().manual_seed(seed))


def block_outputs(model: nn.Sequential, x: torch.Tensor) -> list[torch.Tensor]:
    """The ANN's ReLU outputs in conversion order: stem, then conv1 and block output of every block."""
    outs: list[torch.Tensor] = []
    hooks = [model[2].register_forward_hook(lambda m, i, o: outs.append(o))]
    for m in model:
        if isinstance(m, BasicBlock):
            hooks += [
                m.relu1.register_forward_hook(lambda mod, i, o: outs.append(o)),
                m.relu2.register_forward_hook(lambda mod, i, o: outs.append(o)),
            ]
    with torch.no_grad():
        model(x)
    for h in hooks:
        h.remove()
    return outs


def fold(conv: nn.Conv2d, bn: nn.BatchNorm2d) -> tuple[torch.Tensor, torch.Tensor]:
    """By hand, float64: γW/√(σ²+ε) and β − γμ/√(σ²+ε)."""
    s = bn.weight.detach().double() / torch.sqrt(bn.running_var.double() + bn.eps)
    return conv.weight.detach().double() * s.view(-1, 1, 1, 1), bn.bias.detach().double() - bn.running_mean.double() * s


def test_presets_have_the_published_depths():
    def weighted(m: nn.Module) -> int:
        return sum(
            isinstance(x, (nn.Conv2d, nn.Linear)) and x.kernel_size != (1, 1)
            if isinstance(x, nn.Conv2d)
            else isinstance(x, nn.Linear)
            for x in m.modules()
        )

    r20 = build_resnet((3, 32, 32), 10, **arch_args("resnet", preset="resnet20"))
    r8 = build_resnet((3, 32, 32), 10, **arch_args("resnet", preset="resnet8"))
    assert weighted(r20) == 20 and weighted(r8) == 8
    assert sum(p.numel() for p in r20.parameters()) == pytest.approx(0.27e6, rel=0.03)  # He et al. 2016: 0.27M
    assert not any(isinstance(m, nn.MaxPool2d) for m in r20.modules())
    assert r20(torch.rand(2, 3, 32, 32)).shape == (2, 10)
    assert build_model("resnet", (1, 28, 28), 10, **arch_args("resnet", preset="resnet8", channels=[4, 8, 8]))(
        torch.rand(1, 1, 28, 28)
    ).shape == (1, 10)


def test_bad_options_are_named():
    with pytest.raises(ValueError, match="preset 'resnet19'"):
        build_resnet((1, 8, 8), 10, **arch_args("resnet", preset="resnet19"))
    with pytest.raises(ValueError, match="3 positive widths"):
        build_resnet((1, 8, 8), 10, **arch_args("resnet", preset="resnet8", channels=[4, 8]))


def test_parse_gives_two_layers_per_block_with_shortcuts():
    parsed = parse_model(tiny_residual(), convert_args()["maxpool_to_avgpool"])
    names = [l.name for l in parsed.layers]
    assert names == ["conv2d0", "block3.conv1", "block3.conv2", "block4.conv1", "block4.conv2", "linear7"]
    assert [None if l.shortcut is None else l.shortcut["source"] for l in parsed.layers] == [
        None,
        None,
        0,
        None,
        2,
        None,
    ]
    ident = parsed.layers[2]
    assert torch.equal(ident.shortcut_weight, torch.eye(2).view(2, 2, 1, 1))
    assert parsed.layers[4].shortcut["op"]["stride"] == [2, 2] and parsed.layers[4].shortcut_weight.shape == (
        3,
        2,
        1,
        1,
    )


def test_pooling_before_a_block_is_refused():
    model = nn.Sequential(
        nn.Conv2d(1, 2, 3, padding=1),
        nn.ReLU(),
        nn.AvgPool2d(2),
        BasicBlock(2, 2, 1),
        nn.Flatten(),
        nn.Linear(2 * 3 * 3, 2),
    ).eval()
    with pytest.raises(ValueError, match="BasicBlock at index 3 is not supported: a residual block must follow"):
        parse_model(model, convert_args()["maxpool_to_avgpool"])


def test_raw_network_reproduces_the_ann():
    model, x = tiny_residual(), images()
    net = convert(model, x, parse_norm("none"), **convert_args())
    with torch.no_grad():
        assert torch.allclose(net.rate_forward(x, clamp=False)[-1], model(x), atol=1e-5)


@pytest.mark.parametrize("norm", ["max", "model"])
def test_rate_model_agrees_with_the_ann(norm):
    """max and model norms keep every rate ≤ 1 on the conversion set: the rate model is the ANN, logits included."""
    model, x = tiny_residual(), images()
    net = convert(model, x, parse_norm(norm), **convert_args())
    with torch.no_grad():
        got, want = net.rate_forward(x, clamp=True)[-1], model(x)
    assert torch.allclose(got, want, atol=1e-4)
    assert bool((got.argmax(1) == want.argmax(1)).all())


def test_max_lambdas_and_weights_by_hand():
    model, x = tiny_residual(), images()
    net = convert(model, x, parse_norm("max"), **convert_args())
    acts = block_outputs(model, x)  # stem, b1.relu1, b1 out (post-add), b2.relu1, b2 out (post-add)
    lam = [float(a.max()) for a in acts]
    assert net.meta["lambdas"] == pytest.approx(lam + [1.0], rel=1e-6)
    b1, b2 = model[3], model[4]
    # identity block: its output λ rescales the main branch (λ_in = b1.conv1's) and the identity (λ_in = stem's)
    w2, b2_ = fold(b1.conv2, b1.bn2)
    l1 = net.layers[2]
    assert torch.allclose(l1.weight.double(), w2 * lam[1] / lam[2], atol=1e-6)
    assert torch.allclose(l1.bias.double(), b2_ / lam[2], atol=1e-6)
    assert torch.allclose(l1.shortcut_weight.double(), torch.eye(2).view(2, 2, 1, 1).double() * lam[0] / lam[2])
    # downsampling block: both folded branches over one λ_out; the shortcut's folded bias joins the main bias
    w2, bb2 = fold(b2.conv2, b2.bn2)
    ws, bs = fold(b2.shortcut[0], b2.shortcut[1])
    l2 = net.layers[4]
    assert torch.allclose(l2.weight.double(), w2 * lam[3] / lam[4], atol=1e-6)
    assert torch.allclose(l2.shortcut_weight.double(), ws * lam[2] / lam[4], atol=1e-6)
    assert torch.allclose(l2.bias.double(), (bb2 + bs) / lam[4], atol=1e-6)
    # the readout takes the last block's λ
    assert torch.allclose(net.layers[5].weight.double(), model[7].weight.double() * lam[4], atol=1e-6)


def test_model_norm_by_hand_counts_both_branches():
    model, x = tiny_residual(), images()
    net = convert(model, x, parse_norm("model"), **convert_args())
    b1, b2 = model[3], model[4]
    stem_w, stem_b = fold(model[0], model[1])
    lam0 = float(stem_w.clamp(min=0).flatten(1).sum(1).add(stem_b.clamp(min=0)).max())
    w1, c1 = fold(b1.conv1, b1.bn1)
    lam1 = float((w1 * lam0).clamp(min=0).flatten(1).sum(1).add(c1.clamp(min=0)).max())
    w2, c2 = fold(b1.conv2, b1.bn2)
    bound = (w2 * lam1).clamp(min=0).flatten(1).sum(1) + lam0 + c2.clamp(min=0)  # identity: one weight 1 per channel
    lam2 = float(bound.max())
    w3, c3 = fold(b2.conv1, b2.bn1)
    lam3 = float((w3 * lam2).clamp(min=0).flatten(1).sum(1).add(c3.clamp(min=0)).max())
    w4, c4 = fold(b2.conv2, b2.bn2)
    ws, cs = fold(b2.shortcut[0], b2.shortcut[1])
    bound = (w4 * lam3).clamp(min=0).flatten(1).sum(1) + (ws * lam2).clamp(min=0).flatten(1).sum(1)
    lam4 = float((bound + (c4 + cs).clamp(min=0)).max())
    assert net.meta["lambdas"] == pytest.approx([lam0, lam1, lam2, lam3, lam4, 1.0], rel=1e-6)


def test_per_channel_max_by_hand():
    model, x = tiny_residual(), images()
    net = convert(model, x, parse_norm("max"), **convert_args(per_channel=True))
    acts = block_outputs(model, x)
    for got, a in zip(net.meta["lambdas"], acts):
        assert got == pytest.approx(a.amax(dim=(0, 2, 3)).tolist(), rel=1e-4, abs=1e-6)  # float32 ANN vs folded
    lam = [torch.tensor(v, dtype=torch.float64) for v in net.meta["lambdas"][:-1]]
    l2 = net.layers[4]
    ws, _ = fold(model[4].shortcut[0], model[4].shortcut[1])
    assert torch.allclose(
        l2.shortcut_weight.double(), ws * lam[2].view(1, -1, 1, 1) / lam[4].view(-1, 1, 1, 1), atol=1e-6
    )
    with torch.no_grad():
        assert torch.allclose(net.rate_forward(x)[-1], model(x), atol=1e-4)


def test_adjustment_sees_both_branches():
    model, x = tiny_residual(), images()
    base = convert(model, x, parse_norm("max"), **convert_args())
    adjusted = convert(model, x, parse_norm("lp4_k0.5_scale_max"), **convert_args())
    m2 = input_rate_sq_means(base, x)
    layer = base.layers[4]
    with torch.no_grad():
        outs = base.rate_forward(x)
    main, short = outs[3].double(), outs[2].double()
    f, fs = layer.weight[0].numel(), layer.shortcut_weight[0].numel()
    want_m2 = (f * float((main**2).mean()) + fs * float((short**2).mean())) / (f + fs)
    assert m2[4] == pytest.approx(want_m2, rel=1e-9)
    rows = torch.cat([layer.weight.flatten(1), layer.shortcut_weight.flatten(1)], 1).double()
    sigma = rows.pow(4).sum(1).pow(0.25) * math.sqrt(math.sqrt((f + fs) * want_m2))
    assert torch.allclose(predicted_sigma(layer, m2[4]), sigma, rtol=1e-5)
    assert torch.allclose(adjusted.layers[4].threshold.double(), torch.exp(0.5 * sigma), rtol=1e-5)
    assert torch.equal(adjusted.layers[4].shortcut_weight, layer.shortcut_weight)


@pytest.mark.parametrize("norm", NORMS)
@pytest.mark.parametrize("per_channel", [False, True])
def test_every_norm_and_adjustment_runs(norm, per_channel, tmp_path):
    model, x = tiny_residual(), images()
    net = convert(model, x, parse_norm(norm), **convert_args(per_channel=per_channel))
    assert sum(l.shortcut is not None for l in net.layers) == 2
    with torch.no_grad():
        out = net.rate_forward(x)[-1]
    assert bool(torch.isfinite(out).all())
    save_network(net, tmp_path / "net.pt")
    back = load_network(tmp_path / "net.pt")
    for a, b in zip(net.layers, back.layers):
        assert a.shortcut == b.shortcut
        assert (a.shortcut_weight is None) == (b.shortcut_weight is None)
        if a.shortcut_weight is not None:
            assert torch.equal(a.shortcut_weight, b.shortcut_weight)
    with torch.no_grad():
        assert torch.equal(back.rate_forward(x)[-1], out)


def test_residual_files_carry_their_own_format_version():
    net = convert(tiny_residual(), images(), parse_norm("max"), **convert_args())
    assert network_to_dict(net)["format_version"] == RESIDUAL_FORMAT_VERSION
    plain = convert(
        nn.Sequential(nn.Flatten(), nn.Linear(36, 5), nn.ReLU(), nn.Linear(5, 2)).eval(),
        images(),
        parse_norm("max"),
        **convert_args(),
    )
    assert network_to_dict(plain)["format_version"] == 1


def test_shortcut_from_a_later_layer_is_refused():
    net = convert(tiny_residual(), images(), parse_norm("max"), **convert_args())
    net.layers[2].shortcut = {"source": 3, "op": net.layers[2].shortcut["op"]}
    data = network_to_dict(net)
    from snnconv.network import network_from_dict

    with pytest.raises(ValueError, match="shortcut source 3 must be an earlier spiking layer"):
        network_from_dict(data)


@pytest.mark.parametrize("preset,shape", [("resnet20", (3, 32, 32)), ("resnet8", (1, 28, 28))])
def test_cost_estimate_counts_the_real_model(preset, shape):
    """cluster.resnet_cost: multiply-accumulates of every conv/linear (hooked) and the converted net's spiking
    neurons per image (the identity shortcut's kernel is the simulator's extra work, not the ANN's: not counted)."""
    from snnconv.models import RESNET_PRESETS
    from snnconv.workflow.cluster import resnet_cost

    model = build_resnet(shape, 10, **arch_args("resnet", preset=preset)).eval()
    macs = []

    def hook(m, i, o):
        per_out = m.in_features if isinstance(m, nn.Linear) else m.in_channels * m.kernel_size[0] * m.kernel_size[1]
        macs.append(o[0].numel() * per_out)

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    x = torch.rand(2, *shape)
    with torch.no_grad():
        model(x)
    for h in handles:
        h.remove()
    net = convert(model, x, parse_norm("none"), **convert_args())
    neurons = sum(o[0].numel() for o, l in zip(net.rate_forward(x[:1]), net.layers) if l.spiking)
    assert resnet_cost(shape, RESNET_PRESETS[preset], [16, 32, 64]) == (sum(macs), neurons)
