"""Named layer lists of the architectures (torch-free, so DAG-time resource estimates read them too)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# The layer list of the vgg16 arch: VGG-16's 13 convolutions (Simonyan and Zisserman 2015, configuration D) with
# average instead of max pooling, as conversion papers train it on CIFAR-10 (Sengupta et al. 2019). An arch of its
# own rather than an option of vgg, so a result's path says which net it is and one run can hold both.
VGG16_CFG: tuple[int | str, ...] = (
    *(64,) * 2,
    "P",
    *(128,) * 2,
    "P",
    *(256,) * 3,
    "P",
    *(512,) * 3,
    "P",
    *(512,) * 3,
    "P",
)
VGG_ARCHS = ("vgg", "vgg16")  # the archs built by snnconv.models.build_vgg


def vgg_layers(arch: str, options: Mapping[str, Any]) -> list[int | str]:
    """The layer list of a VGG-style ``arch`` under its validated ``arch_options`` (the schema fills ``cfg`` and
    ``width``): vgg16's fixed list, or vgg's ``cfg``; every channel count scaled by ``width`` (at least one channel)."""
    if arch not in VGG_ARCHS:
        raise ValueError(f"{arch!r} is not a VGG-style arch ({', '.join(VGG_ARCHS)})")
    if arch == "vgg16" and options.get("cfg") is not None:
        raise ValueError("arch_options.vgg16 has a fixed layer list; for another one use arch vgg with cfg")
    width = float(options["width"])
    if not width > 0:
        raise ValueError(f"arch_options.{arch}.width must be > 0, got {width}")
    layers = VGG16_CFG if arch == "vgg16" else options["cfg"]
    return [item if item == "P" else max(1, round(int(item) * width)) for item in layers]


# Basic blocks per stage of each CIFAR ResNet preset (He et al. 2016; depth = 6·blocks + 2: conv stem, two convs
# per block, readout): resnet20 as in the conversion literature, resnet8 for CPU runs.
RESNET_PRESETS: dict[str, tuple[int, ...]] = {"resnet20": (3, 3, 3), "resnet8": (1, 1, 1)}
