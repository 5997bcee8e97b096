"""Walking the ANN: BN folding, dropout removal, rejected modules, the max-pool switch, NaN weights (§C1)."""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn

from snnconv.convert import convert, fold_batchnorm, parse_model, parse_norm
from snnconv.defaults import arch_args, convert_args
from snnconv.models import build_cnn, build_mlp
from snnconv.network import SpikingNetwork


def _randomize_bn(model: nn.Module, seed: int = 0) -> None:
    """Give every BN non-trivial running statistics and affine parameters."""
    g = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            n = m.num_features
            m.running_mean.copy_(torch.rand(n, generator=g) * 2 - 1)
            m.running_var.copy_(torch.rand(n, generator=g) * 2 + 0.2)
            m.weight.data.copy_(torch.rand(n, generator=g) + 0.5)
            m.bias.data.copy_(torch.rand(n, generator=g) - 0.5)


@pytest.mark.parametrize(
    "build",
    [
        lambda: build_mlp((1, 6, 6), 4, **arch_args("mlp", hidden=[10, 7], batchnorm=True, dropout=0.3)),
        lambda: build_cnn(
            (2, 8, 8), 3, **arch_args("cnn", channels=[3, 5], kernel=3, hidden=6, batchnorm=True, bias=False)
        ),
    ],
)
def test_batchnorm_folding_matches_eval_mode(build):
    torch.manual_seed(1)
    model = build()
    _randomize_bn(model)
    model.eval()
    x = torch.rand(20, *((1, 6, 6) if isinstance(model[1], nn.Linear) else (2, 8, 8)))
    parsed = parse_model(model, convert_args()["maxpool_to_avgpool"])
    assert parsed.folded_batchnorm
    net = SpikingNetwork(parsed.layers, tuple(x.shape[1:]))
    with torch.no_grad():
        assert torch.allclose(net.rate_forward(x, clamp=False)[-1], model(x), atol=1e-5)
    assert [l.spiking for l in parsed.layers] == [True] * (len(parsed.layers) - 1) + [False]
    assert all(torch.equal(l.threshold, torch.ones(l.n_out)) for l in parsed.layers)


def test_fold_batchnorm_formula():
    bn = nn.BatchNorm1d(2).eval()
    bn.running_mean.copy_(torch.tensor([1.0, -2.0]))
    bn.running_var.copy_(torch.tensor([4.0, 0.25]))
    bn.weight.data.copy_(torch.tensor([2.0, 1.0]))
    bn.bias.data.copy_(torch.tensor([0.5, 0.0]))
    bn.eps = 0.0
    w, b = fold_batchnorm(torch.tensor([[1.0, 1.0], [2.0, 0.0]]), None, bn)
    assert torch.allclose(w, torch.tensor([[1.0, 1.0], [4.0, 0.0]]))
    assert torch.allclose(b, torch.tensor([(0 - 1) * 1.0 + 0.5, (0 + 2) * 2.0]))


def test_structure_pre_ops_names_and_meta():
    torch.manual_seed(0)
    model = build_cnn((1, 8, 8), 3, **arch_args("cnn", channels=[2], kernel=3, hidden=0, dropout=0.5))
    net = convert(model, torch.rand(5, 1, 8, 8), parse_norm("none"), **convert_args())
    conv, fc = net.layers
    assert conv.op["type"] == "conv2d" and conv.pre_ops == [] and conv.spiking
    assert [p["type"] for p in fc.pre_ops] == ["avgpool", "flatten"] and not fc.spiking
    assert net.meta["ann_layers"] == ["Conv2d", "ReLU", "AvgPool2d", "Flatten", "Dropout", "Linear"]
    assert net.meta["folded_batchnorm"] is False and net.meta["lambdas"] == [1.0, 1.0]
    json.dumps(net.meta)


def test_maxpool_rejected_unless_switched():
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 2, 3, padding=1), nn.ReLU(), nn.Dropout(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(32, 3)
    )
    x = torch.rand(10, 1, 8, 8)
    with pytest.raises(
        ValueError,
        match=r"MaxPool2d at index 3 is not supported: use average pooling "
        r"\(or set conversion.maxpool_to_avgpool: true\)",
    ):
        convert(model, x, parse_norm("max"), **convert_args())
    net = convert(model, x, parse_norm("max"), **convert_args(maxpool_to_avgpool=True))
    assert net.meta["maxpool_to_avgpool"] is True
    assert net.layers[1].pre_ops[0] == {"type": "avgpool", "kernel_size": [2, 2], "stride": [2, 2], "padding": [0, 0]}
    avg = nn.Sequential(*[nn.AvgPool2d(2) if isinstance(m, nn.MaxPool2d) else m for m in model]).eval()
    with torch.no_grad():  # the switched network is exactly the ANN with average pooling
        assert torch.allclose(net.rate_forward(x, clamp=False)[-1], avg(x), atol=1e-5)


@pytest.mark.parametrize(
    "modules, message",
    [
        ([nn.Flatten(), nn.Linear(4, 3), nn.Sigmoid(), nn.Linear(3, 2)], "Sigmoid at index 2 is not supported"),
        (
            [nn.Flatten(), nn.Linear(4, 3), nn.ReLU(), nn.BatchNorm1d(3), nn.Linear(3, 2)],
            "BatchNorm1d at index 3 is not supported",
        ),
        ([nn.Flatten(), nn.Linear(4, 3), nn.Linear(3, 2)], "Linear at index 2 is not supported: it follows"),
        ([nn.Conv2d(1, 2, 1), nn.AvgPool2d(2), nn.ReLU(), nn.Flatten(), nn.Linear(2, 2)], "AvgPool2d at index 1"),
        ([nn.Flatten(), nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2), nn.ReLU()], "must end with a Linear"),
        ([nn.Conv2d(1, 2, 1), nn.ReLU(), nn.Conv2d(2, 2, 1)], "must end with a Linear"),
        (
            [nn.Conv2d(1, 2, 1, groups=1, padding_mode="reflect"), nn.ReLU(), nn.Flatten(), nn.Linear(8, 2)],
            "Conv2d at index 0",
        ),
        ([nn.Flatten(), nn.Linear(4, 3), nn.GELU(), nn.Linear(3, 2)], "GELU at index 2"),
    ],
)
def test_unsupported_modules_name_class_and_index(modules, message):
    with pytest.raises(ValueError, match=message):
        convert(nn.Sequential(*modules), torch.rand(3, 1, 2, 2), parse_norm("max"), **convert_args())


def test_non_sequential_and_bad_images_rejected():
    with pytest.raises(ValueError, match="nn.Sequential"):
        parse_model(nn.Linear(2, 2), convert_args()["maxpool_to_avgpool"])
    model = build_mlp((1, 2, 2), 2, **arch_args("mlp", hidden=[3]))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        convert(model, torch.rand(3, 1, 2, 2) * 2, parse_norm("max"), **convert_args())
    with pytest.raises(ValueError, match="N×C×H×W"):
        convert(model, torch.rand(3, 4), parse_norm("max"), **convert_args())


@pytest.mark.parametrize("layer, where", [(1, "weight"), (3, "bias")])
def test_nan_weights_refused(layer, where):
    model = build_mlp((1, 2, 2), 2, **arch_args("mlp", hidden=[3], dropout=0.0))
    getattr(model[layer], where).data[0] = float("nan") if layer == 1 else float("inf")
    n = 0 if layer == 1 else 1
    kind = "weights contain" if where == "weight" else "bias contains"
    with pytest.raises(ValueError, match=f"refusing to convert: layer {n} {kind} NaN/inf"):
        convert(model, torch.rand(3, 1, 2, 2), parse_norm("none"), **convert_args())


def test_redundant_relus_and_identity_are_dropped():
    model = nn.Sequential(
        nn.ReLU(), nn.Flatten(), nn.Identity(), nn.Linear(4, 3), nn.ReLU(), nn.ReLU(), nn.Linear(3, 2)
    )
    net = convert(model, torch.rand(6, 1, 2, 2), parse_norm("max"), **convert_args())
    assert len(net.layers) == 2 and net.meta["ann_module_index"] == [3, 6]
