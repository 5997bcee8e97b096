"""Pipeline overhead: end-to-end default run, then ``snakemake -n`` and a no-op rerun on the finished run.

Usage::

    python bench/bench_pipeline.py              # config/config.yaml (target: < 150 s on 2 cores)
    python bench/bench_pipeline.py --smoke      # only a dry run of tests/configs/tiny.yaml in an empty workdir
    python bench/bench_pipeline.py --workdir D  # reuse a finished run in D: only time -n and the no-op rerun

The run happens in a fresh temporary working directory (``snakemake -s <tmp>/src/Snakefile --directory
<tmp>``), never in the repository's own results/, with a frozen copy of the code in <tmp>/src (git's
tracked + untracked-not-ignored files; ``--live`` uses the repository itself), so that edits made to the
tree during a long run do not turn the "no-op" rerun into a rerun of the edited rules. After the run, the
per-rule ``benchmarks/*.tsv`` (job wall and CPU seconds) and the scripts' ``done in X s`` log lines are
summed per rule: that is where the end-to-end time went. Targets: end-to-end < 150 s, run wall ÷ the jobs'
own compute ≤ 2.0, ``-n`` < 5 s, no-op rerun < 5 s; each is printed as a ``RATIO`` line.

If SLURM's ``scontrol`` is on PATH, ``-n`` and the no-op rerun are timed twice: as the machine is, and
with ``scontrol`` shimmed to fail at once, because the SLURM executor plugin calls ``scontrol show
config`` (10 s timeout) at import time on every snakemake invocation (see :func:`scontrol_probe`).
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import print_header  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
TARGETS = {"end-to-end": 150.0, "dry-run (-n)": 5.0, "no-op rerun": 5.0}
OVERHEAD_TARGET = 2.0  # run wall time ÷ the sum of the jobs' own compute time (their "done in X s" lines)


def snapshot(dest: Path) -> Path:
    """Copy the repository's tracked and untracked-but-not-ignored files to ``dest`` (code frozen for the run)."""
    files = (
        subprocess.run(
            ["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=REPO, capture_output=True, check=True
        )
        .stdout.decode()
        .split("\0")
    )
    for rel in filter(None, files):
        src = REPO / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    return dest


def snakemake(
    workdir: Path,
    config: Path,
    cores: int,
    *extra: str,
    code: Path = REPO,
    path_prefix: str = "",
    timeout: float = 3600,
) -> tuple[float, str, int]:
    """Run ``code``'s Snakefile in ``workdir``; (wall seconds, combined output, return code).

    ``code`` also goes first on PYTHONPATH, so that job scripts import that tree's snnconv.
    """
    cmd = [
        sys.executable,
        "-m",
        "snakemake",
        "-s",
        str(code / "Snakefile"),
        "--directory",
        str(workdir),
        "--configfile",
        str(config),
        "--cores",
        str(cores),
        *extra,
    ]
    env = {
        **os.environ,
        "PYTHONHASHSEED": "0",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(code), os.environ.get("PYTHONPATH")])),
        "PATH": os.pathsep.join(filter(None, [path_prefix, os.environ.get("PATH")])),
    }
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    return time.perf_counter() - start, proc.stdout + proc.stderr, proc.returncode


def rule_seconds(workdir: Path) -> dict[str, dict[str, float]]:
    """Per rule: jobs, summed wall ``s`` and ``cpu_time`` from benchmarks/<rule>/...tsv, and the summed
    in-script time from ``done in X s`` lines of logs/<rule>/...log (where the script logs one)."""
    totals: dict[str, dict[str, float]] = defaultdict(lambda: {"jobs": 0, "s": 0.0, "cpu": 0.0, "inner": 0.0})
    for tsv in (workdir / "benchmarks").rglob("*.tsv"):
        rule = tsv.relative_to(workdir / "benchmarks").parts[0]
        with open(tsv, newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh, delimiter="\t"):
                try:
                    totals[rule]["jobs"] += 1
                    totals[rule]["s"] += float(row["s"])
                    totals[rule]["cpu"] += float(row.get("cpu_time") or 0.0)
                except (KeyError, ValueError):
                    pass
    for rule in list(totals):
        for log in (workdir / "logs" / rule).rglob("*.log"):
            found = re.findall(r"done in ([0-9.]+) s", log.read_text(errors="replace"))
            if found:
                totals[rule]["inner"] += float(found[-1])
    return dict(totals)


def scontrol_probe() -> float | None:
    """Seconds ``scontrol show config`` takes (None if scontrol is not on PATH).

    snakemake-executor-plugin-slurm runs it at IMPORT time (job_status_query.get_min_job_age, 10 s
    timeout), and snakemake imports every installed executor plugin on every call, ``-n`` included. With
    SLURM client tools installed but no reachable controller, each snakemake call waits for it.
    """
    if not shutil.which("scontrol"):
        return None
    start = time.perf_counter()
    try:
        subprocess.run(["scontrol", "show", "config"], capture_output=True, timeout=12)
    except subprocess.TimeoutExpired:
        pass
    return time.perf_counter() - start


def scontrol_shim(root: Path) -> str:
    """A directory holding an ``scontrol`` that fails at once (what a machine without SLURM tools gives)."""
    root.mkdir(parents=True, exist_ok=True)
    shim = root / "scontrol"
    shim.write_text("#!/bin/sh\nexit 1\n")
    shim.chmod(0o755)
    return str(root)


def python_startup(n: int = 3, path_prefix: str = "") -> float:
    """Best wall time of ``python -c 'import snakemake.api'`` — the floor under any snakemake call."""
    env = {**os.environ, "PATH": os.pathsep.join(filter(None, [path_prefix, os.environ.get("PATH")]))}
    best = float("inf")
    for _ in range(n):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import snakemake.api"], check=True, env=env)
        best = min(best, time.perf_counter() - start)
    return best


def main(argv: list[str] | None = None) -> int:
    """Time the run, the dry run and the no-op rerun; print the numbers and the per-rule breakdown."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--smoke", action="store_true", help="use tests/configs/tiny.yaml")
    ap.add_argument("--config", default=None, help="config file (default config/config.yaml; smoke: tiny.yaml)")
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--workdir", default=None, help="finished run to reuse (skips the end-to-end run)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary working directory")
    ap.add_argument(
        "--live",
        action="store_true",
        help="run the repository's own Snakefile/code instead of a frozen copy (edits made to the "
        "tree during the run then make the 'no-op' rerun re-run the edited rules)",
    )
    ap.add_argument("--targets", nargs="*", default=None, help="snakemake targets (default: all)")
    args = ap.parse_args(argv)
    targets = list(args.targets or [])
    config = Path(args.config or REPO / ("tests/configs/tiny.yaml" if args.smoke else "config/config.yaml")).resolve()
    print_header("bench_pipeline")
    owned = args.workdir is None
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="snnconv-bench-pipeline-")).resolve()
    code = REPO if args.live or not owned else snapshot(workdir / "src")
    if code != REPO and config.is_relative_to(REPO):
        config = code / config.relative_to(REPO)
    status = 0

    def smk(*extra: str, path_prefix: str = "") -> tuple[float, str, int]:
        return snakemake(workdir, config, args.cores, *extra, code=code, path_prefix=path_prefix)

    probe = None if args.smoke else scontrol_probe()
    if probe is not None:
        print(
            f"pipeline: note: scontrol is on PATH and 'scontrol show config' takes {probe:.1f} s here; the SLURM "
            f"executor plugin runs it when snakemake imports it, i.e. on EVERY snakemake call",
            flush=True,
        )

    print(
        f"pipeline: code {'frozen copy in ' + str(code) if code != REPO else 'live tree ' + str(REPO)}, "
        f"workdir {workdir}",
        flush=True,
    )
    try:
        if owned:
            shutil.copytree(code / "config", workdir / "config")  # the Snakefile's default configfile
        if args.smoke and owned:  # tiny version: plan the whole tiny workflow in an empty workdir, no jobs run
            shim = scontrol_shim(workdir / "shim") if shutil.which("scontrol") else ""  # keep the smoke fast
            sec, out, rc = smk("-n", *targets, path_prefix=shim)
            jobs = re.findall(r"^total\s+(\d+)", out, flags=re.M)
            target = TARGETS["dry-run (-n)"]
            print(
                f"pipeline (smoke): dry-run (-n) of {config.name} in an empty workdir: {sec:.2f} s, "
                f"{jobs[-1] if jobs else '?'} jobs planned (rc {rc}){' [scontrol shimmed]' if shim else ''}"
            )
            print(
                f"RATIO pipeline smoke dry-run / target {target:.0f} s = {sec / target:.2f} "
                f"({'met' if sec < target else 'MISSED'})",
                flush=True,
            )
            return 0 if rc == 0 else 1
        if owned:
            sec, out, rc = smk(*targets)
            done = re.findall(r"(\d+) of (\d+) steps \(100%\) done", out)
            jobs = done[-1][1] if done else "?"
            if rc != 0:
                print(out[-3000:])
                print(f"pipeline: end-to-end run FAILED (rc {rc}) after {sec:.1f} s")
                return 1
            print(
                f"pipeline: end-to-end {config.name} {' '.join(targets) or '(all)'} with --cores {args.cores}: "
                f"{sec:.1f} s, {jobs} jobs",
                flush=True,
            )
            print(
                f"RATIO pipeline end-to-end / target {TARGETS['end-to-end']:.0f} s = "
                f"{sec / TARGETS['end-to-end']:.2f} ({'met' if sec < TARGETS['end-to-end'] else 'MISSED'})"
            )
            per_rule = rule_seconds(workdir)
            total = sum(r["s"] for r in per_rule.values())
            print(
                f"pipeline: per rule, from benchmarks/*.tsv (job wall s, job CPU s) and logs ('done in X s' = "
                f"the script's own compute); job wall sum {total:.1f} s over {args.cores} core(s), run wall {sec:.1f} s:"
            )
            for rule, r in sorted(per_rule.items(), key=lambda kv: -kv[1]["s"]):
                inner = f", in-script {r['inner']:7.1f} s" if r["inner"] else ""
                print(
                    f"  {rule:24s} {int(r['jobs']):4d} jobs  wall {r['s']:7.1f} s ({100 * r['s'] / max(total, 1e-9):4.1f}%)"
                    f"  CPU {r['cpu']:7.1f} s  per job {r['s'] / max(r['jobs'], 1):5.1f} s{inner}"
                )
            own = sum(r["inner"] for r in per_rule.values())
            print(
                f"RATIO pipeline run wall / sum of the jobs' own compute ({own:.1f} s) = {sec / max(own, 1e-9):.2f} "
                f"(target {OVERHEAD_TARGET:.1f}: {'met' if sec / max(own, 1e-9) <= OVERHEAD_TARGET else 'MISSED'})",
                flush=True,
            )
        runs = [("", "")]
        if probe is not None:
            runs.append((" [scontrol shimmed to fail at once]", scontrol_shim(workdir / "shim")))
        for note, prefix in runs:
            floor = python_startup(path_prefix=prefix)
            for label, extra in (("dry-run (-n)", ("-n",)), ("no-op rerun", ())):
                sec, out, rc = smk(*extra, *targets, path_prefix=prefix)
                noop = "Nothing to be done" in out
                if rc != 0 or not noop:
                    print(out[-3000:])
                    status = 1
                target = TARGETS[label]
                print(
                    f"pipeline: {label}{note} on the finished run: {sec:.2f} s (rc {rc}, 'Nothing to be done': "
                    f"{noop}; python + 'import snakemake.api' alone {floor:.2f} s)"
                )
                print(
                    f"RATIO pipeline {label}{note} / target {target:.0f} s = {sec / target:.2f} "
                    f"({'met' if sec < target and noop else 'MISSED'})",
                    flush=True,
                )
    finally:
        if owned and not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
