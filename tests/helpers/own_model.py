"""A user's own model, trained briefly on digits, for the command-line tests (in-process and as commands)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn


@pytest.fixture(scope="module")
def own_model(tmp_path_factory) -> Path:
    """A folder with my.pt (an nn.Sequential trained briefly on digits, saved whole) and images.npz (x, y)."""
    from sklearn.datasets import load_digits

    where = tmp_path_factory.mktemp("own")
    digits = load_digits()
    x = (digits.images / 16.0).astype(np.float32)[:, None]
    np.savez(where / "images.npz", x=x, y=digits.target)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 64), nn.ReLU(), nn.Dropout(0.1), nn.Linear(64, 10))
    opt = torch.optim.Adam(model.parameters(), 3e-3)
    xs, ys = torch.from_numpy(x), torch.from_numpy(digits.target)
    for _ in range(150):
        opt.zero_grad()
        nn.functional.cross_entropy(model(xs), ys).backward()
        opt.step()
    torch.save(model.eval(), where / "my.pt")
    return where
