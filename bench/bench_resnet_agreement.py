"""Residual conversion: how often the converted rate model (and optionally the spiking net at large T) picks the
ANN's class, on the conversion set and on test images, for resnet8 under the bases max, p99.9, model and the L4
adjustment (docs/method.md, "Residual networks"; target: ≥ 99.5 % for the conversion itself).

Usage: ``python bench/bench_resnet_agreement.py --dataset mnist --data-dir /work/shared/data [--train 20000]
[--epochs 3] [--norm-set 2000] [--threads 1] [--spiking-T 0] [--control] [--smoke]``.

``--control`` also trains a plain CNN with batch norm on the same data and converts it the same way: where an
adjustment changes agreement, the control says whether a residual net suffers more than a plain one. Besides each
norm's agreement, the script prints diagnostics of threshold adjustments: the same norm with the adjusted
thresholds' per-layer mean factor applied uniformly (``uniform-factor``), and the shortcut compensated for the
main branch's extra scaled layer (``branch-balanced``).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import print_header  # noqa: E402

from snnconv.convert import parse_norm  # noqa: E402
from snnconv.convert.files import agreement, norm_set  # noqa: E402
from snnconv.convert.pipeline import base_statistics, build, prepare  # noqa: E402
from snnconv.data import ArrayDataset  # noqa: E402
from snnconv.data.registry import prepare_dataset  # noqa: E402
from snnconv.defaults import arch_args, convert_args, dataset_args, sim_args, training_args
from snnconv.models import RESNET_PRESETS  # noqa: E402
from snnconv.network import SpikingNetwork  # noqa: E402
from snnconv.simulate import simulate  # noqa: E402
from snnconv.train import train_ann  # noqa: E402
from snnconv.workflow.cluster import resnet_cost  # noqa: E402

NORMS = ("max", "p99.9", "model", "lp4_k-0.25_scale_max", "uniform_k-0.25_scale_max")
TARGET = 0.995


def uniform_factor(net: SpikingNetwork) -> SpikingNetwork:
    """The adjusted net with every layer's thresholds replaced by their layer mean (diagnostic)."""
    out = net.to("cpu")
    for layer in out.layers:
        layer.threshold = torch.full_like(layer.threshold, float(layer.threshold.mean()))
    return out


def branch_balanced(net: SpikingNetwork) -> SpikingNetwork:
    """Diagnostic: divide each shortcut by the mean threshold factor of the main branch's extra layer (conv1),
    so both branches reach the add node on one scale again (exact when that layer's factor is uniform)."""
    out = net.to("cpu")
    for l, layer in enumerate(out.layers):
        if layer.shortcut is not None:
            extra = out.layers[l - 1].threshold.double().mean()
            layer.shortcut_weight = (layer.shortcut_weight.double() / extra).float()
    return out


def compensated(net: SpikingNetwork) -> SpikingNetwork:
    """Diagnostic: the adjusted net with each layer's factor taken uniform (its mean θ) and its consequences undone:
    the rates of layer l come out scaled by c_l = Π_{k≤l} 1/θ_k, so each layer's bias is multiplied by its input's
    scale c_{l−1} and each shortcut by c_{l−1}/c_s. With uniform factors this is the base-normalized ANN times c:
    its argmax (unclamped) must be the ANN's; what the adjustment loses is then bias scale and branch scale."""
    out = uniform_factor(net)
    scale = [1.0]  # c of the layer inputs: the network input has scale 1
    for layer in out.layers:
        c_in = scale[-1]
        if layer.bias is not None:
            layer.bias = (layer.bias.double() * c_in).float()
        if layer.shortcut is not None:
            c_s = scale[layer.shortcut["source"] + 1]
            layer.shortcut_weight = (layer.shortcut_weight.double() * c_in / c_s).float()
        scale.append(c_in / float(layer.threshold[0]) if layer.spiking else c_in)
    return out


def train(ds: ArrayDataset, arch: str, options: dict, epochs: int, threads: int) -> torch.nn.Module:
    cfg = training_args(epochs=epochs, batch_size=128, lr=0.003, optimizer="adam", device="cpu", threads=threads)
    start = time.process_time()
    result = train_ann(ds, arch, arch_args(arch, **options), cfg, seed=0, progress=False)
    print(
        f"trained {arch} {options}: test accuracy {result.test_accuracy:.4f} in {time.process_time() - start:.0f} "
        "CPU-s",
        flush=True,
    )
    return result.model


def evaluate(
    name: str, model: torch.nn.Module, x: torch.Tensor, y: np.ndarray, test: tuple, spiking_t: int, norms: list[str]
) -> None:
    """Every norm (and its diagnostics): agreement on the conversion set and on the test images."""
    parsed, raw = prepare(model, x, convert_args()["maxpool_to_avgpool"])
    stats: dict[str, object] = {}
    for norm in norms:
        spec = parse_norm(norm)
        if spec.base_name not in stats:
            stats[spec.base_name] = base_statistics(raw, x, spec.base_name, per_channel=False)
        net = build(parsed, raw, spec, stats[spec.base_name])
        variants = [(norm, net)]
        if spec.adjust:
            variants += [
                (f"{norm} uniform-factor", uniform_factor(net)),
                (f"{norm} branch-balanced", branch_balanced(net)),
                (f"{norm} compensated", compensated(net)),
            ]
        for label, v in variants:
            if label.endswith("branch-balanced") and not v.residual:
                continue
            conv, held = agreement(model, v, x, y), agreement(model, v, *test)
            line = (
                f"{name:8s} {label:40s} agreement conversion set {conv['ann_vs_rate']:.4f} (unclamped "
                f"{conv['ann_vs_rate_unclamped']:.4f})  test {held['ann_vs_rate']:.4f}  rate-model test accuracy "
                f"{held['rate_accuracy']:.4f} (ANN {held['ann_accuracy']:.4f})"
            )
            if label == norm and not spec.adjust:
                line += "  [target >= 0.995: " + ("met" if conv["ann_vs_rate"] >= TARGET else "MISSED") + "]"
            print(line, flush=True)
        if spiking_t and not spec.adjust:
            xt, _ = test
            with torch.no_grad():
                ann = model(xt).argmax(1)
            res = simulate(net, xt, ann, spiking_t, **sim_args(encoding="constant", device="cpu", compile="false"))
            print(
                f"{name:8s} {norm:40s} spiking (constant input) agreement with the ANN on {len(xt)} test images: "
                f"T={spiking_t // 10} {res.accuracy[spiking_t // 10 - 1]:.4f}  T={spiking_t} {res.accuracy[-1]:.4f}",
                flush=True,
            )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dataset", default="digits", choices=("digits", "mnist", "fashion_mnist", "cifar10_jpeg"))
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--train", type=int, default=20000, help="training images (a subset)")
    ap.add_argument("--test", type=int, default=2000, help="test images for the held-out agreement")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--norm-set", type=int, default=2000, help="conversion (normalization) set size")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--channels", type=int, nargs=3, default=(16, 32, 64))
    ap.add_argument("--spiking-T", type=int, default=0, help="also simulate the bases for this many steps")
    ap.add_argument("--control", action="store_true", help="a plain BN CNN converted the same way")
    ap.add_argument("--norms", nargs="+", default=list(NORMS), help="norms to convert with")
    ap.add_argument("--no-onednn", action="store_true", help="torch's native CPU kernels instead of oneDNN")
    ap.add_argument("--smoke", action="store_true", help="digits, 1 epoch, narrow net (checks that the script runs)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    # torch 2.13's CPU oneDNN kernels corrupted the heap ("corrupted double-linked list") in about half of the
    # runs that trained resnet8 on digits in one process with the dataset loading; the native kernels did not.
    torch.backends.mkldnn.enabled = not args.no_onednn
    print_header("bench_resnet_agreement")
    if args.smoke:
        args.dataset, args.epochs, args.channels, args.norm_set, args.test = "digits", 1, (4, 8, 8), 200, 100
    ds, _ = prepare_dataset(
        args.dataset, dataset_args(args.dataset, subset_train=args.train, subset_test=args.test), args.data_dir
    )
    x, idx = norm_set(ds.x_train, args.norm_set, 0)
    y = ds.y_train[idx]
    test = (ArrayDataset.as_float(ds.x_test), ds.y_test)
    options = {"preset": "resnet8", "channels": list(args.channels)}
    macs, neurons = resnet_cost(ds.shape, RESNET_PRESETS["resnet8"], list(args.channels))
    print(f"resnet8 {args.channels} on {args.dataset} {ds.shape}: {macs / 1e6:.2f} M MACs, {neurons} neurons per image")
    evaluate("resnet8", train(ds, "resnet", options, args.epochs, args.threads), x, y, test, args.spiking_T, args.norms)
    if args.control:
        cnn = {"channels": [args.channels[0], args.channels[1], args.channels[2]], "kernel": 3, "hidden": 0}
        cnn.update({"batchnorm": True, "dropout": 0.0})
        evaluate("cnn-bn", train(ds, "cnn", cnn, args.epochs, args.threads), x, y, test, 0, args.norms)
    print("ratio: see the agreement lines above (conversion-set agreement, target >= 0.995)")


if __name__ == "__main__":
    main()
