"""DAG-time cost: CPU seconds of `snakemake -n` (user + sys of the child process), against the targets
that keep reruns cheap: ≤ 1.5 s on a finished default run, ≤ 10 s on config/paper.yaml.

Usage: python bench/bench_dryrun.py [--finished DIR] [--repeat 3]
  --finished DIR: a folder holding a finished default run (`make run` leaves one in the repository root);
                  without it the default config is dry-run in an empty folder (every job scheduled: an upper bound).
Prints one line per case: best-of-N CPU seconds, the target and their ratio (≤ 1 meets it), and whether torch
was imported at DAG time (it must not be).
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine_info  # noqa: E402

TARGETS = {"config.yaml": 1.5, "paper.yaml": 10.0}
PROBE = (
    "import sys, runpy; sys.argv = ['snakemake'] + sys.argv[1:]; "
    "import atexit; atexit.register(lambda: print('TORCH_IMPORTED', 'torch' in sys.modules, file=sys.stderr)); "
    "from snakemake.cli import main; main()"
)


def dry_run_cpu(workdir: Path, config: Path) -> tuple[float, bool, int]:
    """CPU seconds of one dry run, whether torch got imported, and the number of jobs it planned."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            PROBE,
            "-n",
            "-s",
            str(REPO / "Snakefile"),
            "--directory",
            str(workdir),
            "--configfile",
            str(config),
            "--cores",
            "1",
            "--nolock",
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONHASHSEED": "0"},
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = proc.stdout + proc.stderr
    if proc.returncode != 0:
        raise SystemExit(f"dry run failed:\n{out[-3000:]}")
    jobs = 0
    for line in out.splitlines():
        if line.startswith("total"):
            jobs = int(line.split()[1])
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, "TORCH_IMPORTED True" in out, jobs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--finished", type=Path, default=None, help="folder with a finished default run")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    print("machine:", machine_info())
    with tempfile.TemporaryDirectory() as empty:
        cases = [
            ("config.yaml", args.finished or Path(empty), "finished" if args.finished else "empty folder"),
            ("paper.yaml", Path(empty), "empty folder"),
        ]
        for name, workdir, state in cases:
            runs = [dry_run_cpu(workdir, REPO / "config" / name) for _ in range(args.repeat)]
            best = min(r[0] for r in runs)
            print(
                f"{name:12s} ({state}): best CPU {best:.2f} s of {args.repeat}, target {TARGETS[name]:.1f} s, "
                f"ratio {best / TARGETS[name]:.2f}, jobs planned {runs[0][2]}, torch imported {runs[0][1]}"
            )


if __name__ == "__main__":
    main()
