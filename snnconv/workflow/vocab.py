"""The pipeline's vocabulary: dataset and architecture names and the facts Snakemake needs about them.

The single source of these names: the config schema's enums, the wildcard constraints, the data registry and
the model builders all read them from here. No torch import (this runs while Snakemake builds the DAG).
"""

from __future__ import annotations

import re

DATASETS: tuple[str, ...] = ("digits", "mnist", "fashion_mnist", "cifar10", "cifar10_jpeg")
ARCHS: tuple[str, ...] = ("mlp", "cnn", "vgg", "vgg16", "resnet")

# (channels, height, width) and (train, test) sizes of each dataset before any subset option.
INPUT_SHAPES: dict[str, tuple[int, int, int]] = {
    "digits": (1, 8, 8),
    "mnist": (1, 28, 28),
    "fashion_mnist": (1, 28, 28),
    "cifar10": (3, 32, 32),
    "cifar10_jpeg": (3, 32, 32),
}
SPLIT_SIZES: dict[str, tuple[int, int]] = {
    "digits": (1348, 449),
    "mnist": (60000, 10000),
    "fashion_mnist": (60000, 10000),
    "cifar10": (50000, 10000),
    "cifar10_jpeg": (50000, 10000),
}
# Datasets that ship inside a package and never need data_dir or a download.
EMBEDDED: tuple[str, ...] = ("digits",)


def alternation(names: tuple[str, ...]) -> str:
    """A regex matching exactly one of ``names`` (for wildcard constraints)."""
    return "|".join(re.escape(n) for n in names)
