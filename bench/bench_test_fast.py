"""The unit layer's wall time, serial against `make test-fast`'s two xdist workers, measured in one run.

Runs ``pytest tests/unit`` twice as subprocesses, once serially and once as ``make test-fast`` does
(``-n WORKERS --dist loadscope``: modules are units of work, and the modules that read the shared figure
rendering run on one worker, tests/unit/conftest.py). Prints each run's wall and CPU seconds (the CPU of the
pytest process and its workers) and the ratio parallel / serial. The target is a unit pass under a minute of
wall time on a quiet 2-core machine; on a loaded machine compare only the ratio.

    python bench/bench_test_fast.py              # the whole unit layer, twice (about 2 minutes here)
    python bench/bench_test_fast.py --smoke      # two small modules, to check that the script runs
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import print_header  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
SMOKE = ["tests/unit/analysis/test_analysis_best.py", "tests/unit/test_worker_schedule.py"]


def run_pytest(targets: list[str], extra: list[str]) -> tuple[float, float, str]:
    """(wall s, CPU s of pytest and its workers, pytest's last line) of one quiet pytest run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *targets, *extra],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    last = (proc.stdout.strip().splitlines() or ["(no output)"])[-1]
    if proc.returncode != 0:
        raise SystemExit(
            f"pytest {' '.join(extra) or '(serial)'} failed (exit {proc.returncode}):\n{proc.stdout[-3000:]}"
        )
    return wall, cpu, last


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2, help="xdist workers of the parallel run (make FAST_WORKERS)")
    parser.add_argument("--smoke", action="store_true", help="two small modules instead of the whole unit layer")
    args = parser.parse_args(argv)
    print_header("bench_test_fast")
    targets = SMOKE if args.smoke else ["tests/unit"]
    serial = run_pytest(targets, [])
    parallel = run_pytest(targets, ["-n", str(args.workers), "--dist", "loadscope"])
    for name, (wall, cpu, last) in (("serial", serial), (f"{args.workers} workers", parallel)):
        print(f"{name:>10}: {wall:6.1f} s wall, {cpu:6.1f} s CPU  ({last})")
    print(f"ratio parallel/serial wall: {parallel[0] / serial[0]:.2f} (CPU {parallel[1] / serial[1]:.2f})")


if __name__ == "__main__":
    main()
