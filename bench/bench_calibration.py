"""Light calibration and QCFS on one CIFAR-10 net at low T: how much of the max → ANN gap calibration recovers,
and what the QCFS twin reaches at T = 4 / 8 / 16 (docs/benchmarks.md, "Baselines: calibration and QCFS").

Trains the ReLU net and its QCFS twin with the pipeline's trainer (same arch, data, seed and settings), converts
with the pipeline's conversion (max, max-calib, p99.9, p99.9-calib, max-v0half, l4, l4-calib, qcfs, qcfs-calib),
and simulates each on the test set with Poisson input for T steps, every input seed.

    cd bench && nice -n 10 ../.venv/bin/python bench_calibration.py --data ../results/data/cifar10_jpeg.npz \
        --epochs 2 --test-subset 2000 --input-seeds 1 --cache ../results/bench/cache

Prints one line per norm (accuracy at T = 4, 8, 16, mean over input seeds) and the recovered fraction
(acc(max-calib) − acc(max)) / (acc(ANN) − acc(max)) at --T-report.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
from _common import print_header

from snnconv.convert import convert, parse_norm
from snnconv.convert.calibrate import CalibrationSettings
from snnconv.convert.files import norm_set
from snnconv.data import load_prepared
from snnconv.defaults import convert_args, sim_args, training_args
from snnconv.models import load_checkpoint, save_checkpoint
from snnconv.qcfs import qcfs_lambdas
from snnconv.simulate import simulate
from snnconv.train import evaluate, train_ann

ARCH_OPTIONS = {"channels": [16, 32], "kernel": 5, "hidden": 128, "dropout": 0.2, "bias": True, "batchnorm": False}
RELU_NORMS = (
    "max",
    "max-calib",
    "p99.9",
    "p99.9-calib",
    "max-v0half",
    "lp4_k-0.25_scale_max",
    "lp4_k-0.25_scale_max-calib",
)
QCFS_NORMS = ("qcfs", "qcfs-calib")


def main() -> None:
    """Train, convert, simulate; print the table and write it as JSON."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", required=True, help="prepared cifar10_jpeg .npz")
    ap.add_argument("--arch", default="cnn")
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--T", type=int, default=16)
    ap.add_argument("--T-report", type=int, default=16)
    ap.add_argument("--calib-images", type=int, default=1024)
    ap.add_argument("--calib-T", type=int, default=16)
    ap.add_argument("--levels", type=int, default=4)
    ap.add_argument("--lambda-init", type=float, default=8.0, help="initial QCFS clip (the paper's code: 8)")
    ap.add_argument("--qcfs-only", action="store_true", help="train and convert only the QCFS twin")
    ap.add_argument("--test-subset", type=int, default=0, help="first n test images (0 = all)")
    ap.add_argument("--input-seeds", type=int, default=3)
    ap.add_argument("--train-subset", type=int, default=0, help="first n training images (0 = all; a smoke run)")
    ap.add_argument("--norm-set-size", type=int, default=2000)
    ap.add_argument("--out", default="", help="write the results as JSON here")
    ap.add_argument("--cache", default="", help="folder for the trained checkpoints (reused when present)")
    args = ap.parse_args()
    print_header("bench_calibration")
    torch.set_num_threads(1)
    ds = load_prepared(args.data)
    if args.train_subset:
        ds = replace(ds, x_train=ds.x_train[: args.train_subset], y_train=ds.y_train[: args.train_subset])
    training = training_args(epochs=args.epochs, batch_size=128, lr=0.001, optimizer="adam", device="cpu", threads=1)
    nets = {}
    variants = [("relu", None), ("qcfs", {"levels": args.levels, "lambda_init": args.lambda_init})]
    for variant, qcfs in variants[1:] if args.qcfs_only else variants:
        path = Path(args.cache) / f"{args.arch}-{variant}-e{args.epochs}-L{args.levels}-l{args.lambda_init:g}.pt"
        if args.cache and path.exists():
            nets[variant] = load_checkpoint(path)[0]
            print(f"loaded {variant} from {path}", flush=True)
            continue
        start = time.perf_counter()
        res = train_ann(ds, args.arch, ARCH_OPTIONS, training, seed=0, progress=False, qcfs=qcfs)
        nets[variant] = res.model
        print(
            f"trained {variant}: test accuracy {res.test_accuracy:.4f} in {time.perf_counter() - start:.0f} s",
            flush=True,
        )
        if args.cache:
            path.parent.mkdir(parents=True, exist_ok=True)
            activation = {"type": "qcfs", "levels": args.levels} if qcfs else None
            save_checkpoint(path, res.model, args.arch, ds.shape, len(ds.classes), ARCH_OPTIONS, None, activation)
    x_norm, _ = norm_set(ds.x_train, args.norm_set_size, 0)
    n_test = args.test_subset or len(ds.x_test)
    x_test = torch.from_numpy(np.ascontiguousarray(ds.x_test[:n_test])).float().div_(255.0)
    y_test = torch.from_numpy(ds.y_test[:n_test])
    ann = {v: evaluate(m, x_test, y_test)[0] for v, m in nets.items()}
    print(f"ANN accuracy on {n_test} test images: {ann}; QCFS λ {qcfs_lambdas(nets['qcfs'])}", flush=True)
    calib = CalibrationSettings(args.calib_images, args.calib_T, "poisson", 1.0, "subtract", 0)
    rows = {}
    for variant, norms in (("relu", RELU_NORMS), ("qcfs", QCFS_NORMS)):
        if variant not in nets:
            continue
        for norm in norms:
            start = time.perf_counter()
            net = convert(nets[variant], x_norm, parse_norm(norm), **convert_args(calib=calib))
            conv_s = time.perf_counter() - start
            accs = []
            for seed in range(args.input_seeds):
                r = simulate(
                    net,
                    x_test,
                    y_test,
                    args.T,
                    **sim_args(seed=seed, batch_size=500, time_chunk=16, device="cpu", compile="false"),
                )
                accs.append(r.accuracy)
            acc = np.mean(accs, axis=0)
            with torch.no_grad():  # what the rates approach at large T: the clamped rate model
                rate = float((net.rate_forward(x_test, clamp=True)[-1].argmax(1) == y_test).float().mean())
            rows[norm] = {"accuracy": acc.tolist(), "convert_s": conv_s, "model": variant, "rate_model": rate}
            picks = " ".join(f"T={t}: {acc[t - 1]:.4f}" for t in (4, 8, 16) if t <= args.T)
            print(f"{norm:32s} {picks}  rate model {rate:.4f}  (convert {conv_s:.1f} s)", flush=True)
    if args.out:
        Path(args.out).write_text(json.dumps({"ann": ann, "rows": rows, "args": vars(args)}, indent=1))
    if "relu" not in nets:
        return
    t = args.T_report - 1
    m, c = rows["max"]["accuracy"][t], rows["max-calib"]["accuracy"][t]
    gap = ann["relu"] - m
    print(
        f"T={args.T_report}: ANN {ann['relu']:.4f}, max {m:.4f}, max-calib {c:.4f}: calibration recovers "
        f"{(c - m) / gap:.1%} of the max -> ANN gap ({gap:.4f})"
        if gap > 0
        else "max is at the ANN's accuracy",
        flush=True,
    )


if __name__ == "__main__":
    main()
