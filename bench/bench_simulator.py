"""Simulator speed relative to its floor: (time per simulated step) ÷ (one ANN forward on the same batch).

Usage: ``python bench/bench_simulator.py [--smoke] [--threads 1 2] [--time-chunk 50]``. Builds random
MNIST-shaped nets (MLP 784-1200-1200-10, CNN 16c5-p2-32c5-p2-128-10), batch 1000, T=100, and also
measures one all-T pass versus re-simulating for each T in {10, 20, 50, 100, 200, 500, 1000}.
"""

from __future__ import annotations

import argparse
import time

import torch

from snnconv.network import SpikingLayer, SpikingNetwork
from snnconv.simulate import simulate

T_GRID = (10, 20, 50, 100, 200, 500, 1000)


def _normalise(net: SpikingNetwork, x: torch.Tensor) -> SpikingNetwork:
    """Set each threshold to the 99.9th percentile of its layer's activation (data-based normalisation)."""
    with torch.inference_mode():
        for layer in net.layers:
            z = layer.current(x)
            if layer.spiking:
                q = float(torch.quantile(z.flatten()[:1 << 24][::7], 0.999))
                layer.threshold = torch.full_like(layer.threshold, q)
                x = torch.relu(z / layer.threshold_view(z.ndim)).clamp(max=1)
    return net


def mlp_net(x: torch.Tensor, hidden: tuple[int, ...] = (1200, 1200)) -> SpikingNetwork:
    """Random 784-1200-1200-10 MLP (He-scaled weights, small biases)."""
    g = torch.Generator().manual_seed(0)
    sizes, layers = (784, *hidden, 10), []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(SpikingLayer({"type": "linear"}, torch.randn(b, a, generator=g) * (2 / a) ** 0.5,
                                   torch.randn(b, generator=g) * 0.01, torch.ones(b),
                                   [{"type": "flatten"}] if i == 0 else [], i < len(sizes) - 2, f"fc{i + 1}"))
    return _normalise(SpikingNetwork(layers, (1, 28, 28)), x)


def cnn_net(x: torch.Tensor, channels: tuple[int, int] = (16, 32), hidden: int = 128) -> SpikingNetwork:
    """Random MNIST CNN: conv5(16)-avgpool2-conv5(32)-avgpool2-fc128-fc10."""
    g = torch.Generator().manual_seed(0)
    conv = {"type": "conv2d", "stride": 1, "padding": 2}
    pool = {"type": "avgpool", "kernel_size": 2}
    c1, c2 = channels
    rnd = lambda *s: torch.randn(*s, generator=g) * (2 / (s[1] * (s[2] if len(s) > 2 else 1) ** 2)) ** 0.5
    layers = [SpikingLayer(dict(conv), rnd(c1, 1, 5, 5), torch.zeros(c1), torch.ones(c1), [], True, "conv1"),
              SpikingLayer(dict(conv), rnd(c2, c1, 5, 5), torch.zeros(c2), torch.ones(c2), [dict(pool)], True, "conv2"),
              SpikingLayer({"type": "linear"}, rnd(hidden, c2 * 49), torch.zeros(hidden), torch.ones(hidden),
                           [dict(pool), {"type": "flatten"}], True, "fc1"),
              SpikingLayer({"type": "linear"}, rnd(10, hidden), torch.zeros(10), torch.ones(10), [], False, "fc2")]
    return _normalise(SpikingNetwork(layers, (1, 28, 28)), x)


def fake_mnist(n: int) -> torch.Tensor:
    """MNIST-like images: ~19% bright pixels in a central blob, rest black."""
    g = torch.Generator().manual_seed(1)
    yy, xx = torch.meshgrid(torch.arange(28.0), torch.arange(28.0), indexing="ij")
    blob = (((yy - 14) ** 2 + (xx - 14) ** 2) < 110).float()
    ink = (torch.rand(n, 1, 28, 28, generator=g) * blob * 1.3).clamp(0, 1)
    return ink * (torch.rand(n, 1, 28, 28, generator=g) < 0.6)


def clock(fn, reps: int = 1) -> tuple[float, float]:
    """Best-of-``reps`` (wall seconds, process CPU seconds) of ``fn()``."""
    wall, cpu = float("inf"), float("inf")
    for _ in range(reps):
        w, c = time.perf_counter(), time.process_time()
        fn()
        wall, cpu = min(wall, time.perf_counter() - w), min(cpu, time.process_time() - c)
    return wall, cpu


def ann_seconds(net: SpikingNetwork, x: torch.Tensor, reps: int) -> tuple[float, float]:
    """Best (wall, CPU) time of one ``rate_forward`` on the batch."""
    with torch.inference_mode():
        net.rate_forward(x)
        return clock(lambda: net.rate_forward(x), reps)


def sim_seconds(net: SpikingNetwork, x: torch.Tensor, T: int, time_chunk: int, reps: int = 1,
                **kw) -> tuple[float, float]:
    """Best (wall, CPU) time of one T-step simulation of the whole batch."""
    y = torch.zeros(len(x), dtype=torch.int64)
    return clock(lambda: simulate(net, x, y, T, batch_size=len(x), time_chunk=time_chunk, device="cpu", **kw), reps)


def floor_ratio(name: str, net: SpikingNetwork, x: torch.Tensor, T: int, time_chunk: int, threads: int,
                reps: int) -> None:
    """Print (simulation time per step) ÷ (ANN forward time), Poisson and constant input.

    ANN and simulation runs alternate ``reps`` times and the best of each is kept, so that load from
    other processes hits both sides alike. Process CPU time is printed too: on a shared machine it is the
    steadier measure for one thread (it counts spin-waiting of idle OpenMP threads for two).
    """
    torch.set_num_threads(threads)
    for enc in ("poisson", "constant"):
        ann, step = (float("inf"),) * 2, (float("inf"),) * 2
        for _ in range(reps):
            ann = tuple(map(min, ann, ann_seconds(net, x, 3)))
            step = tuple(map(min, step, (s / T for s in sim_seconds(net, x, T, time_chunk, encoding=enc))))
        print(f"{name:4s} threads={threads} batch={len(x)} T={T} chunk={time_chunk} {enc:8s}: "
              f"ANN {ann[0] * 1e3:7.2f} ms, sim {step[0] * 1e3:7.2f} ms/step, wall ratio {step[0] / ann[0]:5.2f} "
              f"(CPU-time ratio {step[1] / ann[1]:5.2f})", flush=True)


def all_t_ratio(name: str, net: SpikingNetwork, x: torch.Tensor, grid: tuple[int, ...], time_chunk: int) -> None:
    """Print the time of one pass to max(grid) versus one separate run per T in the grid."""
    one = sim_seconds(net, x, max(grid), time_chunk)[0]
    each = sum(sim_seconds(net, x, T, time_chunk)[0] for T in grid)
    print(f"{name:4s} batch={len(x)} all-T pass (T={max(grid)}) {one:6.2f} s vs re-simulating each T in {grid} "
          f"{each:6.2f} s: speed-up {each / one:4.2f}x", flush=True)


def main() -> None:
    """Parse options and run the benchmark."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--smoke", action="store_true", help="tiny version, < 10 s")
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--time-chunk", type=int, default=None, help="default: 50 (MLP), 10 (CNN)")
    ap.add_argument("--nets", nargs="+", default=["mlp", "cnn"])
    ap.add_argument("--reps", type=int, default=3, help="alternating ANN/simulation repetitions (best kept)")
    ap.add_argument("--no-grid", action="store_true", help="skip the all-T comparison")
    ap.add_argument("--grid-batch", type=int, default=100, help="batch for the all-T comparison")
    args = ap.parse_args()
    batch, T, reps, grid = (1000, 100, args.reps, T_GRID) if not args.smoke else (64, 20, 1, (5, 10, 20))
    x = fake_mnist(batch)
    for name in args.nets:
        net = mlp_net(x) if name == "mlp" else cnn_net(x)
        if args.smoke:
            net = mlp_net(x, (64, 64)) if name == "mlp" else cnn_net(x, (4, 8), 32)
        chunk = args.time_chunk or (50 if name == "mlp" else 10)
        for threads in args.threads:
            floor_ratio(name, net, x, T, chunk, threads, reps)
        torch.set_num_threads(max(args.threads))
        if not args.no_grid:
            all_t_ratio(name, net, x[: (16 if args.smoke else args.grid_batch)], grid, chunk)


if __name__ == "__main__":
    main()
