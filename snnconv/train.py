"""ANN training: seeded, deterministic on CPU, per-epoch metrics, checkpoint plus summary.

Inputs are pixel intensities in [0, 1] without mean/std normalization, so that the same numbers are
both the ANN input and the Poisson spike probabilities of the converted network (docs/method.md §D1).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn
from tqdm import tqdm

from .data import ArrayDataset
from .models import build_model

log = logging.getLogger(__name__)


def resolve_device(name: str) -> torch.device:
    """``auto`` → CUDA when present, else CPU; ``cuda`` without a GPU is an error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise RuntimeError(f"device {name!r} requested but CUDA is not available (use device: auto or cpu)")
    return torch.device(name)


def make_deterministic(seed: int, threads: int) -> None:
    """Seed every generator and force deterministic kernels, with a fixed thread count."""
    torch.manual_seed(seed)
    np.random.seed(seed % 2**32)  # noqa: NPY002 - seeds any library code that still draws from the global state
    torch.set_num_threads(max(1, int(threads)))
    torch.use_deterministic_algorithms(True, warn_only=True)


@torch.no_grad()
def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 1000) -> tuple[float, float]:
    """(accuracy, mean cross-entropy) of ``model`` in eval mode on (x, y)."""
    model.eval()
    device = next(model.parameters()).device
    correct, loss_sum = 0, 0.0
    for start in range(0, len(x), batch_size):
        xb, yb = x[start : start + batch_size].to(device), y[start : start + batch_size].to(device)
        logits = model(xb)
        loss_sum += float(nn.functional.cross_entropy(logits, yb, reduction="sum"))
        correct += int((logits.argmax(1) == yb).sum())
    return correct / max(1, len(x)), loss_sum / max(1, len(x))


def _optimizer(model: nn.Module, cfg: dict[str, Any]) -> torch.optim.Optimizer:
    """Adam or SGD with momentum, from the training config."""
    if cfg.get("optimizer", "adam") == "sgd":
        return torch.optim.SGD(
            model.parameters(),
            lr=cfg["lr"],
            momentum=cfg.get("momentum", 0.9),
            weight_decay=cfg.get("weight_decay", 0.0),
        )
    return torch.optim.Adam(model.parameters(), lr=cfg["lr"], weight_decay=cfg.get("weight_decay", 0.0))


def has_batch_norm(model: nn.Module) -> bool:
    """Whether ``model`` holds a batch-norm layer (which cannot train on a batch of one sample)."""
    return any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in model.modules())


def batch_bounds(n: int, batch_size: int, no_singletons: bool = False) -> list[tuple[int, int]]:
    """(start, stop) of each training batch; with ``no_singletons`` a trailing one-sample batch
    (n ≡ 1 mod batch_size) joins the batch before it, since batch norm needs two samples per batch."""
    bounds = [(start, min(start + batch_size, n)) for start in range(0, n, batch_size)]
    if no_singletons and len(bounds) > 1 and bounds[-1][1] - bounds[-1][0] == 1:
        bounds[-2:] = [(bounds[-2][0], n)]
    if no_singletons and any(stop - start < 2 for start, stop in bounds):
        raise ValueError(
            f"batch norm needs at least 2 samples per training batch, but training.batch_size = "
            f"{batch_size} with {n} training images gives a batch of one; raise training.batch_size "
            "(or use more training images)"
        )
    return bounds


@dataclass
class TrainingResult:
    """The trained model, its per-epoch history and final test accuracy."""

    model: nn.Module
    history: pd.DataFrame
    test_accuracy: float
    seconds: float


def train_ann(
    ds: ArrayDataset,
    arch: str,
    arch_options: dict[str, Any],
    cfg: dict[str, Any],
    seed: int,
    progress: bool = True,
    qcfs: dict[str, Any] | None = None,
) -> TrainingResult:
    """Train ``arch`` on ``ds`` with cosine-annealed Adam/SGD; identical seeds give identical weights on CPU.

    ``qcfs`` (``{"levels": L, "lambda_init": λ0}``) trains the QCFS twin: every ReLU replaced by the
    quantization-clip-floor-shift activation with its own trainable λ (snnconv.qcfs).
    """
    make_deterministic(seed, cfg.get("threads", 1))
    device = resolve_device(cfg.get("device", "auto"))
    model = build_model(arch, ds.shape, len(ds.classes), **arch_options)
    if qcfs is not None:
        from .qcfs import to_qcfs

        model = to_qcfs(model, qcfs["levels"], qcfs["lambda_init"])
    model = model.to(device)
    x_train, y_train = ArrayDataset.as_float(ds.x_train), torch.from_numpy(ds.y_train)
    x_test, y_test = ArrayDataset.as_float(ds.x_test), torch.from_numpy(ds.y_test)
    optimizer = _optimizer(model, cfg)
    epochs, batch_size = int(cfg["epochs"]), int(cfg["batch_size"])
    bounds = batch_bounds(len(x_train), batch_size, no_singletons=has_batch_norm(model))
    steps_per_epoch = len(bounds)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs * steps_per_epoch)
    shuffle = torch.Generator().manual_seed(seed)
    rows, started = [], time.perf_counter()
    for epoch in range(1, epochs + 1):
        model.train()
        order = torch.randperm(len(x_train), generator=shuffle)
        loss_sum, correct = 0.0, 0
        bar = tqdm(bounds, desc=f"{arch} epoch {epoch}/{epochs}", disable=not progress, leave=False)
        for start, stop in bar:
            idx = order[start:stop]
            xb, yb = x_train[idx].to(device), y_train[idx].to(device)
            logits = model(xb)
            loss = nn.functional.cross_entropy(logits, yb)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
            loss_sum += float(loss.detach()) * len(idx)
            correct += int((logits.argmax(1) == yb).sum())
        test_acc, test_loss = evaluate(model, x_test, y_test)
        rows.append(
            {
                "epoch": epoch,
                "train_loss": loss_sum / len(order),
                "train_accuracy": correct / len(order),
                "test_loss": test_loss,
                "test_accuracy": test_acc,
                "lr": scheduler.get_last_lr()[0],
            }
        )
        log.info("epoch %d/%d train_loss %.4f test_accuracy %.4f", epoch, epochs, rows[-1]["train_loss"], test_acc)
    if not np.isfinite(rows[-1]["train_loss"]):
        raise RuntimeError(f"training diverged (train loss {rows[-1]['train_loss']}); lower training.lr")
    model = model.cpu().eval()
    return TrainingResult(model, pd.DataFrame(rows), rows[-1]["test_accuracy"], time.perf_counter() - started)
