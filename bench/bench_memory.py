"""Peak memory of the simulator: MNIST-shaped input, random MLP/CNN SpikingNetwork, one subprocess per setting.

Usage::

    python bench/bench_memory.py            # default chunking + T/N checks + batch_size/time_chunk scaling
    python bench/bench_memory.py --smoke    # one small setting
    python bench/bench_memory.py --headline-T 1000   # the full 10,000 images x T=1000 (long on 2 cores)

Each setting runs in a fresh ``python`` child that builds the net and the images, records its resident
set (VmRSS) just before :func:`snnconv.simulate.simulate`, simulates, and reports the peak resident set
(``ru_maxrss``, = VmHWM) afterwards. ``sim`` = peak − before: what the simulation itself added.
The simulator's docstring predicts about 3 × batch_size × time_chunk × (largest layer) values; that
prediction is printed next to each measurement. Memory must not grow with T (membranes are carried
across time chunks, results are per-step counters) nor with N (batches run one after the other); the
script checks both with pairs of settings that differ only in T or only in N, then measures the
headline: 10,000 MNIST-test-sized images with the default chunking (batch_size 500, time_chunk 50).
Then the CNN (16c5-p2-32c5-p2-128-10, largest layer 16×28×28) at time_chunk 50, 10 and 1.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import print_header  # noqa: E402

REPO = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, resource, sys, time
import torch
from snnconv.defaults import sim_args
from snnconv.network import SpikingLayer, SpikingNetwork
from snnconv.simulate import simulate

arch, N, T, batch, chunk, threads, width = sys.argv[1], *map(int, sys.argv[2:8])
torch.set_num_threads(threads)
g = torch.Generator().manual_seed(0)

def rss_kib():
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])

def layer(op, w, pre, spiking, name):
    return SpikingLayer(op, w, torch.zeros(w.shape[0]), torch.ones(w.shape[0]), pre, spiking, name)

if arch == "mlp":  # 784-W-W-10, He init scaled down so rates stay moderate
    sizes = (784, width, width, 10)
    layers = [layer({"type": "linear"}, torch.randn(b, a, generator=g) * (1.0 / a) ** 0.5,
                    [{"type": "flatten"}] if i == 0 else [], i < 2, f"fc{i + 1}")
              for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:]))]
    largest = width
else:  # conv5(W)-p2-conv5(2W)-p2-fc128-fc10
    c1, c2 = width, 2 * width
    conv = {"type": "conv2d", "stride": 1, "padding": 2}
    pool = {"type": "avgpool", "kernel_size": 2}
    layers = [layer(dict(conv), torch.randn(c1, 1, 5, 5, generator=g) * 0.2, [], True, "conv1"),
              layer(dict(conv), torch.randn(c2, c1, 5, 5, generator=g) * (1.0 / (25 * c1)) ** 0.5, [dict(pool)], True, "conv2"),
              layer({"type": "linear"}, torch.randn(128, c2 * 49, generator=g) * (1.0 / (c2 * 49)) ** 0.5,
                    [dict(pool), {"type": "flatten"}], True, "fc1"),
              layer({"type": "linear"}, torch.randn(10, 128, generator=g) * 0.1, [], False, "fc2")]
    largest = c1 * 28 * 28
net = SpikingNetwork(layers, (1, 28, 28))
images = torch.rand(N, 1, 28, 28, generator=g) * (torch.rand(N, 1, 28, 28, generator=g) < 0.2)  # ~10% mean rate
labels = torch.randint(0, 10, (N,), generator=g)
before = rss_kib()
start = time.perf_counter()
res = simulate(net, images, labels, T, **sim_args(batch_size=batch, time_chunk=chunk, device="cpu"))
sec = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
print(json.dumps({"before_mib": before / 1024, "peak_mib": peak / 1024, "seconds": sec, "largest": largest,
                  "rate": float(res.rates[:, -1].mean())}))
"""


def measure(arch: str, N: int, T: int, batch: int, chunk: int, threads: int, width: int) -> dict:
    """Run one setting in a child process and return its JSON report."""
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, arch, *map(str, (N, T, batch, chunk, threads, width))],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"child failed for {arch} N={N} T={T} batch={batch} chunk={chunk}:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def report(arch: str, N: int, T: int, batch: int, chunk: int, threads: int, width: int) -> dict:
    """Measure and print one line; returns the row."""
    r = measure(arch, N, T, batch, chunk, threads, width)
    sim = r["peak_mib"] - r["before_mib"]
    pred = 3 * min(batch, N) * min(chunk, T) * r["largest"] * 4 / 2**20
    print(
        f"memory {arch} N={N:6d} T={T:5d} batch_size={batch:5d} time_chunk={chunk:4d}: peak RSS "
        f"{r['peak_mib']:8.1f} MiB, before simulate {r['before_mib']:7.1f} MiB, sim +{sim:7.1f} MiB "
        f"(3·B·chunk·largest·4 B = {pred:7.1f} MiB; ratio {sim / pred:4.2f}) [{r['seconds']:.1f} s]",
        flush=True,
    )
    return {"arch": arch, "N": N, "T": T, "batch": batch, "chunk": chunk, "sim_mib": sim, "pred_mib": pred, **r}


def main(argv: list[str] | None = None) -> int:
    """Run the settings and print the T/N-independence checks and the scaling table."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--headline-N", type=int, default=10000, help="images in the headline setting")
    ap.add_argument("--headline-T", type=int, default=50, help="T of the headline setting (1000 = full, slow)")
    ap.add_argument("--no-cnn", action="store_true", help="skip the CNN (16c5-p2-32c5-p2-128-10) settings")
    args = ap.parse_args(argv)
    print_header("bench_memory")
    th = args.threads
    if args.smoke:  # one child: measured vs predicted for a small MLP (T/N checks need the full run)
        a = report("mlp", 400, 20, 200, 10, 1, 1200)
        print(f"RATIO memory (smoke) measured / predicted = {a['sim_mib'] / a['pred_mib']:.2f}")
        return 0

    W = 1200
    # T- and N-independence at the default chunking: same batch/chunk, T doubled, N doubled.
    base = report("mlp", 500, 100, 500, 50, th, W)
    t2 = report("mlp", 500, 200, 500, 50, th, W)
    n2 = report("mlp", 1000, 100, 500, 50, th, W)
    print(f"RATIO memory T-independence: sim(T=200) / sim(T=100) = {t2['sim_mib'] / base['sim_mib']:.2f} (expected ~1)")
    print(
        f"RATIO memory N-independence: sim(N=1000, 2 batches) / sim(N=500, 1 batch) = "
        f"{n2['sim_mib'] / base['sim_mib']:.2f} (expected ~1; the images themselves are allocated before 'before')"
    )
    # Scaling with batch_size (chunk 50) and time_chunk (batch 500): one batch, two chunks each.
    rows = []
    for batch in (100, 250, 1000):
        rows.append(report("mlp", batch, 100, batch, 50, th, W))
    for chunk in (10, 25, 100):
        rows.append(report("mlp", 500, 2 * chunk, 500, chunk, th, W))
    rows.append(base)
    fit = sum(r["sim_mib"] for r in rows) / sum(r["pred_mib"] for r in rows)
    print(f"RATIO memory measured / predicted (3·B·chunk·largest·4 B) over the batch/chunk grid = {fit:.2f}")
    head = report("mlp", args.headline_N, args.headline_T, 500, 50, th, W)
    print(
        f"memory headline: MLP 784-1200-1200-10, {args.headline_N} images, T={args.headline_T}, batch_size 500, "
        f"time_chunk 50: peak RSS {head['peak_mib']:.0f} MiB (simulation +{head['sim_mib']:.0f} MiB)"
    )
    if not args.no_cnn:  # largest layer 16×28×28 = 12,544 values per sample: chunking matters far more
        for T, chunk in ((100, 50), (100, 10), (20, 1)):
            report("cnn", 500, T, 500, chunk, th, 16)
    return 0


if __name__ == "__main__":
    sys.exit(main())
