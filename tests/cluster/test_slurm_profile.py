"""The SLURM profile as users combine it, and local runs that leave SLURM alone (docs/slurm.md).

- A user's own profile (the plugin's documented route for account and partition) keeps its
  `slurm_account`/`slurm_partition` next to workflow/profiles/slurm: checked on a dry run, and on the
  real single-node cluster of .ci/start_slurm.sh (marker slurm).
- A local run calls no SLURM tool: SLURM commands on PATH are replaced by recorders.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import REPO
from helpers.slurm import snakemake_cmd  # the one command line of the SLURM tests

TINY = REPO / "tests" / "configs" / "tiny.yaml"
WORKFLOW_PROFILE = REPO / "workflow" / "profiles" / "slurm"
SLURM_TOOLS = ["which", "sinfo", "squeue", "sacct", "scontrol", "sbatch", "scancel", "sacctmgr", "sshare", "srun"]
PLUGIN = importlib.util.find_spec("snakemake_executor_plugin_slurm") is not None
needs_plugin = pytest.mark.skipif(not PLUGIN, reason="SLURM plugin not installed (make install SLURM=1)")


def snakemake(workdir: Path, *args: str, env: dict[str, str] | None = None, timeout: int = 300):
    """``python -m snakemake`` on the tiny config in ``workdir``."""
    workdir.mkdir(parents=True, exist_ok=True)
    cmd = snakemake_cmd(workdir, *args)
    return subprocess.run(cmd, cwd=workdir, capture_output=True, text=True, timeout=timeout, env=env)


def user_profile(tmp_path: Path, account: str, partition: str) -> Path:
    """A user's own profile as the plugin's documentation shows it."""
    profile = tmp_path / "my-cluster"
    profile.mkdir()
    (profile / "config.yaml").write_text(
        f"default-resources:\n  slurm_account: {account}\n  slurm_partition: {partition}\n"
    )
    return profile


def recorders(tmp_path: Path) -> tuple[Path, Path]:
    """A bin folder whose SLURM commands (and `which`) only record that they were called."""
    bin_dir, log = tmp_path / "bin", tmp_path / "calls.log"
    bin_dir.mkdir()
    real_which = shutil.which("which")
    for tool in SLURM_TOOLS:
        then = f'exec "{real_which}" "$@"' if tool == "which" and real_which else "exit 1"
        script = bin_dir / tool
        script.write_text(f'#!/bin/sh\necho "{tool} $*" >> "{log}"\n{then}\n')
        script.chmod(0o755)
    return bin_dir, log


@pytest.mark.integration
def test_a_local_run_calls_no_slurm_tool(tmp_path):
    """Where SLURM is installed, a local `snakemake -n` must not ask it anything (a stopped controller
    makes scontrol stall ~10 s). The plugin probes sacct/squeue/scontrol whenever it is installed, so
    it is installed only for cluster use (make install SLURM=1)."""
    bin_dir, log = recorders(tmp_path)
    env = {**os.environ, "PATH": f"{bin_dir}:{Path(sys.executable).parent}:{os.environ['PATH']}"}
    proc = snakemake(tmp_path / "work", "--cores", "1", "-n", "--quiet", env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    calls = log.read_text().splitlines() if log.exists() else []
    if PLUGIN:  # the documented cost of installing the plugin, which is why it is opt-in
        assert any(c.startswith("which s") for c in calls), calls
    else:
        assert calls == [], calls


@pytest.mark.integration
def test_make_install_leaves_the_plugin_out_by_default():
    env = {k: v for k, v in os.environ.items() if k != "SNNCONV_SLURM"}
    plain = subprocess.run(
        ["make", "-n", "-B", "install", "SNNCONV_SLURM="], cwd=REPO, capture_output=True, text=True, env=env, check=True
    ).stdout
    cluster = subprocess.run(
        ["make", "-n", "-B", "install", "SLURM=1"], cwd=REPO, capture_output=True, text=True, env=env, check=True
    ).stdout
    assert ".[slurm]" not in plain and ".[slurm]" in cluster
    assert "-c requirements.lock" in plain


@pytest.mark.integration
@needs_plugin
def test_user_profile_account_and_partition_survive_the_workflow_profile(tmp_path):
    """Dry run: every job gets the user's account; CPU jobs the user's partition, GPU jobs the GPU one."""
    profile = user_profile(tmp_path, "lab42", "cpuq")
    proc = snakemake(
        tmp_path / "work",
        "--profile",
        str(profile),
        "--workflow-profile",
        str(WORKFLOW_PROFILE),
        "-n",
        "--verbose",
        "results/sim/digits/mlp/seed0/max/input0.csv",
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    resources = dict(re.findall(r"rule (\w+):.*?resources: ([^\n]+)", out, re.S))
    assert {"prepare_data", "train_ann", "normalize", "simulate"} <= set(resources), out[-3000:]
    for rule, line in resources.items():
        assert "slurm_account=lab42" in line, (rule, line)
        partition = "gpu" if rule in {"train_ann", "simulate"} else "cpuq"
        assert f"slurm_partition={partition}" in line, (rule, line)


@pytest.mark.integration
@pytest.mark.slurm
@needs_plugin
def test_user_profile_reaches_sbatch_on_a_real_cluster(tmp_path):
    """On the test cluster: the job of a CPU rule is submitted with the user profile's account and
    partition (gpu here, not the default debug, so that it cannot be a default)."""
    if shutil.which("sbatch") is None or not os.environ.get("SNNCONV_SLURM"):
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but no SLURM test cluster (source .ci/start_slurm.sh)")
        pytest.skip("no SLURM test cluster (source .ci/start_slurm.sh, as .ci/run does)")
    profile = user_profile(tmp_path, "snnconv_lab", "gpu")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    t0 = time.monotonic()
    proc = snakemake(
        tmp_path / "work",
        "--profile",
        str(profile),
        "--workflow-profile",
        str(WORKFLOW_PROFILE),
        "--slurm-init-seconds-before-status-checks",
        "1",
        "--seconds-between-status-checks",
        "1",
        "--slurm-keep-successful-logs",
        "results/data/digits.npz",
        env=env,
        timeout=600,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    run_id = re.search(r"SLURM run ID: (\S+)", out).group(1)
    jobs = subprocess.run(
        ["squeue", "--states=all", "-h", "-n", run_id, "-O", "JobID:20,Account:40,Partition:40,State:20"],
        capture_output=True,
        text=True,
        timeout=30,
    ).stdout.split()
    print(f"\n[slurm] user profile + workflow profile: jobs {jobs} in {time.monotonic() - t0:.1f} s")
    assert jobs[1:] == ["snnconv_lab", "gpu", "COMPLETED"], (jobs, out[-3000:])
    assert (tmp_path / "work" / "results" / "data" / "digits.npz").is_file()
