"""The MLP and CNN of the compiled-step tests (unit and integration), with their images and labels."""

from __future__ import annotations

import torch

from helpers.nets import normalise, random_mlp, small_cnn

X = torch.rand(23, 1, 8, 8, generator=torch.Generator().manual_seed(0))
Y = torch.randint(0, 5, (23,), generator=torch.Generator().manual_seed(1))


def compile_nets() -> dict[str, object]:
    """A normalised MLP and CNN (the CNN starts at v_init 0.5), fresh for each call."""
    mlp = normalise(random_mlp([64, 32, 16, 5], (1, 8, 8)), X)
    cnn = normalise(small_cnn(), X)
    cnn.v_init = 0.5
    return {"mlp": mlp, "cnn": cnn}
