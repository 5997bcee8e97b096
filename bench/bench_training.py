"""Test accuracy against training CPU time: train one net under one config's recipe on real data, one thread.

Usage::

    python bench/bench_training.py --configfile bench/recipes/cifar10_vgg6.yaml --dataset cifar10_jpeg --arch vgg

The recipe (optimizer, schedule, augmentation, epochs, ...) and the architecture's options are the pipeline's own,
read from the config through :func:`snnconv.workflow.settings.training` and :func:`snnconv.workflow.settings.arch_options`, so a
benchmarked recipe is exactly what ``snakemake`` would train. Torch runs on one thread and the clock is the
process CPU time (``time.process_time``) spent in training steps: the evaluation after each epoch is not counted,
and the number is steadier than wall time on a shared machine. After each epoch one line ``epoch, cpu_s,
test_acc`` is printed and one row is appended to ``--csv`` (docs/bench/training.csv), so a run stopped early
still leaves its curve. Test accuracy is on the full test set.
"""

from __future__ import annotations

import argparse
import csv
import os
import shlex
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine_info, print_header  # noqa: E402

from snnconv.data import prepare_dataset  # noqa: E402
from snnconv.workflow.config import load_config  # noqa: E402
from snnconv.workflow.settings import arch_options, dataset_options, training  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
FIELDS = (
    "run",
    "dataset",
    "arch",
    "config",
    "seed",
    "epoch",
    "epochs",
    "train_cpu_s",
    "wall_s",
    "test_acc",
    "validation_acc",
    "train_images",
    "loadavg",
    "command",
)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command line: the config, the (dataset, arch) pair, the seed and a few overrides for short trials."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--configfile", required=True, help="workflow config whose training recipe is benchmarked")
    p.add_argument("--dataset", required=True)
    p.add_argument("--arch", required=True)
    p.add_argument("--seed", type=int, help="training seed (default: the config's first seed)")
    p.add_argument("--epochs", type=int, help="override the recipe's epochs (e.g. 1 to time an epoch)")
    p.add_argument("--subset-train", type=int, default=0, help="first n training images (0 = all)")
    p.add_argument("--data-dir", default=os.environ.get("SNNCONV_SHARED_DATA") or os.environ.get("SNNCONV_DATA_DIR"))
    p.add_argument("--csv", default=str(REPO / "docs" / "bench" / "training.csv"), help="rows appended here")
    p.add_argument("--no-csv", action="store_true", help="print only (timing trials)")
    return p.parse_args(argv)


def append_row(path: Path, row: dict[str, Any]) -> None:
    """Append one row to the CSV, writing the header when the file is new."""
    path.parent.mkdir(parents=True, exist_ok=True)
    new = not path.exists() or path.stat().st_size == 0
    with open(path, "a", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=FIELDS)
        if new:
            writer.writeheader()
        writer.writerow(row)


def main(argv: list[str] | None = None) -> None:
    """Train once, printing and recording test accuracy against training CPU seconds after every epoch."""
    args = parse_args(argv)
    import torch

    from snnconv.train import train_ann

    torch.set_num_threads(1)
    print_header("bench_training")
    config = load_config(args.configfile)
    recipe = training(config, args.dataset)
    if args.epochs:
        recipe["epochs"] = args.epochs
    options = dict(dataset_options(config, args.dataset))
    if args.subset_train:
        options["subset_train"] = args.subset_train
    options["subset_test"] = 0  # accuracy is always on the full test set (0 = all)
    ds, _ = prepare_dataset(args.dataset, options, args.data_dir or config.get("data_dir"))
    seed = config["seeds"][0] if args.seed is None else args.seed
    run = f"{time.strftime('%Y%m%dT%H%M%S')}-{args.dataset}-{args.arch}-seed{seed}"
    command = shlex.join(["python", "bench/bench_training.py", *(sys.argv[1:] if argv is None else argv)])
    print(
        f"# recipe {recipe}; arch_options {arch_options(config, args.arch)}; channels_last "
        f"{config['training']['channels_last']}; {len(ds.y_train)} train images"
    )
    print("epoch, cpu_s, test_acc, validation_acc", flush=True)
    started = time.perf_counter()

    def on_epoch(row: dict[str, Any]) -> None:
        val = row.get("validation_accuracy")
        print(
            f"{row['epoch']}, {row['train_cpu_seconds']:.1f}, {row['test_accuracy']:.4f}, "
            f"{'' if val is None else f'{val:.4f}'}",
            flush=True,
        )
        if args.no_csv:
            return
        append_row(
            Path(args.csv),
            {
                "run": run,
                "dataset": args.dataset,
                "arch": args.arch,
                "config": args.configfile,
                "seed": seed,
                "epoch": row["epoch"],
                "epochs": recipe["epochs"],
                "train_cpu_s": round(row["train_cpu_seconds"], 1),
                "wall_s": round(time.perf_counter() - started, 1),
                "test_acc": round(row["test_accuracy"], 4),
                "validation_acc": "" if val is None else round(val, 4),
                "train_images": len(ds.y_train) - int(recipe.get("validation_images", 0)),
                "loadavg": "/".join(f"{v:.1f}" for v in machine_info()["loadavg"] or ()),
                "command": command,
            },
        )

    cfg = {**recipe, "threads": 1, "device": "cpu", "channels_last": bool(config["training"]["channels_last"])}
    train_ann(ds, args.arch, arch_options(config, args.arch), cfg, seed, progress=False, on_epoch=on_epoch)


if __name__ == "__main__":
    main()
