"""Training step in the channels-last (NHWC) layout ÷ the same step in the default NCHW layout, one run.

Usage::

    python bench/bench_channels_last.py                         # the CIFAR six-conv VGG, VGG-16/4, resnet8, CNN
    python bench/bench_channels_last.py --nets vgg --steps 40   # one net, more steps

What ``training.channels_last`` buys (docs/training.md, "Memory layout"): for each net, a model and an SGD
optimizer are built twice from the same seed, one of them moved to ``torch.channels_last`` as
:func:`snnconv.train.training_memory_format` does, and the two take turns: a block of training steps in one
layout, then a block in the other, ``--rounds`` times, so both see the same machine load. The clock is process
CPU time on one torch thread (steadier than wall time on a shared machine). Printed per net: CPU ms per step in
each layout and their ratio (< 1: channels-last is cheaper).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import print_header  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
# The CPU study's conv nets: name -> (dataset, arch); their options come from config/paper-cpu.yaml.
NETS = {"vgg": ("cifar10_jpeg", "vgg"), "vgg16": ("cifar10_jpeg", "vgg16"), "resnet8": ("cifar10_jpeg", "resnet")}
NETS["cnn"] = ("mnist", "cnn")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Nets, batch size, steps per block, rounds, threads."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--nets", nargs="+", default=list(NETS), choices=list(NETS))
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--steps", type=int, default=10, help="training steps per timed block")
    p.add_argument("--rounds", type=int, default=3, help="blocks per layout, interleaved")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--smoke", action="store_true", help="one tiny round per net (CI)")
    return p.parse_args(argv)


def train_steps(model: Any, opt: Any, x: Any, y: Any, n: int) -> float:
    """Process CPU seconds of ``n`` SGD steps of ``model`` on the batch (x, y)."""
    from torch import nn

    loss_fn = nn.CrossEntropyLoss()
    start = time.process_time()
    for _ in range(n):
        loss = loss_fn(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return time.process_time() - start


def main(argv: list[str] | None = None) -> None:
    """Time both layouts per net, interleaved, and print the ratio."""
    args = parse_args(argv)
    import torch

    from snnconv.models import build_model
    from snnconv.train import training_memory_format
    from snnconv.workflow.config import load_config
    from snnconv.workflow.settings import arch_options
    from snnconv.workflow.vocab import INPUT_SHAPES

    torch.set_num_threads(args.threads)
    print_header("bench_channels_last")
    steps, rounds, batch = (2, 1, 16) if args.smoke else (args.steps, args.rounds, args.batch_size)
    print("net, nchw_ms_per_step, nhwc_ms_per_step, nhwc/nchw")
    config = load_config(REPO / "config" / "paper-cpu.yaml")
    ratios = {}
    for name in args.nets:
        dataset, arch = NETS[name]
        options, shape = arch_options(config, arch), INPUT_SHAPES[dataset]
        x = torch.rand(batch, *shape, generator=torch.Generator().manual_seed(0))
        y = torch.randint(0, 10, (batch,), generator=torch.Generator().manual_seed(1))
        setups = {}
        for layout, cfg in (("nchw", {"channels_last": False}), ("nhwc", {"channels_last": True})):
            torch.manual_seed(0)
            model = build_model(arch, shape, 10, **options)
            fmt = training_memory_format(model, cfg)
            model = model.to(memory_format=fmt).train()
            opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, nesterov=True, weight_decay=5e-4)
            setups[layout] = (model, opt, x.contiguous(memory_format=fmt))
        for layout in setups:  # warm-up: oneDNN picks its kernels on the first steps
            train_steps(*setups[layout], y, 1)
        spent = {"nchw": 0.0, "nhwc": 0.0}
        for _ in range(rounds):
            for layout in spent:
                spent[layout] += train_steps(*setups[layout], y, steps)
        per_step = {k: 1000 * v / (steps * rounds) for k, v in spent.items()}
        ratios[name] = per_step["nhwc"] / per_step["nchw"]
        print(f"{name}, {per_step['nchw']:.1f}, {per_step['nhwc']:.1f}, {ratios[name]:.2f}")
    print(
        "ratio channels-last / NCHW CPU time per training step: " + ", ".join(f"{k} {v:.2f}" for k, v in ratios.items())
    )


if __name__ == "__main__":
    main()
