"""Named layer lists of the architectures (torch-free, so DAG-time resource estimates read them too)."""

from __future__ import annotations

# Named layer lists of the vgg arch: VGG-16's 13 convolutions (Simonyan and Zisserman 2015, configuration D) with
# average instead of max pooling, as conversion papers train it on CIFAR-10 (Sengupta et al. 2019).
VGG_PRESETS: dict[str, tuple[int | str, ...]] = {
    "vgg16": (64, 64, "P", 128, 128, "P", 256, 256, 256, "P", 512, 512, 512, "P", 512, 512, 512, "P"),
}
VGG_DEFAULT_CFG: tuple[int | str, ...] = (64, 64, "P", 128, 128, "P", 256, 256, "P")


def vgg_layers(preset: str | None, cfg: list[int | str] | None, width: float) -> list[int | str]:
    """The layer list of a vgg: ``cfg`` if given, else the preset's, else the small default; every channel count
    scaled by ``width`` (at least 1). Giving both a preset and a different ``cfg`` is an error."""
    if preset is not None and preset not in VGG_PRESETS:
        raise ValueError(f"arch_options.vgg.preset = {preset!r} is not one of {sorted(VGG_PRESETS)}")
    if preset is not None and cfg is not None and list(cfg) != list(VGG_PRESETS[preset]):
        raise ValueError(
            f"arch_options.vgg: preset {preset!r} and cfg {list(cfg)} disagree; give one of them "
            f"(the preset's cfg is {list(VGG_PRESETS[preset])})"
        )
    if not width > 0:
        raise ValueError(f"arch_options.vgg.width must be > 0, got {width}")
    layers = list(cfg if cfg is not None else VGG_PRESETS[preset] if preset is not None else VGG_DEFAULT_CFG)
    return [item if item == "P" else max(1, round(int(item) * width)) for item in layers]


# Basic blocks per stage of each CIFAR ResNet preset (He et al. 2016; depth = 6·blocks + 2: conv stem, two convs
# per block, readout): resnet20 as in the conversion literature, resnet8 for CPU runs.
RESNET_PRESETS: dict[str, tuple[int, ...]] = {"resnet20": (3, 3, 3), "resnet8": (1, 1, 1)}
RESNET_DEFAULT_CHANNELS: tuple[int, int, int] = (16, 32, 64)  # the paper's widths; arch_options.resnet.channels
