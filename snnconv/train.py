"""ANN training: seeded, deterministic on CPU, per-epoch metrics, checkpoint plus summary.

Inputs are pixel intensities in [0, 1] without mean/std normalization, so that the same numbers are
both the ANN input and the Poisson spike probabilities of the converted network (docs/method.md §D1).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
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


OPTIMIZERS = ("adam", "sgd")
SCHEDULES = ("cosine", "onecycle", "constant")
AUGMENTS = ("none", "crop", "crop_flip")


def _choice(cfg: dict[str, Any], key: str, allowed: tuple[str, ...]) -> str:
    """``cfg[key]``, one of ``allowed``; ValueError naming key and value otherwise."""
    value = cfg[key]
    if value not in allowed:
        raise ValueError(f"training.{key} = {value!r} is not one of {list(allowed)}")
    return value


def _optimizer(model: nn.Module, cfg: dict[str, Any]) -> torch.optim.Optimizer:
    """Adam, or SGD with momentum (optionally Nesterov), from the training config; weight decay on every parameter."""
    decay = float(cfg["weight_decay"])
    if _choice(cfg, "optimizer", OPTIMIZERS) == "sgd":
        momentum, nesterov = float(cfg["momentum"]), bool(cfg["nesterov"])
        if nesterov and momentum <= 0:
            raise ValueError(f"training.nesterov needs training.momentum > 0, got momentum = {momentum}")
        return torch.optim.SGD(
            model.parameters(), lr=cfg["lr"], momentum=momentum, weight_decay=decay, nesterov=nesterov
        )
    return torch.optim.Adam(model.parameters(), lr=cfg["lr"], weight_decay=decay)


def make_scheduler(
    optimizer: torch.optim.Optimizer, cfg: dict[str, Any], total_steps: int
) -> torch.optim.lr_scheduler.LRScheduler:
    """The per-batch learning-rate schedule over ``total_steps``: cosine annealing to 0, one-cycle (warm-up from
    lr/25 to lr over ``warmup_fraction`` of the steps, then cosine annealing to lr/25e4; momentum is left as
    configured) or constant."""
    name = _choice(cfg, "schedule", SCHEDULES)
    if name == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total_steps)
    if name == "constant":
        return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda _step: 1.0)
    warmup = float(cfg["warmup_fraction"])
    if not 0 < warmup < 1:
        raise ValueError(f"training.warmup_fraction must lie in (0, 1), got {warmup}")
    return torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=cfg["lr"], total_steps=max(2, total_steps), pct_start=warmup, cycle_momentum=False
    )


def make_loss(cfg: dict[str, Any]) -> nn.CrossEntropyLoss:
    """Cross-entropy with ``training.label_smoothing`` (0 = plain cross-entropy)."""
    smoothing = float(cfg["label_smoothing"])
    if not 0 <= smoothing < 1:
        raise ValueError(f"training.label_smoothing must lie in [0, 1), got {smoothing}")
    return nn.CrossEntropyLoss(label_smoothing=smoothing)


def random_crop(x: torch.Tensor, padding: int, generator: torch.Generator) -> torch.Tensor:
    """Each image of the NCHW batch ``x`` zero-padded by ``padding`` pixels and cropped back to its size at a
    random offset (the CIFAR augmentation of He et al. 2016), drawn from ``generator``."""
    n, c, h, w = x.shape
    padded = nn.functional.pad(x, (padding, padding, padding, padding))
    dy = torch.randint(0, 2 * padding + 1, (n,), generator=generator)
    dx = torch.randint(0, 2 * padding + 1, (n,), generator=generator)
    rows = (dy[:, None] + torch.arange(h)[None, :])[:, None, :, None]
    cols = (dx[:, None] + torch.arange(w)[None, :])[:, None, None, :]
    return padded[torch.arange(n)[:, None, None, None], torch.arange(c)[None, :, None, None], rows, cols]


def random_flip(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Each image of the NCHW batch ``x`` mirrored left-right with probability 1/2, drawn from ``generator``."""
    flip = torch.rand(len(x), generator=generator) < 0.5
    return torch.where(flip[:, None, None, None], x.flip(3), x)


def augment(x: torch.Tensor, cfg: dict[str, Any], generator: torch.Generator) -> torch.Tensor:
    """``x`` under ``training.augment``: unchanged (none), random crop (crop) or random crop and flip (crop_flip)."""
    name = _choice(cfg, "augment", AUGMENTS)
    if name == "none":
        return x
    padding = int(cfg["crop_padding"])
    if padding < 1:
        raise ValueError(f"training.crop_padding must be at least 1, got {padding}")
    if x.dim() != 4:
        raise ValueError(f"training.augment = {name!r} needs image batches (N, C, H, W), got shape {tuple(x.shape)}")
    x = random_crop(x, padding, generator)
    return random_flip(x, generator) if name == "crop_flip" else x


def validation_split(n_train: int, n_validation: int, seed: int | None) -> tuple[np.ndarray, np.ndarray]:
    """(training indices, validation indices), both sorted: ``n_validation`` of the ``n_train`` training images
    drawn by default_rng(seed).choice without replacement; the rest train. No validation: all train."""
    if n_validation < 0:
        raise ValueError(f"training.validation_images must be >= 0, got {n_validation}")
    if n_validation == 0:
        return np.arange(n_train), np.zeros(0, dtype=np.int64)
    if n_validation >= n_train:
        raise ValueError(
            f"training.validation_images = {n_validation} leaves no training images (the training set has {n_train})"
        )
    held = np.sort(np.random.default_rng(seed).choice(n_train, size=n_validation, replace=False))
    return np.setdiff1d(np.arange(n_train), held), held


def training_memory_format(model: nn.Module, cfg: dict[str, Any]) -> torch.memory_format:
    """The memory layout training runs in: channels-last (NHWC) when ``training.channels_last`` is set and the model
    has a 2-D convolution, else the default NCHW. The arithmetic is the same, only its float summation order
    differs; oneDNN's NHWC convolutions train the CIFAR six-conv VGG about 20 % faster per CPU-second here
    (docs/benchmarks.md). An execution setting, like threads: the trained model is saved in NCHW either way."""
    if cfg["channels_last"] and any(isinstance(m, nn.Conv2d) for m in model.modules()):
        return torch.channels_last
    return torch.contiguous_format


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
    """The trained model, its per-epoch history, final test accuracy and the validation split it held out."""

    model: nn.Module
    history: pd.DataFrame
    test_accuracy: float
    seconds: float
    validation_indices: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    validation_accuracy: float | None = None


def train_ann(
    ds: ArrayDataset,
    arch: str,
    arch_options: dict[str, Any],
    cfg: dict[str, Any],
    seed: int,
    progress: bool = True,
    *,
    on_epoch: Callable[[dict[str, Any]], None] | None = None,
    qcfs: dict[str, Any] | None = None,
) -> TrainingResult:
    """Train ``arch`` on ``ds`` under the recipe ``cfg`` (optimizer, schedule, augmentation, label smoothing,
    validation split); identical seeds give identical weights on CPU. ``on_epoch`` receives each epoch's history
    row plus ``train_cpu_seconds``, the process CPU time spent in training steps so far (evaluation excluded).

    ``cfg`` is :func:`snnconv.workflow.settings.training` of the validated config plus the execution keys ``device``,
    ``threads`` and ``channels_last``: every value comes from there (the schema holds the defaults), and a key that
    only matters under another one (momentum under SGD, warmup_fraction under one-cycle, ...) is read only then.

    ``qcfs`` (``{"levels": L, "lambda_init": λ0}``) trains the QCFS twin: every ReLU replaced by the
    quantization-clip-floor-shift activation with its own trainable λ (snnconv.qcfs).
    """
    make_deterministic(seed, cfg["threads"])
    device = resolve_device(cfg["device"])
    model = build_model(arch, ds.shape, len(ds.classes), **arch_options)
    if qcfs is not None:
        from .qcfs import to_qcfs

        model = to_qcfs(model, qcfs["levels"], qcfs["lambda_init"])
    memory_format = training_memory_format(model, cfg)
    model = model.to(device, memory_format=memory_format)
    train_idx, val_idx = validation_split(len(ds.y_train), int(cfg["validation_images"]), validation_seed(cfg))
    x_all, y_all = ArrayDataset.as_float(ds.x_train), torch.from_numpy(ds.y_train)
    if len(val_idx):
        x_train, y_train = x_all[torch.from_numpy(train_idx)], y_all[torch.from_numpy(train_idx)]
        x_val, y_val = x_all[torch.from_numpy(val_idx)], y_all[torch.from_numpy(val_idx)]
    else:
        x_train, y_train = x_all, y_all
    x_test, y_test = ArrayDataset.as_float(ds.x_test), torch.from_numpy(ds.y_test)
    optimizer, loss_fn = _optimizer(model, cfg), make_loss(cfg)
    _choice(cfg, "augment", AUGMENTS)
    epochs, batch_size = int(cfg["epochs"]), int(cfg["batch_size"])
    bounds = batch_bounds(len(x_train), batch_size, no_singletons=has_batch_norm(model))
    scheduler = make_scheduler(optimizer, cfg, epochs * len(bounds))
    shuffle = torch.Generator().manual_seed(seed)
    augmentation = torch.Generator().manual_seed(
        (seed + 1) % 2**63
    )  # its own stream: augmenting leaves the order unchanged
    rows, started, cpu = [], time.perf_counter(), 0.0
    for epoch in range(1, epochs + 1):
        model.train()
        cpu_start = time.process_time()
        order = torch.randperm(len(x_train), generator=shuffle)
        loss_sum, correct = 0.0, 0
        bar = tqdm(bounds, desc=f"{arch} epoch {epoch}/{epochs}", disable=not progress, leave=False)
        for start, stop in bar:
            idx = order[start:stop]
            xb = augment(x_train[idx], cfg, augmentation).to(device, memory_format=memory_format)
            yb = y_train[idx].to(device)
            logits = model(xb)
            loss = loss_fn(logits, yb)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
            loss_sum += float(loss.detach()) * len(idx)
            correct += int((logits.argmax(1) == yb).sum())
        cpu += time.process_time() - cpu_start
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
        if len(val_idx):
            rows[-1]["validation_accuracy"], rows[-1]["validation_loss"] = evaluate(model, x_val, y_val)
        log.info("epoch %d/%d train_loss %.4f test_accuracy %.4f", epoch, epochs, rows[-1]["train_loss"], test_acc)
        if on_epoch is not None:
            on_epoch({**rows[-1], "train_cpu_seconds": cpu})
    if not np.isfinite(rows[-1]["train_loss"]):
        raise RuntimeError(f"training diverged (train loss {rows[-1]['train_loss']}); lower training.lr")
    model = model.cpu().to(memory_format=torch.contiguous_format).eval()  # checkpoints hold plain NCHW tensors
    return TrainingResult(
        model,
        pd.DataFrame(rows),
        rows[-1]["test_accuracy"],
        time.perf_counter() - started,
        val_idx,
        rows[-1].get("validation_accuracy"),
    )


def validation_seed(cfg: dict[str, Any]) -> int | None:
    """``training.validation_seed``, or None when no image is held out: then the seed draws nothing and
    :func:`snnconv.workflow.settings.training` leaves it out of the recipe, so that changing it reruns nothing."""
    return int(cfg["validation_seed"]) if int(cfg["validation_images"]) else None


def validation_record(indices: np.ndarray, cfg: dict[str, Any]) -> dict[str, Any]:
    """The validation split as the checkpoint records it: count, seed and the held-out training-image indices
    (a tensor, so the checkpoint stays weights-only loadable); conversion keeps these images out of its
    normalization set."""
    return {
        "images": len(indices),
        "seed": validation_seed(cfg),
        "indices": torch.as_tensor(np.asarray(indices, dtype=np.int64)),
    }
