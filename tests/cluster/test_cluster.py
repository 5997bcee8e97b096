"""Cluster support without a cluster: resource estimates and requests (snnconv/workflow/cluster.py), what the rules declare
and the SLURM profiles (which name no rule)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from helpers import REPO
from helpers.slurm import planned_jobs

from snnconv.defaults import arch_args, defaults
from snnconv.models import build_model
from snnconv.workflow import artefacts, cluster
from snnconv.workflow.vocab import ARCHS

PROFILES = REPO / "workflow" / "profiles"
GPU_RULES = {"train_ann", "train_qcfs", "simulate", "membrane_stats"}


def load_config(name: str) -> dict:
    """A repository config, validated (cluster estimates read defaults filled in by the schema)."""
    from snnconv.workflow.config import load_config as load_validated

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


def test_time_requests_scale_with_the_configured_nets_work():
    """The per-arch time scales are for the schema-default nets; a smaller net asks for proportionally less."""
    base = load_config("paper-cpu.yaml")  # vgg16 at a quarter of its width, the six-conv vgg, resnet8
    full = {**base, "arch_options": {**base["arch_options"], **{a: defaults()["arch_options"][a] for a in ARCHS}}}
    for arch in ("vgg", "vgg16", "resnet"):
        assert cluster.size_factor(full, "cifar10_jpeg", arch) == 1.0
        assert cluster.size_factor(base, "cifar10_jpeg", arch) < 0.5, arch
    quarter = cluster.size_factor(base, "cifar10_jpeg", "vgg16")
    assert 1 / 20 < quarter < 1 / 12  # ≈ width²: (1/4)² of the convolutions, no 512-unit hidden layer
    sim = {**base["simulation"], "T": 4000, "test_subset": 0, "device": "cpu"}
    big, small = ({**cfg, "simulation": sim} for cfg in (full, base))
    full_minutes = cluster.simulate_runtime(big, "cifar10_jpeg", "vgg16") - 5
    assert cluster.simulate_runtime(small, "cifar10_jpeg", "vgg16") - 5 == pytest.approx(quarter * full_minutes, abs=1)
    assert cluster.train_runtime(small, "cifar10_jpeg", "vgg16") < cluster.train_runtime(big, "cifar10_jpeg", "vgg16")


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


def rules_text() -> str:
    """The Snakefile and every rule file, one text."""
    return "\n".join(p.read_text() for p in [REPO / "Snakefile", *sorted((REPO / "workflow" / "rules").glob("*.smk"))])


CHART_LOOP = "for chart in artefacts.charts():"


def chart_rules() -> set[str]:
    """The rules figures.smk generates, one per chart of the artefact catalogue (``name: chart.rule``)."""
    assert CHART_LOOP in rules_text(), "figures.smk no longer generates the chart rules"
    return {a.rule for a in artefacts.charts()}


def workflow_rules() -> set[str]:
    """Every rule name of the workflow: its ``rule NAME:`` lines and the generated chart rules."""
    return set(re.findall(r"^rule (\w+):", rules_text(), re.M)) | chart_rules()


def declared_groups() -> dict[str, str]:
    """Rule name → the group its ``group:`` declares, for the rules that declare one."""
    blocks = re.split(r"^(?=rule \w+:)", rules_text(), flags=re.M)
    found = (re.match(r"rule (\w+):(?:.|\n)*?^    group:\s*\n\s+\"(\w+)\"", b, re.M) for b in blocks)
    groups = {m.group(1): m.group(2) for m in found if m}
    loop = rules_text().split(CHART_LOOP, 1)[1]  # the generated chart rules: one rule block, indented once more
    charts = re.match(r"(?:.|\n)*?^        group:\s*\n\s+\"(\w+)\"", loop, re.M)
    return groups | (dict.fromkeys(chart_rules(), charts.group(1)) if charts else {})


def profile_names() -> list[str]:
    return sorted(p.name for p in PROFILES.iterdir() if (p / "config.yaml").is_file())


@pytest.mark.parametrize("name", profile_names())
def test_profiles_name_no_rule(name):
    """Rules declare what they need; profiles configure resources and groups. A rule name in a profile would be a
    second list of the workflow's rules to keep in step (a renamed rule silently losing its GPU)."""
    text = (PROFILES / name / "config.yaml").read_text()
    code = "\n".join(re.sub(r"(^|\s)#.*", "", line) for line in text.splitlines())
    rules = workflow_rules()
    assert {"train_ann", "simulate", "aggregate", "paper_macros"} <= rules, rules  # the parse finds them
    assert not rules & set(re.findall(r"\w+", code)), sorted(rules & set(re.findall(r"\w+", code)))
    # Comments may say "tables" or "paper" in prose, never a rule's identifier.
    assert not [r for r in rules if "_" in r and re.search(rf"\b{r}\b", text)]


@pytest.mark.integration
@pytest.mark.parametrize("name", ["slurm", "slurm-ci"])
def test_slurm_profiles_configure_resources_and_groups_not_rules(name):
    profile = parse_profile(name)
    assert profile["executor"] == "slurm" and profile["retries"] == "1"
    # No default-resources: they would replace a user profile's slurm_account/slurm_partition (docs/slurm.md).
    # No set-resources or groups: those are per rule name; the rules declare their needs instead.
    assert not {"default-resources", "set-resources", "groups"} & set(profile), sorted(profile)
    # Group bundles are sized for serial execution: each grouped job takes the one local-scoped group_slot.
    assert profile["resources"] == ["group_slot=1"] and profile["set-resource-scopes"] == ["group_slot=local"]
    groups = {item.split("=")[0] for item in profile["group-components"]}
    assert groups == set(declared_groups().values()), (groups, declared_groups())
    rendered = set(re.findall(r"\w+", str(parse_profile(name, {"SNNCONV_SLURM_GPUS": "0"}) | profile)))
    assert not workflow_rules() & rendered


@pytest.mark.integration
def test_slurm_profile_knobs_come_from_the_environment():
    plain = parse_profile("slurm")
    assert plain["jobs"] == "100" and "slurm-qos" not in plain
    knobs = parse_profile(
        "slurm", {"SNNCONV_SLURM_QOS": "short", "SNNCONV_SLURM_NO_ACCOUNT": "", "SNNCONV_SLURM_JOBS": "7"}
    )
    assert knobs["jobs"] == "7" and "slurm-no-account" not in knobs and knobs["slurm-qos"] == "short"
    assert parse_profile("slurm", {"SNNCONV_SLURM_NO_ACCOUNT": "1"})["slurm-no-account"] == "True"
    assert parse_profile("slurm", {"SNNCONV_SLURM_STATUS": "sacct"})["slurm-status-command"] == "sacct"
    # Without a working sacct (no SLURM here, or no accounting database) job status comes from squeue.
    if subprocess.run("sacct -n -X -o JobID -S now", shell=True, capture_output=True).returncode != 0:
        assert plain["slurm-status-command"] == "squeue"


# ---- what the rules declare ----------------------------------------------------------------------------

GPU_ENV = (
    "SNNCONV_SLURM_GPUS",
    "SNNCONV_SLURM_GPU_PARTITION",
    "SNNCONV_SLURM_GPU_MODEL",
    "SNNCONV_SLURM_GPU_CONSTRAINT",
)
GROUPS = {"normalize": "conversion", "simulate": "spiking", "membrane_stats": "spiking"}
REPORT_RULES = {"aggregate", "tables", "paper_macros"} | {r for r in workflow_rules() if r.startswith("fig_")}
GPU_KEYS = {"gpu", "slurm_partition", "gpu_model", "constraint"}
# The environment of a case → what each GPU job asks for (every other job: none of GPU_KEYS).
GPU_CASES = {
    "default": ({}, {"gpu": "1", "slurm_partition": "gpu"}),
    "no-gpus": ({"SNNCONV_SLURM_GPUS": "0", "SNNCONV_SLURM_GPU_PARTITION": "a100q"}, {}),
    "knobs": (
        {
            "SNNCONV_SLURM_GPU_PARTITION": "a100q",
            "SNNCONV_SLURM_GPU_MODEL": "a100",
            "SNNCONV_SLURM_GPU_CONSTRAINT": "a|h",
        },
        {"gpu": "1", "slurm_partition": "a100q", "gpu_model": "a100", "constraint": "a|h"},
    ),
}


def verbose_dry_run(workdir: Path, config: Path, *args: str, env: dict[str, str] | None = None) -> list:
    """The jobs of ``snakemake -n --verbose`` (helpers.slurm.planned_jobs) with ``config`` in ``workdir``, under the
    environment plus ``env`` and without the caller's own SNNCONV_SLURM_GPU* settings. Profile: none unless in
    ``args``."""
    base = {k: v for k, v in os.environ.items() if k not in GPU_ENV}
    profile = () if "--workflow-profile" in args else ("--workflow-profile", "none")
    cmd = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "--directory", str(workdir)]
    cmd += ["--configfile", str(config), *profile, "-n", "--verbose", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env={**base, **(env or {})})
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return planned_jobs(proc.stdout + proc.stderr)


def test_gpu_request_follows_the_environment():
    for env, expected in GPU_CASES.values():
        assert cluster.gpu_request(env) == {k: (int(v) if k == "gpu" else v) for k, v in expected.items()}, env
    unset_partition = {"SNNCONV_SLURM_GPUS": "1", "SNNCONV_SLURM_GPU_PARTITION": ""}
    assert cluster.gpu_request(unset_partition)["slurm_partition"] == cluster.GPU_PARTITION
    with pytest.raises(ValueError, match=r"SNNCONV_SLURM_GPUS='2'"):
        cluster.gpu_request({"SNNCONV_SLURM_GPUS": "2"})


def test_the_rules_declare_their_groups():
    assert declared_groups() == {**GROUPS, **dict.fromkeys(REPORT_RULES, "report")}


@pytest.mark.integration
@pytest.mark.parametrize("case", sorted(GPU_CASES))
def test_each_job_declares_what_it_needs(case, tmp_path):
    """A local dry run prints each job's resources as the rules declare them, the ones the SLURM plugin submits
    (no profile adds any): GPU jobs one GPU on the GPU partition (none with SNNCONV_SLURM_GPUS=0), the report jobs
    2 GB and 15 min, every job of a group the one group_slot. The baselines config has every rule that runs on a
    cluster (train_qcfs too); the macros add paper_macros."""
    env, gpu = GPU_CASES[case]
    baselines = REPO / "tests" / "configs" / "baselines.yaml"
    jobs = verbose_dry_run(tmp_path, baselines, "--cores", "1", "all", "results/paper/macros.tex", env=env)
    assert GPU_RULES | REPORT_RULES | set(GROUPS) <= {j.rule for j in jobs}, {j.rule for j in jobs}
    for job in jobs:
        requested = {k: v for k, v in job.resources.items() if k in GPU_KEYS}
        assert requested == (gpu if job.rule in GPU_RULES else {}), job
        grouped = job.rule in REPORT_RULES or job.rule in GROUPS
        assert job.resources.get("group_slot") == ("1" if grouped else None), job
        if job.rule in REPORT_RULES:
            assert (job.resources["mem_mb"], job.resources["runtime"]) == ("2048", "15"), job


@pytest.mark.integration
@pytest.mark.parametrize("name", ["slurm", "slurm-ci"])
def test_slurm_dry_run_bundles_the_declared_groups(name, tmp_path):
    """With the plugin: the profile's group-components bundle the jobs by the groups the rules declare, and the
    jobs keep the requests of their rules."""
    pytest.importorskip("snakemake_executor_plugin_slurm", reason="SLURM plugin not installed (make install SLURM=1)")
    jobs = verbose_dry_run(
        tmp_path, REPO / "tests" / "configs" / "tiny.yaml", "--workflow-profile", str(PROFILES / name)
    )
    assert {j.rule for j in jobs} >= {"train_ann", "normalize", "simulate", "aggregate"}, jobs
    for job in jobs:
        assert job.group == declared_groups().get(job.rule), job
        gpu = {"gpu": "1", "slurm_partition": "gpu"} if job.rule in GPU_RULES else {}
        assert {k: v for k, v in job.resources.items() if k in GPU_KEYS} == gpu, job


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
