"""Conversion cost of config/paper.yaml's norm set on its largest model: per-norm conversion (each norm measures
its own base on the normalization set, the earlier layout) versus one normalization record per base shared
by every norm on it (rule ``normalize``, docs/method.md §C10).

Usage: ``python bench/bench_conversion.py [--images 256] [--threads 1] [--smoke]``.

The paper's VGG (64,64,P,128,128,P,256,256,P, fc 512, batch norm folded; seeded random weights) on CIFAR-shaped
images. Both layouts are timed in this run on ``--images`` normalization images; every cost is linear in the
number of images, so the paper's totals (norm_set_size 10,000) are extrapolated from the measured seconds per
image. The old layout also checked agreement on the whole normalization set; the new one on the first
``settings.AGREEMENT_IMAGES``.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import print_header, timed  # noqa: E402

from snnconv.convert import parse_norm, resolve_norms  # noqa: E402
from snnconv.convert.activations import input_rate_sq_means  # noqa: E402
from snnconv.convert.files import agreement  # noqa: E402
from snnconv.convert.norms import compute_lambdas, rescale  # noqa: E402
from snnconv.convert.pipeline import BaseStatistics, base_statistics, build, prepare  # noqa: E402
from snnconv.defaults import arch_args, convert_args
from snnconv.models import build_model  # noqa: E402
from snnconv.network import SpikingNetwork  # noqa: E402
from snnconv.workflow.config import load_config  # noqa: E402
from snnconv.workflow.settings import AGREEMENT_IMAGES  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
# One norm per kind of work: the bases the paper measures, and an adjusted norm (its base's λ + rate statistics).
PROBES = ("none", "max", "p99.9", "model", "lp4_k-0.25_scale_max")


def paper_norms() -> tuple[list[str], int]:
    """Every canonical norm of config/paper.yaml and its normalization-set size."""
    cfg = load_config(REPO / "config" / "paper.yaml")
    return resolve_norms(cfg["conversion"]).names, int(cfg["conversion"]["norm_set_size"])


def per_norm_conversion(parsed, raw, spec, x):
    """The earlier layout: λ of the norm's own base, and the rate statistics only for an adjustment."""
    lams = compute_lambdas(spec, raw, x, [False] * len(raw.layers))
    rho = input_rate_sq_means(SpikingNetwork(rescale(raw.layers, lams), raw.input_shape), x) if spec.adjust else []
    return build(parsed, raw, spec, BaseStatistics(spec.base_name, lams, rho, [False] * len(raw.layers), len(x)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--images", type=int, default=256, help="normalization images timed here")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--smoke", action="store_true", help="a tiny VGG and 32 images (checks that the script runs)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    print_header("conversion: per-norm vs shared per-base normalization")
    n = 32 if args.smoke else args.images
    cfg = [8, "P", 16, "P"] if args.smoke else [64, 64, "P", 128, 128, "P", 256, 256, "P"]
    torch.manual_seed(0)
    model = build_model(
        "vgg", (3, 32, 32), 10, **arch_args("vgg", cfg=cfg, hidden=32 if args.smoke else 512, batchnorm=True)
    ).eval()
    with torch.no_grad():  # non-trivial BN statistics, as after training
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 1.5)
    x = torch.rand(n, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    y = torch.randint(0, 10, (n,), generator=torch.Generator().manual_seed(2)).numpy()
    parsed, raw = prepare(model, x, convert_args()["maxpool_to_avgpool"])
    t_pass, _ = timed(lambda: raw.rate_forward(x, clamp=False))

    old, base_s, build_s, agree_s, records = {}, {}, {}, {}, {}
    for norm in PROBES:
        spec = parse_norm(norm)
        old[norm], net = timed(
            lambda spec=spec: build(parsed, raw, spec, base_statistics(raw, x, spec.base_name, False))
        )
        agree_s[norm], _ = timed(lambda net=net: agreement(model, net, x, y))
        old[norm] += agree_s[norm]  # per norm: its base measured, then agreement on the whole set
        if spec.base_name not in base_s:
            base_s[spec.base_name], records[spec.base_name] = timed(
                lambda spec=spec: base_statistics(raw, x, spec.base_name, False)
            )
        build_s[norm], _ = timed(lambda spec=spec: build(parsed, raw, spec, records[spec.base_name]))
    print(f"VGG, {n} normalization images, {args.threads} thread(s); one rate-model pass {t_pass:.2f} s")
    print(f"{'norm':24s} {'per-norm (s)':>12s} {'(passes)':>8s} {'build (s)':>10s} {'agreement (s)':>14s}")
    for norm in PROBES:
        print(f"{norm:24s} {old[norm]:12.2f} {old[norm] / t_pass:8.2f} {build_s[norm]:10.3f} {agree_s[norm]:14.2f}")
    print(
        "shared base records (seconds, passes): "
        + ", ".join(f"{b} {s:.2f} ({s / t_pass:.2f})" for b, s in base_s.items())
    )

    names, size = paper_norms()
    bases = Counter(parse_norm(m).base_name for m in names)

    def probe(name: str) -> str:
        """The timed norm doing the same work as ``name`` (percentile bases cost what p99.9 costs)."""
        spec = parse_norm(name)
        if spec.adjust:
            return "lp4_k-0.25_scale_max"
        return spec.base_name if spec.base_name in PROBES else "p99.9"

    scale, agree_scale = size / n, min(AGREEMENT_IMAGES, size) / n
    old_total = sum(old[probe(m)] * scale for m in names)
    new_records = sum(base_s[probe(b)] * scale for b in bases)
    new_norms = sum(build_s[probe(m)] + agree_s[probe(m)] * agree_scale for m in names)
    print(
        f"\nconfig/paper.yaml, one VGG model: {len(names)} norms on {len(bases)} bases {dict(bases)}, "
        f"norm_set_size {size} (extrapolated linearly in images)"
    )
    print(
        f"per-norm layout: {old_total / 60:.1f} min; shared: records {new_records / 60:.1f} min + per-norm build "
        f"and agreement {new_norms / 60:.1f} min = {(new_records + new_norms) / 60:.1f} min"
    )
    print(f"ratio shared / per-norm = {(new_records + new_norms) / old_total:.4f}")


if __name__ == "__main__":
    main()
