"""Run every benchmark (simulator, SpikingJelly comparison, pipeline overhead, memory, channels-last training) and summarize their ratio lines.

Usage::

    python bench/run_all.py                  # full: ~16 min on 2 shared cores at load 0.3-4 (docs/benchmarks.md)
    python bench/run_all.py --smoke          # tiny version of each, for CI (tests/integration/test_bench_smoke.py)
    python bench/run_all.py --only spikingjelly memory --log results/bench/run_all.log

Sections, each one subprocess (so thread settings and peak memory do not leak between them):

1+3. ``simulator``    bench/bench_simulator.py: simulation time per step ÷ one ANN forward (the floor),
                      and one all-T pass vs re-simulating for each T.
2.   ``spikingjelly`` bench/bench_spikingjelly.py: ours vs SpikingJelly ann2snn (skips if not installed).
4.   ``pipeline``     bench/bench_pipeline.py: end-to-end default run, ``-n`` and a no-op rerun.
5.   ``memory``       bench/bench_memory.py: peak RSS vs batch_size/time_chunk, T- and N-independence.

Only ratios measured inside one run are meaningful (the machine is shared); docs/benchmarks.md keeps
the latest figures.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import print_header  # noqa: E402

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent

# (section, script, full args, smoke args)
SECTIONS: list[tuple[str, str, list[str], list[str]]] = [
    (
        "simulator",
        "bench_simulator.py",
        ["--reps", "1", "--grid-batch", "25"],
        ["--smoke", "--threads", "1", "--nets", "mlp", "cnn", "--encodings", "poisson"],
    ),
    (
        "spikingjelly",
        "bench_spikingjelly.py",
        ["--samples", "250", "--reps", "2", "--train-samples", "5000", "--epochs", "1", "--check-zero-reset", "100"],
        ["--smoke"],
    ),
    ("pipeline", "bench_pipeline.py", [], ["--smoke"]),
    ("memory", "bench_memory.py", [], ["--smoke"]),
    ("channels_last", "bench_channels_last.py", [], ["--smoke"]),
]
RATIO = re.compile(r"ratio|speed-up|skipped", re.IGNORECASE)


def run_section(name: str, script: str, args: list[str], log) -> tuple[int, float, list[str]]:
    """Run one benchmark script, echoing its output; (return code, seconds, ratio-bearing lines)."""
    cmd = [sys.executable, str(BENCH / script), *args]
    banner = f"\n=== {name}: {' '.join(cmd[1:])}"
    print(banner, flush=True)
    if log:
        log.write(banner + "\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    start = time.perf_counter()
    lines: list[str] = []
    with subprocess.Popen(
        cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
    ) as proc:
        for line in proc.stdout:
            if "Triton not available" in line:  # torch's harmless import-time warning
                continue
            sys.stdout.write(line)
            sys.stdout.flush()
            if log:
                log.write(line)
                log.flush()
            if RATIO.search(line) and not line.startswith("---"):
                lines.append(line.rstrip())
    return proc.returncode, time.perf_counter() - start, lines


def main(argv: list[str] | None = None) -> int:
    """Run the selected sections and print a summary; non-zero exit if a section failed."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--smoke", action="store_true", help="tiny version of each benchmark")
    ap.add_argument("--only", nargs="+", choices=[s[0] for s in SECTIONS], help="run only these sections")
    ap.add_argument("--log", help="also write the whole output to this file")
    args = ap.parse_args(argv)
    log = None
    if args.log:
        Path(args.log).parent.mkdir(parents=True, exist_ok=True)
        log = open(args.log, "w", encoding="utf-8")
    print_header("run_all" + (" --smoke" if args.smoke else ""))
    start = time.perf_counter()
    summary, failed = [], []
    try:
        for name, script, full, smoke in SECTIONS:
            if args.only and name not in args.only:
                continue
            rc, sec, lines = run_section(name, script, smoke if args.smoke else full, log)
            summary.append((name, rc, sec, lines))
            if rc != 0 or not lines:
                failed.append(name)
        total = time.perf_counter() - start
        out = [f"\n=== summary ({'smoke' if args.smoke else 'full'}, {total:.0f} s total)"]
        for name, rc, sec, lines in summary:
            out.append(f"[{name}] rc={rc} {sec:.0f} s" + ("" if lines else " — NO RATIO LINE"))
            out += [
                f"    {l}" for l in lines if l.startswith("RATIO") or "ratio" in l or "speed-up" in l or "skipped" in l
            ]
        print("\n".join(out), flush=True)
        if log:
            log.write("\n".join(out) + "\n")
    finally:
        if log:
            log.close()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
