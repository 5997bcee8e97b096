"""The GPU check: one command, at most a few minutes on one GPU, a JSON file and a table row for docs/benchmarks.md.

Usage::

    python bench/gpu_check.py                         # on CUDA (the device tool's machine)
    python bench/gpu_check.py --device cpu --smoke    # a tiny CNN on the CPU: what CI runs, so the script cannot rot

Sections (each one is timed and recorded; a failing section is reported and the others still run):

1. ``tests``: the CUDA tests of the suite (pytest ``-k cuda`` on the simulator's test files).
2. ``stream``: the input spikes of 1,000 images × 50 steps bit-equal on the CPU and the device, from the eager
   encoder and from the compiled stream function.
3. ``curves``: the same converted nets simulated on the CPU and on the device, eager and compiled: accuracy
   curves and rates within float tolerance (float32 and float64).
4. ``speed``: images·timesteps per second and (simulation step) ÷ (one ANN forward on the same batch), eager and
   compiled, with the compile seconds, for the MNIST MLP and CNN and the CIFAR VGG of bench/bench_simulator.py.

The nets are seeded random weights converted with 'max' normalization on synthetic images (no data needed).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(REPO))
from bench_simulator import SPECS, build_net, fake_images  # noqa: E402

from snnconv.defaults import sim_args  # noqa: E402
from snnconv.simulate import PoissonEncoder, simulate, stream  # noqa: E402

# Batches on the device: large enough to fill an H200 (memory: the VGG's conv outputs are the largest).
DEVICE_BATCH = {"mlp": 10_000, "cnn": 5_000, "vgg": 1_000}
SMOKE_BATCH = {"mlp": 64, "cnn": 32, "vgg": 16}


def sync(device: torch.device) -> None:
    """Wait for the device's queued work (timing on CUDA needs it)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(fn: Any, device: torch.device, reps: int) -> float:
    """Best-of-``reps`` wall seconds of ``fn()``, the device synchronized around each call."""
    best = float("inf")
    for _ in range(reps):
        sync(device)
        start = time.perf_counter()
        fn()
        sync(device)
        best = min(best, time.perf_counter() - start)
    return best


def section_tests(device: torch.device) -> dict[str, Any]:
    """Run the suite's CUDA tests (they skip without a GPU); returns pytest's summary line and exit code."""
    files = [
        "tests/unit/simulate/test_simulate_stream.py",
        "tests/unit/simulate/test_simulate_devices.py",
        "tests/integration/test_compiled_step.py",
    ]
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-k", "cuda", *files]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=240)
    lines = [l for l in proc.stdout.splitlines() if l.strip()]
    summary = lines[-1] if lines else proc.stderr[-500:]
    ok = proc.returncode == 0 or (device.type != "cuda" and proc.returncode == 5)  # 5: all deselected/skipped
    if proc.returncode not in (0, 5):
        print(proc.stdout[-3000:], proc.stderr[-2000:], sep="\n", flush=True)
    return {"ok": bool(ok), "returncode": proc.returncode, "summary": summary}


def section_stream(device: torch.device, smoke: bool) -> dict[str, Any]:
    """Input spikes of 1,000 images × 50 steps (fewer in smoke mode) on the CPU and the device, bit for bit."""
    n, steps = (64, 10) if smoke else (1000, 50)
    images = fake_images(n, (3, 32, 32))
    ids = torch.arange(5000, 5000 + n)
    cpu = PoissonEncoder(images, seed=7, image_ids=ids).block(steps)
    dev_eager = PoissonEncoder(images, seed=7, image_ids=ids, device=device).block(steps).cpu()
    base, r = stream.image_keys(ids.to(device), 7, images[0].numel())
    limit = stream.spike_limits(images.to(device), 1.0)
    fn = torch.compile(stream.spikes_at)
    t = torch.zeros((), dtype=torch.int32, device=device)
    compiled = []
    for step in range(1, steps + 1):
        t.fill_(step)
        compiled.append(fn(t, base, limit, r).to(torch.float32).cpu())
    dev_compiled = torch.stack(compiled).reshape(cpu.shape)
    return {
        "images": n,
        "steps": steps,
        "spikes": int(cpu.sum()),
        "eager_equal": bool(torch.equal(cpu, dev_eager)),
        "compiled_equal": bool(torch.equal(cpu, dev_compiled)),
        "ok": bool(torch.equal(cpu, dev_eager) and torch.equal(cpu, dev_compiled)),
    }


def section_curves(device: torch.device, smoke: bool) -> dict[str, Any]:
    """CPU float64 reference vs the device, eager and compiled, float32 and float64: max curve and rate gaps."""
    out: dict[str, Any] = {"ok": True}
    T = 10 if smoke else 50
    for name in ("cnn",) if smoke else ("mlp", "cnn"):
        n = 64 if smoke else 1000
        x = fake_images(max(n, 200), SPECS[name]["shape"])
        net = build_net(name, x, smoke)
        x = x[:n]
        y = torch.randint(0, 10, (n,), generator=torch.Generator().manual_seed(0))
        ref = simulate(net, x, y, T, **sim_args(batch_size=n, device="cpu", dtype=torch.float64, compile="false"))
        for dtype in (torch.float32, torch.float64):
            for engine in ("false", "true") if not smoke or dtype == torch.float32 else ("false",):
                res = simulate(net, x, y, T, **sim_args(batch_size=n, device=device, dtype=dtype, compile=engine))
                key = f"{name}_{str(dtype).split('.')[-1]}_{'compiled' if engine == 'true' else 'eager'}"
                acc = float(np.abs(res.accuracy - ref.accuracy).max())
                rate = float(np.abs(res.rates - ref.rates).max())
                ok = acc <= 0.01 + 1e-12 and rate <= 1e-3
                out[key] = {"max_accuracy_gap": acc, "max_rate_gap": rate, "ok": ok}
                out["ok"] = out["ok"] and ok
    return out


def speed_of_net(name: str, device: torch.device, batch: int, smoke: bool, T: int) -> dict[str, Any]:
    """One net: ANN forward (faster layout), then per engine the step time, the ratio and the compile seconds."""
    torch._dynamo.reset()  # each net's compile is timed from a clean in-memory cache
    x = fake_images(max(batch, 200), SPECS[name]["shape"])
    net = build_net(name, x, smoke)
    x = x[:batch].to(device)
    y = torch.zeros(batch, dtype=torch.int64, device=device)
    dev_net = net.to(device)
    with torch.inference_mode():
        x_cl = x.contiguous(memory_format=torch.channels_last) if x.ndim == 4 else x
        ann = min(
            timed(lambda: dev_net.rate_forward(x), device, 5), timed(lambda: dev_net.rate_forward(x_cl), device, 5)
        )
    row: dict[str, Any] = {"batch": batch, "T": T, "ann_ms": ann * 1e3}
    for engine in ("false", "true"):
        first = simulate(
            net, x, y, 2, **sim_args(batch_size=batch, device=device, compile=engine)
        )  # compiles, warms up
        step = (
            timed(
                lambda e=engine: simulate(net, x, y, T, **sim_args(batch_size=batch, device=device, compile=e)),
                device,
                2,
            )
            / T
        )
        row["compiled" if engine == "true" else "eager"] = {
            "step_ms": step * 1e3,
            "step_per_ann": step / ann,
            "image_steps_per_s": batch / step,
            "compile_s": first.compile_seconds,
            "engine": first.settings["engine"],
        }
    return row


def section_speed(device: torch.device, smoke: bool, nets: list[str], T: int) -> dict[str, Any]:
    """Per net: ANN forward, eager and compiled step times on one batch, images·timesteps/s and the ratios."""
    out: dict[str, Any] = {}
    for name in nets:
        row = speed_of_net(name, device, (SMOKE_BATCH if smoke else DEVICE_BATCH)[name], smoke, T)
        out[name] = row
        print(f"speed {name}: {json.dumps(row)}", flush=True)
    return out


def table_row(report: dict[str, Any]) -> str:
    """The docs/benchmarks.md row: device, stream equality, curves, and per net the compiled step ÷ ANN forward."""
    cells = [report["machine"]["device_name"], f"torch {report['machine']['torch']}"]
    cells.append("stream bit-equal" if report.get("stream", {}).get("ok") else "stream DIFFERS")
    cells.append("curves within tolerance" if report.get("curves", {}).get("ok") else "curves OUT OF TOLERANCE")
    for name, row in report.get("speed", {}).items():
        if isinstance(row, dict) and "compiled" in row:
            c, e = row["compiled"], row["eager"]
            cells.append(
                f"{name} b{row['batch']}: compiled {c['step_per_ann']:.2f} / eager {e['step_per_ann']:.2f} ANN fwd, "
                f"{c['image_steps_per_s']:.3g} img·steps/s, compile {c['compile_s']:.0f} s"
            )
    cells.append(f"tests: {report.get('tests', {}).get('summary', 'not run')}")
    return "| " + " | ".join(cells) + " |"


def main(argv: list[str] | None = None) -> int:
    """Run the sections, write the JSON report, print the table row; exit 1 if a check failed."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cuda", help="cuda (default) or cpu")
    ap.add_argument(
        "--smoke", action="store_true", help="tiny nets and sizes (seconds; what CI runs with --device cpu)"
    )
    ap.add_argument("--out", default="results/bench/gpu_check.json", help="the JSON report")
    ap.add_argument("--nets", nargs="+", default=None, choices=sorted(SPECS), help="default: all; smoke: cnn")
    ap.add_argument("--T", type=int, default=None, help="steps per timed simulation (default 50; smoke 5)")
    ap.add_argument("--skip", nargs="*", default=[], choices=["tests", "stream", "curves", "speed"])
    args = ap.parse_args(argv)
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        print("gpu_check: no CUDA device visible; run with --device cpu", flush=True)
        return 2
    torch.set_num_threads(min(8, os.cpu_count() or 1))
    report: dict[str, Any] = {
        "machine": {
            "device": str(device),
            "device_name": torch.cuda.get_device_name(device)
            if device.type == "cuda"
            else platform.processor() or "cpu",
            "torch": torch.__version__,
            "cuda": torch.version.cuda,
            "python": platform.python_version(),
            "cpu_threads": torch.get_num_threads(),
        },
        "argv": sys.argv[1:],
    }
    print(f"# gpu_check: {json.dumps(report['machine'])}", flush=True)
    T = args.T or (5 if args.smoke else 50)
    sections = {
        "tests": lambda: section_tests(device),
        "stream": lambda: section_stream(device, args.smoke),
        "curves": lambda: section_curves(device, args.smoke),
        "speed": lambda: section_speed(device, args.smoke, args.nets or (["cnn"] if args.smoke else list(SPECS)), T),
    }
    failed = []
    started = time.perf_counter()
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    for name, run in sections.items():
        if name in args.skip:
            continue
        begin = time.perf_counter()
        try:
            report[name] = run()
        except Exception as exc:  # report it and go on: one broken section must not hide the others
            report[name] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        report[name]["seconds"] = round(time.perf_counter() - begin, 1)
        if report[name].get("ok") is False:
            failed.append(name)
        print(f"section {name}: {json.dumps(report[name])}", flush=True)
        out.write_text(json.dumps(report, indent=2) + "\n")  # after every section: a killed run keeps the rest
    report["seconds"] = round(time.perf_counter() - started, 1)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(table_row(report), flush=True)
    print(f"gpu_check: {len(failed)} failed {failed} in {report['seconds']} s; report {out}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
