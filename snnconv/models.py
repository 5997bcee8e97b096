"""Conversion-friendly ANNs: ReLU only, average pooling, dropout, optional bias and batch norm.

Every model is a flat ``nn.Sequential`` so conversion can walk it as a fixed list of named steps; a residual
network's blocks are single :class:`BasicBlock` steps of that list, which conversion opens (two weighted layers, the
second with a shortcut).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .atomic import atomic_path
from .presets import RESNET_PRESETS, vgg_layers
from .workflow.vocab import ARCHS  # noqa: F401 - re-exported: the one list of architecture names


def _dense_block(n_in: int, n_out: int, bias: bool, batchnorm: bool, dropout: float) -> list[nn.Module]:
    """Linear (+BN) + ReLU (+dropout)."""
    block: list[nn.Module] = [nn.Linear(n_in, n_out, bias=bias)]
    if batchnorm:
        block.append(nn.BatchNorm1d(n_out))
    block.append(nn.ReLU())
    if dropout > 0:
        block.append(nn.Dropout(dropout))
    return block


def _conv_block(c_in: int, c_out: int, kernel: int, bias: bool, batchnorm: bool) -> list[nn.Module]:
    """Same-padded Conv2d (+BN) + ReLU."""
    block: list[nn.Module] = [nn.Conv2d(c_in, c_out, kernel, padding=kernel // 2, bias=bias)]
    if batchnorm:
        block.append(nn.BatchNorm2d(c_out))
    block.append(nn.ReLU())
    return block


def build_mlp(
    in_shape: tuple[int, int, int],
    n_classes: int,
    *,
    hidden: list[int],
    bias: bool,
    batchnorm: bool,
    dropout: float,
) -> nn.Sequential:
    """Fully connected net, e.g. 784-1200-1200-10 (Diehl et al. 2015); the options are ``arch_options.mlp``."""
    layers: list[nn.Module] = [nn.Flatten()]
    width = in_shape[0] * in_shape[1] * in_shape[2]
    for h in hidden:
        layers += _dense_block(width, h, bias, batchnorm, dropout)
        width = h
    layers.append(nn.Linear(width, n_classes, bias=bias))
    return nn.Sequential(*layers)


def build_cnn(
    in_shape: tuple[int, int, int],
    n_classes: int,
    *,
    channels: list[int],
    kernel: int,
    hidden: int,
    bias: bool,
    batchnorm: bool,
    dropout: float,
) -> nn.Sequential:
    """Small CNN: [conv-ReLU-avgpool2] per entry of ``channels``, then an optional hidden FC layer; the options
    are ``arch_options.cnn``."""
    c, h, w = in_shape
    layers: list[nn.Module] = []
    for c_out in channels:
        layers += _conv_block(c, c_out, kernel, bias, batchnorm)
        layers.append(nn.AvgPool2d(2))
        c, h, w = c_out, h // 2, w // 2
    layers.append(nn.Flatten())
    width = c * h * w
    if dropout > 0:
        layers.append(nn.Dropout(dropout))
    if hidden:
        layers += _dense_block(width, hidden, bias, batchnorm, dropout)
        width = hidden
    layers.append(nn.Linear(width, n_classes, bias=bias))
    return nn.Sequential(*layers)


def build_vgg(
    in_shape: tuple[int, int, int],
    n_classes: int,
    *,
    cfg: list[int | str] | None,
    hidden: int,
    bias: bool,
    batchnorm: bool,
    dropout: float,
    width: float,
    arch: str = "vgg",
) -> nn.Sequential:
    """VGG-style CNN for CIFAR-10: 3x3 convs, "P" = 2x2 average pooling, then FC layers; the options are
    ``arch_options.vgg``. ``width`` scales every channel count (e.g. a narrow VGG-16 for tests); ``arch`` vgg16
    (not a config option: :func:`build_vgg16` sets it) fixes the layer list to VGG-16's and takes ``cfg`` None."""
    c, h, w = in_shape
    layers: list[nn.Module] = []
    for item in vgg_layers(arch, {"cfg": cfg, "width": width}):
        if item == "P":
            layers.append(nn.AvgPool2d(2))
            h, w = h // 2, w // 2
            if h == 0 or w == 0:
                raise ValueError(
                    f"arch_options.{arch}: the layer list pools {in_shape[1]}x{in_shape[2]} images below 1 pixel; "
                    "use fewer 'P' entries for this dataset"
                )
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
        else:
            layers += _conv_block(c, int(item), 3, bias, batchnorm)
            c = int(item)
    layers.append(nn.Flatten())
    width = c * h * w
    if hidden:
        layers += _dense_block(width, hidden, bias, batchnorm, dropout)
        width = hidden
    layers.append(nn.Linear(width, n_classes, bias=bias))
    return nn.Sequential(*layers)


class BasicBlock(nn.Module):
    """The CIFAR ResNet basic block: relu(BN(conv3×3(relu(BN(conv3×3(x))))) + shortcut(x)).

    The shortcut is the identity where shape is kept, and a 1×1 convolution with the block's stride + BN where
    the block downsamples or widens (He et al. 2016's option B). Option B rather than zero-padding: it is an
    ordinary weighted op, so BN folding, the normalization's rescaling and the simulator treat it like any
    other weight, and no channel of the block output is fed by the main branch alone.
    """

    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or c_in != c_out:
            self.shortcut = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, 0, bias=False), nn.BatchNorm2d(c_out))
        self.relu2 = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The block's output: the ReLU of the sum of both branches."""
        out = self.bn2(self.conv2(self.relu1(self.bn1(self.conv1(x)))))
        return self.relu2(out + self.shortcut(x))


def build_resnet(
    in_shape: tuple[int, int, int],
    n_classes: int,
    *,
    preset: str,
    channels: list[int],
) -> nn.Sequential:
    """CIFAR-style ResNet (He et al. 2016): conv3×3 stem, stages of basic blocks (the first block of every stage
    after the first downsamples by stride 2), global average pooling, one Linear readout. No max pooling.

    ``preset`` sets blocks per stage (:data:`RESNET_PRESETS`), ``channels`` the width of each stage; both are
    ``arch_options.resnet``, whose defaults live in the config schema.
    """
    if preset not in RESNET_PRESETS:
        raise ValueError(f"unknown resnet preset {preset!r}; choose one of {sorted(RESNET_PRESETS)}")
    blocks = RESNET_PRESETS[preset]
    widths = [int(c) for c in channels]
    if len(widths) != len(blocks) or min(widths) < 1:
        raise ValueError(f"resnet channels must be {len(blocks)} positive widths (one per stage), got {channels}")
    c, h, w = in_shape
    layers: list[nn.Module] = [nn.Conv2d(c, widths[0], 3, 1, 1, bias=False), nn.BatchNorm2d(widths[0]), nn.ReLU()]
    c = widths[0]
    for stage, (n_blocks, width) in enumerate(zip(blocks, widths)):
        for b in range(n_blocks):
            stride = 2 if stage > 0 and b == 0 else 1
            layers.append(BasicBlock(c, width, stride))
            c = width
            if stride == 2:
                h, w = (h - 1) // 2 + 1, (w - 1) // 2 + 1
    layers += [nn.AvgPool2d((h, w)), nn.Flatten(), nn.Linear(c, n_classes)]
    return nn.Sequential(*layers)


def build_vgg16(
    in_shape: tuple[int, int, int],
    n_classes: int,
    *,
    width: float,
    hidden: int,
    bias: bool,
    batchnorm: bool,
    dropout: float,
) -> nn.Sequential:
    """VGG-16 (13 3x3 convs, average pooling; snnconv.presets.VGG16_CFG) with ``hidden`` FC units before the
    readout; ``width`` scales every channel count, e.g. 0.25 for a VGG-16 a CPU trains in minutes per epoch. The
    options are ``arch_options.vgg16``."""
    return build_vgg(
        in_shape,
        n_classes,
        cfg=None,
        hidden=hidden,
        bias=bias,
        batchnorm=batchnorm,
        dropout=dropout,
        width=width,
        arch="vgg16",
    )


BUILDERS: dict[str, Callable[..., nn.Sequential]] = {"mlp": build_mlp, "cnn": build_cnn, "vgg": build_vgg}
BUILDERS["vgg16"] = build_vgg16
BUILDERS["resnet"] = build_resnet


def build_model(arch: str, in_shape: tuple[int, int, int], n_classes: int, **kwargs: Any) -> nn.Sequential:
    """Build a named architecture; ``kwargs`` are all of the arch's options, as the validated config's
    ``arch_options[arch]`` holds them (a missing or unknown option is a TypeError naming it)."""
    if arch not in BUILDERS:
        raise ValueError(f"unknown arch {arch!r}; choose one of {sorted(BUILDERS)}")
    return BUILDERS[arch](tuple(in_shape), int(n_classes), **kwargs)


def checkpoint_options(arch: str, model_kwargs: dict[str, Any]) -> dict[str, Any]:
    """The options a checkpoint's model is rebuilt with: its recorded ``model_kwargs`` over the schema's defaults
    of ``arch``. A checkpoint records the options its training job was given; one written before an option was
    in the schema lacks it and was built with the value the schema now gives."""
    from .workflow.config import schema_defaults

    return {**schema_defaults()["arch_options"].get(arch, {}), **model_kwargs}


def save_checkpoint(
    path: str | Path,
    model: nn.Module,
    arch: str,
    in_shape: tuple[int, int, int],
    n_classes: int,
    model_kwargs: dict[str, Any],
    extra: dict[str, Any] | None = None,
    activation: dict[str, Any] | None = None,
) -> None:
    """Save weights plus everything needed to rebuild the model, as a weights-only-loadable dict.

    ``activation``: None for ReLU, ``{"type": "qcfs", "levels": L}`` for a QCFS-trained network (snnconv.qcfs).
    """
    payload = {
        "arch": arch,
        "in_shape": list(in_shape),
        "n_classes": int(n_classes),
        "model_kwargs": model_kwargs,
        "state_dict": {k: v.detach().cpu().clone() for k, v in model.state_dict().items()},
        "extra": extra or {},
        **({"activation": dict(activation)} if activation else {}),
    }
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)


def load_checkpoint(path: str | Path) -> tuple[nn.Sequential, dict[str, Any]]:
    """Rebuild a model from a checkpoint (``weights_only=True``: no arbitrary unpickling); returns (model, meta)."""
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise ValueError(f"{path}: not a readable checkpoint ({exc})") from exc
    if not isinstance(payload, dict):
        raise ValueError(f"{path}: not a checkpoint (holds a {type(payload).__name__}, not a dict)")
    missing = {"arch", "in_shape", "n_classes", "model_kwargs", "state_dict"} - set(payload)
    if missing:
        raise ValueError(f"{path}: checkpoint lacks {sorted(missing)}")
    try:
        options = checkpoint_options(payload["arch"], dict(payload["model_kwargs"]))
        model = build_model(payload["arch"], tuple(payload["in_shape"]), payload["n_classes"], **options)
    except (TypeError, ValueError) as exc:  # unknown arch or options: name the file, not just the value
        raise ValueError(f"{path}: cannot rebuild the model it describes ({exc})") from exc
    model = _with_activation(model, payload.get("activation"), path)
    try:
        model.load_state_dict(payload["state_dict"])
    except RuntimeError as exc:
        raise ValueError(f"{path}: weights do not fit arch {payload['arch']!r} ({exc})") from exc
    model.eval()
    meta = {k: payload.get(k, {}) for k in ("arch", "in_shape", "n_classes", "model_kwargs", "extra", "activation")}
    return model, meta


def _with_activation(model: nn.Sequential, activation: Any, path: str | Path) -> nn.Sequential:
    """The rebuilt ReLU network, or its QCFS twin when the checkpoint says so (λ come with the state dict)."""
    if not activation:
        return model
    if not isinstance(activation, dict) or activation.get("type") != "qcfs":
        raise ValueError(f"{path}: unknown activation {activation!r} (a checkpoint holds ReLU or qcfs)")
    from .qcfs import to_qcfs

    try:
        return to_qcfs(model, activation.get("levels"), 1.0)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from exc
