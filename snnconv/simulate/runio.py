"""Shared plumbing for the simulation entry points (scripts/simulate.py, scripts/membrane_stats.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from ..data import ArrayDataset, load_prepared


def simulate_with(
    net: Any, images: torch.Tensor, labels: torch.Tensor, cfg: dict[str, Any], seed: int, progress: bool = False
) -> Any:
    """:func:`snnconv.simulate.simulate` with the settings of a ``simulation`` config section (the keys of
    settings.SIMULATION_KEYS and job.EXECUTION_KEYS), as the rule and the ``snnconv simulate`` command pass them."""
    from .engine import simulate

    return simulate(
        net,
        images,
        labels,
        int(cfg["T"]),
        encoding=cfg["encoding"],
        seed=int(seed),
        max_rate=float(cfg["max_rate"]),
        reset=cfg["reset"],
        decode=cfg["decode"],
        batch_size=int(cfg["batch_size"]),
        time_chunk=int(cfg["time_chunk"]),
        device=cfg["device"],
        compile=cfg["compile"],
        progress=progress,
    )


def ann_accuracy_on(checkpoint: str | Path, images: torch.Tensor, labels: torch.Tensor, batch: int) -> float:
    """Accuracy of the trained ANN in ``checkpoint`` on ``images``: the simulate job's ANN reference, measured on
    the very images it simulates (:func:`snnconv.train.evaluate`, eval mode, no gradients)."""
    from ..models import load_checkpoint
    from ..train import evaluate

    model, meta = load_checkpoint(checkpoint)
    if tuple(meta["in_shape"]) != tuple(images.shape[1:]):
        raise ValueError(
            f"{checkpoint}: the ANN takes inputs {tuple(meta['in_shape'])}, the test images are {tuple(images.shape[1:])}"
        )
    return evaluate(model, images, labels, batch)[0]


def clean_ids(wildcards: dict[str, Any]) -> dict[str, Any]:
    """Wildcards as id columns: ``iseed`` → ``input_seed``, digit strings → int."""
    ids = {("input_seed" if k == "iseed" else k): v for k, v in wildcards.items()}
    return {k: int(v) if isinstance(v, str) and v.isdigit() else v for k, v in ids.items()}


def load_test_split(
    data: str | Path, subset: int = 0, expect_dataset: str | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Test images in [0, 1] and int64 labels of a prepared dataset (the first ``subset`` if > 0), checked
    against its sidecar and ``expect_dataset`` (default: the file's stem) by :func:`load_prepared`."""
    ds = load_prepared(data, expect_dataset=expect_dataset)
    n = len(ds.y_test) if not subset else min(int(subset), len(ds.y_test))
    return ArrayDataset.as_float(ds.x_test[:n]), torch.from_numpy(ds.y_test[:n]).long()


def available_memory_bytes() -> int:
    """Memory this job may still use: the smaller of MemAvailable (/proc/meminfo) and the cgroup limit (SLURM)."""
    limits = []
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    limits.append(int(line.split()[1]) * 1024)
    except OSError:
        pass
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            text = Path(path).read_text().strip()
        except OSError:
            continue
        if text.isdigit() and int(text) < 2**60:
            limits.append(int(text))
    return min(limits) if limits else 2**62


def simulation_bytes(net: Any, batch: int, steps: int, dtype_bytes: int = 4) -> int:
    """Upper estimate of the simulator's buffers for one batch of ``steps`` time steps (docs/method.md §S4).

    batch × steps × (2 × input size + Σ layer widths + 2 × the widest layer) values, doubled for the
    temporaries of one layer update.
    """
    import math

    widths = [math.prod(net.input_shape)]
    with torch.inference_mode():
        widths += [int(o[0].numel()) for o in net.rate_forward(torch.zeros(1, *net.input_shape), clamp=False)]
    per_step = 2 * widths[0] + sum(widths[1:]) + 2 * max(widths)
    return 2 * int(batch) * int(steps) * per_step * dtype_bytes


def check_memory(net: Any, batch: int, steps: int, where: str, keys: str, limit: int | None = None) -> int:
    """Refuse, before any work, a simulation whose buffers cannot fit; the error names the settings and both sizes."""
    need, have = simulation_bytes(net, batch, steps), available_memory_bytes() if limit is None else int(limit)
    if need > 0.8 * have:
        raise MemoryError(
            f"{where}: {keys} = {batch} × {steps} time steps need about {need / 2**30:.1f} GiB of "
            f"simulator buffers, more than the {0.8 * have / 2**30:.1f} GiB this job may use (80 % of "
            f"{have / 2**30:.1f} GiB available): lower them"
        )
    return need


def load_simulation_inputs(
    network: str | Path | Any, data: str | Path, subset: int, cfg: dict[str, Any], dataset: str | None, keys: str
) -> tuple[Any, torch.Tensor, torch.Tensor, int]:
    """What a spiking job needs, checked before any work: the network, the first ``subset`` test images and
    labels of the prepared data (checked against its sidecar), matching input shapes, and buffers that fit
    in memory (``keys`` names the settings that size them). ``network`` is a file or a network already
    built in this job. Returns (net, images, labels, buffer bytes)."""
    from ..network import check_finite, load_network

    torch.set_num_threads(int(cfg["threads"]))  # fixed, so results do not depend on --cores
    if isinstance(network, (str, Path)):
        net = load_network(network)
    else:
        net = network
        check_finite(net, net.meta.get("norm", "network"))
        network = f"network {net.meta.get('norm', '(in memory)')}"
    images, labels = load_test_split(data, subset, expect_dataset=dataset)
    if tuple(images.shape[1:]) != tuple(net.input_shape):
        raise ValueError(
            f"{network}: network expects inputs of shape {tuple(net.input_shape)}, "
            f"but {data} holds {tuple(images.shape[1:])}"
        )
    batch, steps = min(int(cfg["batch_size"]), len(images)), min(int(cfg["time_chunk"]), int(cfg["T"]))
    return net, images, labels, check_memory(net, batch, steps, str(network), keys)
