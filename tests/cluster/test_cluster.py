"""Cluster support without a cluster: resource estimates (snnconv/cluster.py) and the SLURM profiles."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
import torch
from helpers import REPO

from snnconv import cluster
from snnconv.defaults import arch_args, defaults
from snnconv.models import build_model
from snnconv.vocab import ARCHS

PROFILES = REPO / "workflow" / "profiles"
GPU_RULES = {"train_ann", "train_qcfs", "simulate", "membrane_stats"}


def load_config(name: str) -> dict:
    """A repository config, validated (cluster estimates read defaults filled in by the schema)."""
    from snnconv.config import load_config as load_validated

    return load_validated(REPO / "config" / name)


def widest_activation(arch: str, dataset: str, options: dict) -> int:
    """Largest per-sample tensor (input included) flowing through the real model."""
    shape = cluster.INPUT_SHAPES[dataset]
    model = build_model(arch, shape, 10, **arch_args(arch, **options)).eval()
    widest = [int(torch.Size(shape).numel())]
    hooks = [m.register_forward_hook(lambda _m, _i, out: widest.append(out[0].numel())) for m in model]
    with torch.no_grad():
        model(torch.zeros(1, *shape))
    for h in hooks:
        h.remove()
    return max(widest)


@pytest.mark.parametrize("config_name", ["config.yaml", "paper.yaml"])
def test_widest_layer_matches_the_real_models(config_name):
    config = load_config(config_name)
    for dataset in config["datasets"]:
        for arch in config["archs"]:
            options = config["arch_options"].get(arch, {})
            assert cluster.widest_layer(config, dataset, arch) == widest_activation(arch, dataset, options), (
                dataset,
                arch,
            )


def test_widest_layer_of_every_arch_under_the_schema_defaults_is_the_real_models():
    for arch in ARCHS:
        config = {"arch_options": defaults()["arch_options"]}
        assert cluster.widest_layer(config, "cifar10", arch) == widest_activation(arch, "cifar10", {}), arch


RULES = {
    "prepare_data": lambda c, a: (
        cluster.prepare_data_mem_mb(c, "mnist", a),
        cluster.prepare_data_runtime(c, "mnist", a),
    ),
    "train_ann": lambda c, a: (cluster.train_mem_mb(c, "mnist", "cnn", a), cluster.train_runtime(c, "mnist", "cnn", a)),
    "normalize": lambda c, a: (
        cluster.convert_mem_mb(c, "mnist", "cnn", a),
        cluster.convert_runtime(c, "mnist", "cnn", a),
    ),
    "simulate": lambda c, a: (
        cluster.simulate_mem_mb(c, "mnist", "cnn", a),
        cluster.simulate_runtime(c, "mnist", "cnn", a),
    ),
    "membrane_stats": lambda c, a: (
        cluster.membrane_stats_mem_mb(c, "mnist", "cnn", a),
        cluster.membrane_stats_runtime(c, "mnist", "cnn", a),
    ),
}


@pytest.mark.parametrize("rule", sorted(RULES))
def test_requests_are_positive_and_grow_with_the_attempt(rule):
    config = load_config("paper.yaml")
    (mem1, min1), (mem2, min2) = RULES[rule](config, 1), RULES[rule](config, 2)
    assert isinstance(mem1, int) and isinstance(min1, int)
    assert mem1 >= cluster.BASE_MB and min1 >= cluster.MIN_MINUTES
    assert (mem2, min2) == (2 * mem1, 2 * min1)


def test_simulation_memory_scales_with_batch_and_time_block_on_the_cpu():
    base = load_config("paper.yaml")
    sim = {**base["simulation"], "device": "cpu", "batch_size": 100, "time_chunk": 10, "T": 1000, "test_subset": 0}

    def with_sim(**change) -> dict:
        return {**base, "simulation": {**sim, **change}}

    def mem(**change):
        return cluster.simulate_mem_mb(with_sim(**change), "cifar10", "vgg")

    fixed = mem(device="cuda")  # on a GPU the simulator buffers are not in host memory
    small, big, longer, short = mem(), mem(batch_size=1000), mem(time_chunk=100), mem(T=5)
    assert small > fixed
    assert big - fixed > 8 * (small - fixed) and longer - fixed > 8 * (small - fixed)
    assert fixed < short < small  # T below time_chunk bounds the block
    # Runtime scales with the test samples × T.
    assert cluster.simulate_runtime(with_sim(T=4000), "cifar10", "vgg") > cluster.simulate_runtime(
        with_sim(T=1000), "cifar10", "vgg"
    )


# ---- profiles ---------------------------------------------------------------------------------------


def parse_profile(name: str, env: dict[str, str] | None = None) -> dict:
    """A profile as Snakemake reads it (YTE templating included), with extra environment variables."""
    code = (
        "import json, sys; from snakemake.profiles import ProfileConfigFileParser as P; "
        "print(json.dumps(P().parse(open(sys.argv[1]))))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(PROFILES / name / "config.yaml")],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **(env or {})},
    )
    import json

    return json.loads(proc.stdout)


def workflow_rules() -> set[str]:
    text = "\n".join(p.read_text() for p in [REPO / "Snakefile", *(REPO / "workflow" / "rules").glob("*.smk")])
    return set(re.findall(r"^rule (\w+):", text, re.M))


def RULES_TEXT() -> str:
    return "\n".join(p.read_text() for p in (REPO / "workflow" / "rules").glob("*.smk"))


def rule_groups() -> set[str]:
    text = "\n".join(p.read_text() for p in (REPO / "workflow" / "rules").glob("*.smk"))
    return set(re.findall(r"^\s+group:\s*\n\s+\"(\w+)\"", text, re.M))


@pytest.mark.integration
@pytest.mark.parametrize("name", ["slurm", "slurm-ci"])
def test_profile_requests_gpus_for_the_gpu_rules_only(name):
    profile = parse_profile(name)
    assert profile["executor"] == "slurm" and profile["retries"] == "1"
    per_rule: dict[str, dict[str, str]] = {}
    for item in profile["set-resources"]:
        rule, _, kv = item.partition(":")
        key, _, value = kv.partition("=")
        per_rule.setdefault(rule, {})[key] = value
    assert {r for r, res in per_rule.items() if res.get("gpu") == "1"} == GPU_RULES
    assert set(per_rule) <= workflow_rules(), set(per_rule) - workflow_rules()
    # No default-resources: they would replace a user profile's slurm_account/slurm_partition (docs/slurm.md).
    assert "default-resources" not in profile
    # Group bundles are sized for serial execution: each grouped job takes the one local-scoped group_slot.
    assert "group_slot=1" in profile["resources"] and "group_slot=local" in profile["set-resource-scopes"]
    grouped = {r for r in workflow_rules() if re.search(rf"^rule {r}:(?:\n    .*)*\n    group:", RULES_TEXT(), re.M)}
    grouped |= {item.split("=")[0] for item in profile["groups"]}
    assert grouped and all(per_rule.get(r, {}).get("group_slot") == "1" for r in grouped), (grouped, per_rule)
    groups = {item.split("=")[0] for item in profile["group-components"]}
    assert groups <= rule_groups() | {item.split("=")[1] for item in profile["groups"]}
    assert {item.split("=")[0] for item in profile["groups"]} <= workflow_rules()


@pytest.mark.integration
def test_slurm_profile_knobs_come_from_the_environment():
    plain = parse_profile("slurm")
    assert (
        "simulate:slurm_partition='gpu'" in plain["set-resources"]
        or "simulate:slurm_partition=gpu" in plain["set-resources"]
    )
    knobs = parse_profile(
        "slurm",
        {
            "SNNCONV_SLURM_GPU_PARTITION": "a100q",
            "SNNCONV_SLURM_GPU_MODEL": "a100",
            "SNNCONV_SLURM_NO_ACCOUNT": "",
            "SNNCONV_SLURM_JOBS": "7",
        },
    )
    assert {"simulate:slurm_partition=a100q", "simulate:gpu_model=a100"} <= set(knobs["set-resources"])
    assert knobs["jobs"] == "7" and "slurm-no-account" not in knobs
    assert parse_profile("slurm", {"SNNCONV_SLURM_STATUS": "sacct"})["slurm-status-command"] == "sacct"
    # Without a working sacct (no SLURM here, or no accounting database) job status comes from squeue.
    if subprocess.run("sacct -n -X -o JobID -S now", shell=True, capture_output=True).returncode != 0:
        assert plain["slurm-status-command"] == "squeue"


@pytest.mark.integration
@pytest.mark.parametrize("name", ["slurm", "slurm-ci"])
def test_snakemake_accepts_the_profile(name, tmp_path):
    """Dry run of the tiny workflow with the profile: every option is one Snakemake/the plugin knows."""
    pytest.importorskip("snakemake_executor_plugin_slurm", reason="SLURM plugin not installed (make install SLURM=1)")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "snakemake",
            "-s",
            str(REPO / "Snakefile"),
            "--directory",
            str(tmp_path),
            "--configfile",
            str(REPO / "tests" / "configs" / "tiny.yaml"),
            "--workflow-profile",
            str(PROFILES / name),
            "--dry-run",
            "--quiet",
            "rules",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
