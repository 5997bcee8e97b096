"""Simulator speed relative to its floor: (time per simulated step) ÷ (one ANN forward on the same batch).

Usage: ``python bench/bench_simulator.py [--smoke] [--threads 1 2] [--nets mlp cnn vgg] [--engines eager compiled]
[--profile]``.

Nets, built with :func:`snnconv.models.build_model` (seeded random weights) and converted with 'max'
normalization on the benchmark images, so the layer structure is exactly what the pipeline simulates:

* ``mlp``: 784-512-512-10 on 1×28×28, batch 1000;
* ``cnn``: 16c3-p2-32c3-p2-64-10 on 1×28×28 (the default CNN options), batch 500;
* ``vgg``: the VGG of config/paper.yaml (64,64,P,128,128,P,256,256,P, fc 512, batch norm folded) on 3×32×32,
  batch 100.

The floor is ``SpikingNetwork.rate_forward`` (the converted ANN) in its faster memory layout: the better of NCHW
and channels-last input, measured in the same loop. Both engines are timed: ``eager`` (the block engine) and
``compiled`` (one torch.compile'd step per time step; its compile seconds are printed). ANN and simulation runs
alternate ``--reps`` times and the best of each is kept. The input's share of a step (``RATIO input``) and one
all-T pass versus re-simulating for each T are printed too. The process keeps freed memory for reuse from the
start (snnconv.simulate.allocator), so the ANN and both engines run under the same allocator;
``--default-allocator`` measures under glibc's defaults instead.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import print_header  # noqa: E402

from snnconv.defaults import arch_args, convert_args, sim_args, stepwise_args
from snnconv.network import SpikingNetwork  # noqa: E402
from snnconv.simulate import simulate  # noqa: E402

T_GRID = (10, 20, 50, 100, 200, 500, 1000)
TARGETS = {"mlp": 1.2, "cnn": 0.6, "vgg": 1.0}
SPECS: dict[str, dict[str, Any]] = {
    "mlp": dict(
        arch="mlp",
        shape=(1, 28, 28),
        batch=1000,
        opts={"hidden": [512, 512], "dropout": 0.2},
        smoke_opts={"hidden": [64, 64]},
    ),
    "cnn": dict(
        arch="cnn",
        shape=(1, 28, 28),
        batch=500,
        opts={"channels": [16, 32], "kernel": 3, "hidden": 64, "dropout": 0.2},
        smoke_opts={"channels": [4, 8], "kernel": 3, "hidden": 32},
    ),
    "vgg": dict(
        arch="vgg",
        shape=(3, 32, 32),
        batch=100,
        opts={"cfg": [64, 64, "P", 128, 128, "P", 256, 256, "P"], "hidden": 512, "dropout": 0.2, "batchnorm": True},
        smoke_opts={"cfg": [8, "P", 16, "P"], "hidden": 32, "batchnorm": True},
    ),
}


def fake_images(n: int, shape: tuple[int, ...]) -> torch.Tensor:
    """MNIST-like images (single channel: ~19% bright pixels in a central blob) or CIFAR-like noise (3 channels)."""
    g = torch.Generator().manual_seed(1)
    c, h, w = shape
    if c == 3:
        return torch.rand(n, c, h, w, generator=g)
    yy, xx = torch.meshgrid(torch.arange(float(h)), torch.arange(float(w)), indexing="ij")
    blob = (((yy - h / 2) ** 2 + (xx - w / 2) ** 2) < 110).float()
    ink = (torch.rand(n, c, h, w, generator=g) * blob * 1.3).clamp(0, 1)
    return ink * (torch.rand(n, c, h, w, generator=g) < 0.6)


def build_net(name: str, x: torch.Tensor, smoke: bool) -> SpikingNetwork:
    """Seeded random ANN of the given spec, converted with 'max' normalization on ``x[:200]``."""
    from snnconv.convert import convert, parse_norm
    from snnconv.models import build_model

    spec = SPECS[name]
    opts = {**spec["opts"], **(spec["smoke_opts"] if smoke else {})}
    torch.manual_seed(0)
    model = build_model(spec["arch"], spec["shape"], 10, **arch_args(spec["arch"], **opts)).eval()
    return convert(model, x[:200], parse_norm("max", {}), **convert_args())


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


def sim_seconds(
    net: SpikingNetwork, x: torch.Tensor, T: int, time_chunk: int | None, reps: int = 1, **kw
) -> tuple[float, float]:
    """Best (wall, CPU) time of one T-step simulation of the whole batch (``time_chunk`` None: the default)."""
    y = torch.zeros(len(x), dtype=torch.int64)
    extra = {} if time_chunk is None else {"time_chunk": time_chunk}
    return clock(lambda: simulate(net, x, y, T, **sim_args(batch_size=len(x), device="cpu", **extra, **kw)), reps)


def compile_seconds(net: SpikingNetwork, x: torch.Tensor, **kw) -> float:
    """Seconds the first compiled simulation of this net and batch spends compiling (cold in-memory cache)."""
    torch._dynamo.reset()
    y = torch.zeros(len(x), dtype=torch.int64)
    return simulate(net, x, y, 2, **sim_args(batch_size=len(x), device="cpu", compile="true", **kw)).compile_seconds


def floor_ratio(
    name: str,
    net: SpikingNetwork,
    x: torch.Tensor,
    T: int,
    time_chunk: int | None,
    threads: int,
    reps: int,
    encodings: tuple[str, ...],
    engines: tuple[str, ...],
) -> None:
    """Print (simulation time per step) ÷ (ANN forward time in its faster layout), per encoding and engine.

    ANN and simulation runs alternate ``reps`` times and the best of each is kept, so that load from
    other processes hits both sides alike. Process CPU time is printed too: on a shared machine it is the
    steadier measure for one thread (it counts spin-waiting of idle OpenMP threads for two).
    """
    torch.set_num_threads(threads)
    x_cl = x.contiguous(memory_format=torch.channels_last) if x.ndim == 4 else x
    for enc in encodings:
        compiled_s = compile_seconds(net, x, encoding=enc) if "compiled" in engines else 0.0
        sim_seconds(net, x[: max(2, len(x) // 10)], 2, time_chunk, encoding=enc)  # warm-up: lazy init
        ann, ann_cl = (float("inf"),) * 2, (float("inf"),) * 2
        step = {e: (float("inf"),) * 2 for e in engines}
        for _ in range(reps):
            ann = tuple(map(min, ann, ann_seconds(net, x, 3)))
            ann_cl = tuple(map(min, ann_cl, ann_seconds(net, x_cl, 3)))
            for e in engines:
                flag = "true" if e == "compiled" else "false"
                run = sim_seconds(net, x, T, time_chunk, encoding=enc, compile=flag)
                step[e] = tuple(map(min, step[e], (v / T for v in run)))
        floor = min(ann, ann_cl)  # the faster layout (by wall time), its CPU time beside it
        layout = "NCHW" if ann[0] <= ann_cl[0] else "channels-last"
        for e in engines:
            ratio = step[e][0] / floor[0]
            ok = "met" if ratio <= TARGETS[name] else "MISSED"
            extra = f", compiled in {compiled_s:.1f} s" if e == "compiled" else ""
            print(
                f"RATIO floor {name:3s} {e:8s} threads={threads} batch={len(x)} T={T} {enc:8s}: ANN {floor[0] * 1e3:7.2f} "
                f"ms ({layout}; NCHW {ann[0] * 1e3:.2f}, channels-last {ann_cl[0] * 1e3:.2f}), sim {step[e][0] * 1e3:7.2f} "
                f"ms/step, wall ratio {ratio:5.2f} (CPU-time ratio {step[e][1] / floor[1]:5.2f}) target <= "
                f"{TARGETS[name]}: {ok}{extra}",
                flush=True,
            )


def eager_input_seconds(x: torch.Tensor, T: int, reps: int) -> float:
    """CPU seconds per step of the eager encoder's block (hash, comparison, spikes in float32)."""
    from snnconv.simulate.encoding import PoissonEncoder

    enc = PoissonEncoder(x, seed=0)
    enc.block(2)
    return min(clock(lambda: enc.block(T))[1] for _ in range(reps)) / T


def compiled_input_seconds(x: torch.Tensor, T: int, reps: int) -> float:
    """CPU seconds per step of the stream function compiled alone, writing float32 spikes."""
    from snnconv.simulate import stream

    base, r = stream.image_keys(torch.arange(len(x)), 0, x[0].numel())
    limit = stream.spike_limits(x, 1.0)
    fn = torch.compile(lambda t, b, lim, rr: stream.spikes_at(t, b, lim, rr).to(torch.float32))
    t = torch.zeros((), dtype=torch.int32)
    fn(t, base, limit, r)

    def steps() -> None:
        for k in range(1, T + 1):
            t.fill_(k)
            fn(t, base, limit, r)

    return min(clock(steps)[1] for _ in range(reps)) / T


def input_share(name: str, net: SpikingNetwork, x: torch.Tensor, T: int, reps: int, engines: tuple[str, ...]) -> None:
    """Print what the Poisson input alone costs per step, as a share of each engine's step (CPU time, one thread).

    Eager: the encoder's block (hash, comparison, spikes in the compute dtype). Compiled: the stream function
    compiled alone, writing float32 spikes (inside the step it is fused with the first layer's input).
    """
    n = len(x)
    for e in engines:
        flag = "true" if e == "compiled" else "false"
        sim_seconds(net, x, 2, None, compile=flag)  # warm-up (compiles if the cache was reset)
        step = min(sim_seconds(net, x, T, None, compile=flag)[1] for _ in range(reps))
        step /= T
        inp = (eager_input_seconds if e == "eager" else compiled_input_seconds)(x, T, reps)
        print(
            f"RATIO input {name:3s} {e:8s} batch={n}: Poisson input {inp * 1e3:6.2f} ms/step = {inp / step:5.1%} of "
            f"the {step * 1e3:.2f} ms step (CPU time, 1 thread) target <= 10%: {'met' if inp <= 0.1 * step else 'MISSED'}",
            flush=True,
        )


def all_t_ratio(name: str, net: SpikingNetwork, x: torch.Tensor, grid: tuple[int, ...], time_chunk: int | None) -> None:
    """Print the time of one pass to max(grid) versus one separate run per T in the grid."""
    one = sim_seconds(net, x, max(grid), time_chunk)[0]
    each = sum(sim_seconds(net, x, T, time_chunk)[0] for T in grid)
    print(
        f"{name:4s} batch={len(x)} all-T pass (T={max(grid)}) {one:6.2f} s vs re-simulating each T in {grid} "
        f"{each:6.2f} s: speed-up {each / one:4.2f}x",
        flush=True,
    )


def profile_step(name: str, net: SpikingNetwork, x: torch.Tensor, T: int, time_chunk: int | None, rows: int) -> None:
    """torch.profiler tables (self CPU time) of one T-step simulation per engine; the compiled one lists each
    generated kernel (inductor's kernel profile)."""
    import torch._inductor.config as inductor_config
    from torch.profiler import ProfilerActivity, profile

    y = torch.zeros(len(x), dtype=torch.int64)
    extra = {} if time_chunk is None else {"time_chunk": time_chunk}
    for engine in ("false", "true"):
        with inductor_config.patch({"cpp.enable_kernel_profile": True}):
            torch._dynamo.reset()
            simulate(net, x, y, 2, **sim_args(batch_size=len(x), device="cpu", compile=engine, **extra))
            with profile(activities=[ProfilerActivity.CPU]) as prof:
                simulate(net, x, y, T, **sim_args(batch_size=len(x), device="cpu", compile=engine, **extra))
        label = "compiled" if engine == "true" else "eager"
        print(f"--- profile {name} {label} batch={len(x)} T={T} threads={torch.get_num_threads()} (totals over T) ---")
        print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=rows), flush=True)


def float32_check(name: str, net: SpikingNetwork, x: torch.Tensor, T: int) -> None:
    """Print float32 fast path vs float64 step-by-step reference: max |accuracy| and |rate| differences."""
    import numpy as np

    from snnconv.simulate import simulate_stepwise

    y = torch.randint(0, 10, (len(x),), generator=torch.Generator().manual_seed(0))
    kw = dict(batch_size=len(x), device="cpu")
    f32 = simulate(net, x, y, T, **sim_args(dtype=torch.float32, **kw))
    f64 = simulate(net, x, y, T, **sim_args(dtype=torch.float64, **kw))
    ref = simulate_stepwise(net, x, y, T, **stepwise_args(dtype=torch.float64, **kw))
    same = np.array_equal(f64.accuracy, ref.accuracy) and np.array_equal(f64.rates, ref.rates)
    print(
        f"float32 {name} N={len(x)} T={T}: float64 fast == reference: {same}; float32 vs float64 reference: "
        f"max |accuracy diff| {np.abs(f32.accuracy - ref.accuracy).max():.4f}, max |rate diff| "
        f"{np.abs(f32.rates - ref.rates).max():.2e}",
        flush=True,
    )


def main() -> None:
    """Parse options and run the benchmark."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--smoke", action="store_true", help="tiny version, < 10 s")
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--time-chunk", type=int, default=None, help="default: simulate()'s default")
    ap.add_argument("--nets", nargs="+", default=["mlp", "cnn", "vgg"], choices=sorted(SPECS))
    ap.add_argument("--T", type=int, default=None, help="time steps per timed simulation (default 20; smoke 5)")
    ap.add_argument("--batch", type=int, default=None, help="override every net's batch")
    ap.add_argument("--reps", type=int, default=3, help="alternating ANN/simulation repetitions (best kept)")
    ap.add_argument("--encodings", nargs="+", default=["poisson", "constant"], choices=["poisson", "constant"])
    ap.add_argument("--engines", nargs="+", default=["eager", "compiled"], choices=["eager", "compiled"])
    ap.add_argument("--default-allocator", action="store_true", help="keep glibc's malloc defaults (no reuse)")
    ap.add_argument("--no-grid", action="store_true", help="skip the all-T comparison (batch --grid-batch)")
    ap.add_argument("--grid-batch", type=int, default=25, help="batch for the all-T comparison")
    ap.add_argument("--profile", action="store_true", help="print a torch.profiler table of one simulation per net")
    ap.add_argument(
        "--check-float32",
        type=int,
        default=0,
        metavar="N",
        help="also compare float32 vs the float64 reference on N images (T as given)",
    )
    args = ap.parse_args()
    print_header("bench_simulator")
    from snnconv.simulate import allocator

    if args.default_allocator:
        allocator._applied = False  # as if already tried: the compiled engine then leaves glibc's defaults alone
        print("# allocator: glibc's defaults (freed blocks above the mmap threshold go back to the system)", flush=True)
    else:
        print(f"# allocator: freed memory kept for reuse: {allocator.keep_freed_memory()}", flush=True)
    engines = tuple(args.engines)
    T = args.T or (5 if args.smoke else 20)
    reps = 1 if args.smoke else args.reps
    for name in args.nets:
        batch = args.batch or (32 if args.smoke else SPECS[name]["batch"])
        x = fake_images(max(batch, 200), SPECS[name]["shape"])
        net = build_net(name, x, args.smoke)
        x = x[:batch]
        for threads in args.threads:
            floor_ratio(name, net, x, T, args.time_chunk, threads, reps, tuple(args.encodings), engines)
        torch.set_num_threads(1)
        input_share(name, net, x, T, reps, engines)
        torch.set_num_threads(max(args.threads))
        if args.profile:
            profile_step(name, net, x, T, args.time_chunk, 14)
        if args.check_float32:
            float32_check(name, net, x[: args.check_float32], T)
        if not args.no_grid:
            grid = (5, 10, 20) if args.smoke else T_GRID
            all_t_ratio(name, net, x[: (16 if args.smoke else args.grid_batch)], grid, args.time_chunk)


if __name__ == "__main__":
    main()
