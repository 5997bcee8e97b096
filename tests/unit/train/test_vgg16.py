"""VGG-16 as the arch vgg16: 13 convolutions, batch norm, average pooling; it builds, runs on CIFAR-shaped images
and converts; a layer list given to it is refused (its list is fixed: another list is the vgg arch's cfg)."""

from __future__ import annotations

import copy

import pytest
import torch
from helpers.workflow import tiny_config
from torch import nn

from snnconv.convert import convert, parse_norm
from snnconv.defaults import arch_args, convert_args
from snnconv.models import build_model
from snnconv.presets import VGG16_CFG
from snnconv.workflow.cluster import widest_layer
from snnconv.workflow.config import ConfigError, validate_config


def test_vgg16_has_13_convolutions_batch_norm_and_average_pooling():
    model = build_model("vgg16", (3, 32, 32), 10, **arch_args("vgg16", batchnorm=True))
    kinds = [type(m) for m in model]
    assert kinds.count(nn.Conv2d) == 13
    assert kinds.count(nn.BatchNorm2d) == 13
    assert kinds.count(nn.AvgPool2d) == 5 and nn.MaxPool2d not in kinds
    assert [m.out_channels for m in model if isinstance(m, nn.Conv2d)][-1] == 512
    assert model.eval()(torch.rand(2, 3, 32, 32)).shape == (2, 10)


def test_width_scales_every_channel_count():
    model = build_model("vgg16", (3, 32, 32), 10, **arch_args("vgg16", width=0.125, hidden=0))
    widths = [m.out_channels for m in model if isinstance(m, nn.Conv2d)]
    assert widths == [int(c) // 8 for c in VGG16_CFG if c != "P"]


def test_a_narrow_vgg16_converts_and_its_rate_model_matches_the_ann():
    torch.manual_seed(0)
    model = build_model("vgg16", (3, 32, 32), 10, **arch_args("vgg16", width=0.125, batchnorm=True, hidden=16)).eval()
    x = torch.rand(16, 3, 32, 32)
    net = convert(model, x, parse_norm("max"), **convert_args())
    assert net.meta["folded_batchnorm"]
    assert sum(layer.op["type"] == "conv2d" for layer in net.layers) == 13
    with torch.no_grad():
        ann = model(x)
        rate = net.rate_forward(x, clamp=False)[-1]
    assert torch.equal(rate.argmax(1), ann.argmax(1))


def test_a_layer_list_for_vgg16_is_refused():
    with pytest.raises(TypeError, match="cfg"):
        build_model("vgg16", (3, 32, 32), 10, **arch_args("vgg16", cfg=[8, "P"]))
    cfg = tiny_config()
    cfg["arch_options"] = {"vgg16": {"cfg": [8, "P"]}}
    with pytest.raises(ConfigError, match="arch_options.vgg16"):
        validate_config(copy.deepcopy(cfg))
    cfg["arch_options"] = {"vgg": {"preset": "vgg16"}}  # the former spelling: now the arch vgg16
    with pytest.raises(ConfigError, match="preset"):
        validate_config(copy.deepcopy(cfg))


def test_too_many_poolings_for_small_images_are_named():
    with pytest.raises(ValueError, match="arch_options.vgg16: the layer list pools 8x8 images below 1 pixel"):
        build_model("vgg16", (1, 8, 8), 10, **arch_args("vgg16"))


def test_resource_estimate_reads_the_vgg16_layer_list_and_width():
    cfg = validate_config(tiny_config())
    cfg["arch_options"]["vgg16"]["width"] = 2.0
    assert widest_layer(cfg, "cifar10", "vgg16") == 128 * 32 * 32
    cfg["arch_options"]["vgg"]["cfg"] = [8, "P", 300, "P"]  # the small vgg keeps its own list
    assert widest_layer(cfg, "cifar10", "vgg") == 300 * 16 * 16
