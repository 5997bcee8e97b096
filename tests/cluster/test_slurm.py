"""SLURM: the real workflow submitted by snakemake-executor-plugin-slurm to a real single-node cluster.

Needs the cluster of .ci/start_slurm.sh (sourced by .ci/run, which sets SNNCONV_SLURM=1); skipped without
it, except under CI=true where a missing cluster is a failure. Uses workflow/profiles/slurm-ci and the
tiny config, up to the simulation and membrane-statistics CSVs. Timings and job counts are printed
(`pytest -s tests/cluster/test_slurm.py` shows them).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import pytest
from helpers import REPO
from helpers.slurm import snakemake_cmd

pytestmark = pytest.mark.slurm

TINY = REPO / "tests" / "configs" / "tiny.yaml"
PROFILE = REPO / "workflow" / "profiles" / "slurm-ci"
TARGETS = [
    "results/sim/digits/mlp/seed0/max/input0.csv",
    "results/sim/digits/mlp/seed0/lp4_k0.5_scale_max/input0.csv",  # the l4 role of tests/configs/tiny.yaml
    "results/stats/digits/mlp/seed0/max.csv",
]
# SLURM log folders of the plugin: one per rule, or per group of rules (workflow/profiles/slurm-ci).
SUBMISSIONS = {
    "rule_prepare_data": "debug",
    "rule_train_ann": "gpu",
    "group_conversion_normalize": "debug",
    "group_spiking_membrane_stats_simulate": "gpu",
}
TIMEOUT = 600


def missing_slurm() -> str | None:
    """Why the SLURM tests cannot run here, or None."""
    if shutil.which("sbatch") is None:
        return "sbatch not on PATH: no SLURM here (source .ci/start_slurm.sh, as .ci/run does)"
    if not os.environ.get("SNNCONV_SLURM"):
        return "SNNCONV_SLURM not set: no test cluster started (source .ci/start_slurm.sh, as .ci/run does)"
    return None


@pytest.fixture(scope="module")
def cluster() -> None:
    """A reachable SLURM cluster; skip (fail when CI=true) without one."""
    reason = missing_slurm()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but {reason}")
        pytest.skip(reason)
    proc = subprocess.run(["sinfo", "-h", "-o", "%P %a %t"], capture_output=True, text=True, timeout=30)
    if proc.returncode != 0 or not proc.stdout.strip():
        pytest.fail(f"SNNCONV_SLURM is set but sinfo fails: {proc.stderr.strip() or 'no partitions'}")


def env() -> dict[str, str]:
    """The jobs inherit this environment (sbatch --export=ALL): the venv's python/snakemake come first."""
    venv_bin = str(Path(sys.executable).parent)
    return {**os.environ, "PATH": f"{venv_bin}:{os.environ.get('PATH', '')}", "PYTHONHASHSEED": "0"}


def start(workdir: Path, log: Path, *args: str) -> subprocess.Popen:
    """snakemake in the background, its output going to ``log``."""
    workdir.mkdir(parents=True, exist_ok=True)
    out = open(log, "w")
    return subprocess.Popen(
        snakemake_cmd(workdir, *args), cwd=workdir, env=env(), stdout=out, stderr=subprocess.STDOUT, text=True
    )


def slurm_jobs(name: str) -> list[dict[str, str]]:
    """Jobs named ``name`` that slurmctld knows (it forgets finished ones after MinJobAge=300 s)."""
    fields = ["JobID", "State", "Partition", "MinMemory", "tres-per-job", "Comment"]
    proc = subprocess.run(
        ["squeue", "--states=all", "-h", "-n", name, "-O", ",".join(f"{f}:100" for f in fields)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    return [dict(zip(fields, line.split())) for line in proc.stdout.splitlines() if line.strip()]


def watch(
    proc: subprocess.Popen, log: Path, what: str, on_poll: Callable[[list[dict[str, str]]], None] | None = None
) -> SimpleNamespace:
    """Wait for a snakemake run on SLURM, recording its jobs from squeue as they go (``on_poll`` sees them).

    Returns its output, SLURM run ID (the --job-name of all its jobs) and jobs (last state, oldest first);
    fails with the end of the output if it fails.
    """
    rid, seen, deadline = None, {}, time.monotonic() + TIMEOUT
    while True:
        done = proc.poll() is not None
        if rid is None:
            match = re.search(r"SLURM run ID: (\S+)", log.read_text())
            rid = match.group(1) if match else None
        if rid is not None:
            seen.update((job["JobID"], job) for job in slurm_jobs(rid))
            if on_poll is not None and not done:
                on_poll(sorted(seen.values(), key=lambda j: int(j["JobID"])))
        if done:
            break
        if time.monotonic() > deadline:
            proc.kill()
            proc.wait()
            break
        time.sleep(0.5)
    text = log.read_text()
    if proc.returncode != 0:
        pytest.fail(f"{what} failed ({proc.returncode}):\n{text[-6000:]}")
    return SimpleNamespace(log=text, run_id=rid, jobs=sorted(seen.values(), key=lambda j: int(j["JobID"])))


def memory_mb(value: str) -> float:
    """squeue's MinMemory ('2304M', '4.50G') in MB."""
    number, unit = float(value[:-1]), value[-1].upper()
    return number * {"K": 1 / 1024, "M": 1, "G": 1024, "T": 1024**2}[unit]


def slurm_logs(workdir: Path) -> list[Path]:
    return sorted((workdir / ".snakemake" / "slurm_logs").rglob("*.log"))


def outputs(workdir: Path) -> dict[str, bytes]:
    return {t: (workdir / t).read_bytes() for t in TARGETS}


def finish_local(proc: subprocess.Popen, log: Path) -> None:
    proc.wait(timeout=TIMEOUT)
    if proc.returncode != 0:
        pytest.fail(f"local reference run failed ({proc.returncode}):\n{log.read_text()[-6000:]}")


@pytest.fixture(scope="module")
def slurm_run(cluster, tmp_path_factory) -> SimpleNamespace:
    """The tiny workflow through SLURM, and the same targets run locally (alongside) as the reference."""
    root = tmp_path_factory.mktemp("slurm")
    local_dir, slurm_dir = root / "local", root / "slurm"
    t0 = time.monotonic()
    local = start(local_dir, root / "local.log", "--cores", "1", "--workflow-profile", "none", *TARGETS)
    proc = start(slurm_dir, root / "slurm.log", "--workflow-profile", str(PROFILE), *TARGETS)
    run = watch(proc, root / "slurm.log", "snakemake on SLURM")
    run.wall = time.monotonic() - t0
    finish_local(local, root / "local.log")
    steps = re.findall(r"(\d+) of (\d+) steps \(100%\) done", run.log)
    run.steps = int(steps[-1][1]) if steps else 0
    run.local, run.work = local_dir, slurm_dir
    return run


@pytest.mark.integration
def test_workflow_runs_through_sbatch_and_matches_a_local_run(slurm_run):
    logs = slurm_logs(slurm_run.work)
    kinds = sorted({p.relative_to(slurm_run.work / ".snakemake" / "slurm_logs").parts[0] for p in logs})
    print(
        f"\n[slurm] tiny workflow to {len(TARGETS)} CSVs: {slurm_run.steps} snakemake jobs in {len(logs)} "
        f"sbatch submissions ({', '.join(kinds)}), wall {slurm_run.wall:.1f} s (local reference run alongside)"
    )
    for job in slurm_run.jobs:
        print(
            f"[slurm]   job {job['JobID']}: {job['Comment']} partition={job['Partition']} "
            f"mem={job['MinMemory']} tres={job['tres-per-job']} {job['State']}"
        )
    # Every job went through sbatch: one SLURM log per submission, one submission per rule or group.
    assert kinds == sorted(SUBMISSIONS), f"SLURM logs: {[str(p) for p in logs]}"
    assert len(logs) == len(SUBMISSIONS) == len(slurm_run.jobs), slurm_run.jobs
    # Partitions and the (fake) GPU requested as the profile says; everything completed.
    by_kind = {j["Comment"].split("_wildcards_")[0]: j for j in slurm_run.jobs}
    for kind, partition in SUBMISSIONS.items():
        job = by_kind["rule_" + kind.split("_", 1)[1]]
        assert job["State"] == "COMPLETED", job
        assert job["Partition"] == partition, job
        assert ("gpu" in job["tres-per-job"]) == (partition == "gpu"), job
    # Same bytes as the local run.
    local, remote = outputs(slurm_run.local), outputs(slurm_run.work)
    assert remote == local, [t for t in TARGETS if remote[t] != local[t]]


@pytest.mark.integration
def test_a_killed_job_is_retried_and_the_workflow_completes(slurm_run):
    """scancel the running simulation job: the profile's retries: 1 resubmits it, and the run finishes."""
    work = slurm_run.work
    for target in TARGETS:  # the spiking group's outputs: only that group has to run again
        (work / target).unlink()
    before = set(slurm_logs(work))
    log = work.parent / "retry.log"
    killed: dict = {}
    running_since: list[float] = []
    t0 = time.monotonic()

    def kill_once_running(jobs: list[dict[str, str]]) -> None:
        running = [j for j in jobs if j["State"] == "RUNNING"]
        if killed or not running:
            return
        if not running_since:
            running_since.append(time.monotonic())
        if time.monotonic() - running_since[0] >= 2:  # mid-run: the job step has started the simulations
            subprocess.run(["scancel", running[0]["JobID"]], check=True, timeout=30)
            killed.update(running[0], at=time.monotonic() - t0)

    proc = start(work, log, "--workflow-profile", str(PROFILE), *TARGETS)
    run = watch(proc, log, "snakemake after scancel", on_poll=kill_once_running)
    wall = time.monotonic() - t0
    new_logs = sorted(set(slurm_logs(work)) - before)
    jobs = run.jobs
    print(
        f"\n[slurm] retry: cancelled job {killed.get('JobID')} ({killed.get('Comment')}) "
        f"{killed.get('at', float('nan')):.1f} s in; {len(jobs)} submissions "
        f"({', '.join(j['JobID'] + ' ' + j['State'] + ' mem=' + j['MinMemory'] for j in jobs)}); "
        f"the workflow completed after {wall:.1f} s"
    )
    assert "JobID" in killed, f"no running job to cancel:\n{run.log[-3000:]}"
    assert [j["State"] for j in jobs] == ["CANCELLED", "COMPLETED"], jobs
    assert jobs[0]["JobID"] == killed["JobID"]
    assert jobs[0]["Comment"] == jobs[1]["Comment"] == "rule_spiking_membrane_stats_simulate"
    assert len(new_logs) == 2, new_logs
    assert "Trying to restart job" in run.log
    # The resubmission is attempt 2: the rules' mem_mb grows with the attempt (snnconv/workflow/cluster.py).
    assert memory_mb(jobs[1]["MinMemory"]) > memory_mb(jobs[0]["MinMemory"]), jobs
    assert outputs(work) == outputs(slurm_run.local)
