"""Shared plumbing for the simulation entry points (scripts/simulate.py, scripts/membrane_stats.py)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import torch

from ..data import ArrayDataset, load_prepared


def make_logger(path: str | Path | None, name: str) -> logging.Logger:
    """Logger writing to ``path`` (if given) and stderr, replacing earlier handlers."""
    log = logging.getLogger(name)
    for h in list(log.handlers):
        log.removeHandler(h)
        h.close()
    log.setLevel(logging.INFO)
    log.propagate = False
    handlers: list[logging.Handler] = [logging.StreamHandler()]
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(path, mode="w"))
    for h in handlers:
        h.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        log.addHandler(h)
    return log


def clean_ids(wildcards: dict[str, Any]) -> dict[str, Any]:
    """Wildcards as id columns: ``iseed`` → ``input_seed``, digit strings → int."""
    ids = {("input_seed" if k == "iseed" else k): v for k, v in wildcards.items()}
    return {k: int(v) if isinstance(v, str) and v.isdigit() else v for k, v in ids.items()}


def load_test_split(data: str | Path, subset: int = 0,
                    expect_dataset: str | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Test images in [0, 1] and int64 labels of a prepared dataset (the first ``subset`` if > 0), checked
    against its sidecar and ``expect_dataset`` (default: the file's stem) by :func:`load_prepared`."""
    ds = load_prepared(data, expect_dataset=expect_dataset)
    n = len(ds.y_test) if not subset else min(int(subset), len(ds.y_test))
    return ArrayDataset.as_float(ds.x_test[:n]), torch.from_numpy(ds.y_test[:n]).long()
