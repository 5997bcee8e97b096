"""Cluster resource requests: memory (MB) and wall time (minutes) per rule, derived from the config, and the
GPU, group slot and report-job requests that rules declare (so the SLURM profiles name no rule).

Used by the ``resources:`` of workflow/rules/*.smk and passed to SLURM by the executor plugin as
``--mem`` and ``--time`` (docs/slurm.md). They are generous upper bounds for the scheduler, not
predictions; every retry (``attempt`` 2, 3, ...; the SLURM profile sets ``retries: 1``) asks for that
many times more, so a job killed for TIMEOUT or OUT_OF_MEMORY gets a bigger allocation the next time.
Calibrate against the measured ``benchmarks/<rule>/...tsv`` (max_rss, s) of a first run if needed.

No torch import: this runs while Snakemake builds the DAG. Every function takes the *validated* config
(defaults filled in by the schema, the only place defaults live), so none has a fallback value of its own. The GPU
request reads the cluster's settings from environment variables instead (``SNNCONV_SLURM_GPU*``, docs/slurm.md):
they say how a job is scheduled, never what it writes, so they belong neither in the config nor in a job's params.
Dataset shapes and sizes come from snnconv.workflow.vocab; the architecture options, defaults included, from the
validated config's ``arch_options`` (tests/cluster/test_cluster.py checks the widest layer against real models).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

from ..presets import RESNET_PRESETS, VGG_ARCHS, vgg_layers
from .config import schema_defaults
from .settings import AGREEMENT_IMAGES, epochs
from .vocab import INPUT_SHAPES, SPLIT_SIZES

# Wall-time scale per architecture at its schema-default options, in minutes, on one GPU: training for one epoch of
# 60 000 samples, and simulating 10 000 samples for 1000 time steps. CPU devices are CPU_SLOWDOWN times slower.
# A configured net's requests are scaled by its multiply-accumulates per image over the default's (size_factor).
TRAIN_EPOCH_MIN = {"mlp": 0.5, "cnn": 1.0, "vgg": 4.0}
SIM_MIN = {"mlp": 5.0, "cnn": 20.0, "vgg": 120.0}
CONVERT_MIN = {"mlp": 1.0, "cnn": 5.0, "vgg": 30.0}  # 10 000 normalization images on one CPU core
# VGG-16 at full width: ≈ 0.31 G multiply-accumulates per CIFAR image, about twice the small VGG's.
TRAIN_EPOCH_MIN["vgg16"] = 8.0
SIM_MIN["vgg16"] = 240.0
CONVERT_MIN["vgg16"] = 60.0
# ResNet-20 on CIFAR-10: ≈ 41 M multiply-accumulates and 0.19 M neurons per image (resnet_cost), against the
# small VGG's ≈ 0.15 G and 0.20 M: its time scales sit between the CNN's and the VGG's.
TRAIN_EPOCH_MIN["resnet"] = 3.0
SIM_MIN["resnet"] = 80.0
CONVERT_MIN["resnet"] = 20.0
CPU_SLOWDOWN = 10.0

BASE_MB = 2048  # Python + torch + CUDA context
MIN_MINUTES = 10
FLOAT = 4  # bytes
SIM_BUFFERS = 4  # (steps, B, width) tensors alive at once in the simulator: input, current, spikes, membrane
# The summary table, figures, tables and report macros: seconds to a minute each, whatever the sweep's size.
REPORT_MB = 2048
REPORT_MINUTES = 15
# Partition of the GPU jobs where SNNCONV_SLURM_GPU_PARTITION is unset.
GPU_PARTITION = "gpu"


def _round_mb(mb: float, attempt: int = 1) -> int:
    """Up to the next 256 MB, times the attempt."""
    return attempt * int(math.ceil(mb / 256.0) * 256)


def _minutes(m: float, attempt: int) -> int:
    """At least MIN_MINUTES, times the attempt."""
    return attempt * int(math.ceil(max(m, MIN_MINUTES)))


def split_sizes(config: Mapping[str, Any], dataset: str) -> tuple[int, int]:
    """(train, test) sample counts after the dataset's subset options."""
    n_train, n_test = SPLIT_SIZES[dataset]
    options = config["dataset_options"][dataset]
    return (min(n_train, options["subset_train"] or n_train), min(n_test, options["subset_test"] or n_test))


def data_mb(config: Mapping[str, Any], dataset: str) -> float:
    """Both splits as float32 in memory, MB."""
    c, h, w = INPUT_SHAPES[dataset]
    return sum(split_sizes(config, dataset)) * c * h * w * FLOAT / 2**20


def widest_layer(config: Mapping[str, Any], dataset: str, arch: str) -> int:
    """Neurons per sample of the widest layer (input included) of ``arch`` on ``dataset``."""
    c, h, w = INPUT_SHAPES[dataset]
    options = config["arch_options"][arch]
    widths = [c * h * w]
    if arch == "mlp":
        widths += list(options["hidden"])
    elif arch == "cnn":  # same-padded convs, pooling after each: the first conv is the widest
        widths += [n * (h >> i) * (w >> i) for i, n in enumerate(options["channels"])]
    elif arch == "resnet":  # stride-1 stem at full size, each later stage halves the map (rounding up)
        widths += [n * ((h - 1) // 2**i + 1) * ((w - 1) // 2**i + 1) for i, n in enumerate(options["channels"])]
    elif arch in VGG_ARCHS:
        size = h * w
        for item in vgg_layers(arch, options):
            if item in ("P", "M"):
                size //= 4
            else:
                widths.append(int(item) * size)
    return max(widths)


def resnet_cost(in_shape: tuple[int, int, int], blocks: tuple[int, ...], channels: list[int]) -> tuple[int, int]:
    """(multiply-accumulates, spiking neurons) per image of a CIFAR-style ResNet: 3×3 stem, basic blocks (two 3×3
    convs, a 1×1 shortcut where the block changes shape, identity otherwise), global pooling, a readout of 10."""
    c, h, w = in_shape
    macs = 9 * c * channels[0] * h * w
    neurons = channels[0] * h * w
    c = channels[0]
    for stage, (n_blocks, width) in enumerate(zip(blocks, channels)):
        for b in range(n_blocks):
            if stage > 0 and b == 0:
                h, w = (h - 1) // 2 + 1, (w - 1) // 2 + 1
            macs += 9 * c * width * h * w + 9 * width * width * h * w
            if c != width or (stage > 0 and b == 0):
                macs += c * width * h * w
            neurons += 2 * width * h * w
            c = width
    return macs + 10 * c, neurons


def _dense(widths: Sequence[int]) -> int:
    return sum(a * b for a, b in zip(widths, widths[1:]))


def macs_per_image(arch: str, options: Mapping[str, Any], in_shape: tuple[int, int, int], n_classes: int = 10) -> int:
    """Multiply-accumulates of one forward pass of ``arch`` under its validated ``options`` (convolutions and
    linear layers; pooling, BN and ReLU are a small share and left out)."""
    c, h, w = in_shape
    if arch == "mlp":
        return _dense([c * h * w, *options["hidden"], n_classes])
    if arch == "cnn":
        k, total = int(options["kernel"]), 0
        for c_out in options["channels"]:
            total += h * w * c * k * k * c_out
            c, h, w = c_out, h // 2, w // 2
        hidden = int(options["hidden"])
        return total + _dense([c * h * w, *([hidden] if hidden else []), n_classes])
    if arch in VGG_ARCHS:
        total = 0
        for item in vgg_layers(arch, options):
            if item == "P":
                h, w = h // 2, w // 2
            else:
                total += h * w * c * 9 * int(item)
                c = int(item)
        hidden = int(options["hidden"])
        return total + _dense([c * h * w, *([hidden] if hidden else []), n_classes])
    if arch == "resnet":
        if options.get("preset") not in RESNET_PRESETS:
            raise ValueError(
                f"arch_options.resnet.preset = {options.get('preset')!r} is not one of {sorted(RESNET_PRESETS)}"
            )
        return resnet_cost(in_shape, RESNET_PRESETS[options["preset"]], list(options["channels"]))[0]
    raise ValueError(f"the planner has no MAC count for arch {arch!r}; add one to snnconv/workflow/cluster.py")


@cache
def _reference_macs(arch: str, in_shape: tuple[int, int, int]) -> int:
    """Multiply-accumulates per image of ``arch`` at the schema's default options: the nets the time scales
    (TRAIN_EPOCH_MIN, SIM_MIN, CONVERT_MIN) were set for."""
    return macs_per_image(arch, schema_defaults()["arch_options"][arch], in_shape)


def size_factor(config: Mapping[str, Any], dataset: str, arch: str) -> float:
    """The configured net's multiply-accumulates per image over the reference net's, on the dataset's images.

    Scales the per-architecture time scales to the net actually configured: a VGG-16 at a quarter of its width
    does about a sixteenth of the full net's work, the six-conv VGG about a quarter of the default VGG's.
    """
    shape = INPUT_SHAPES[dataset]
    return macs_per_image(arch, config["arch_options"][arch], shape) / _reference_macs(arch, shape)


def _device(section: Mapping[str, Any]) -> str:
    return str(section["device"])


def _slowdown(section: Mapping[str, Any]) -> float:
    """CPU_SLOWDOWN for device: cpu; 'auto' and 'cuda' are assumed to get the GPU the profile requests."""
    return CPU_SLOWDOWN if _device(section) == "cpu" else 1.0


def sim_tensor_mb(batch: int, steps: int, width: int) -> float:
    """Peak simulator buffers for one batch: a block of ``steps`` time steps of the widest layer, MB."""
    return SIM_BUFFERS * batch * steps * width * FLOAT / 2**20


# ---- per rule ---------------------------------------------------------------------------------------


def prepare_data_mem_mb(config: Mapping[str, Any], dataset: str, attempt: int = 1) -> int:
    """Decoding + the float32 arrays, a few copies."""
    return _round_mb(BASE_MB + 4 * data_mb(config, dataset), attempt)


def prepare_data_runtime(config: Mapping[str, Any], dataset: str, attempt: int = 1) -> int:
    return _minutes(30 if dataset.startswith("cifar10") else 15, attempt)


def train_mem_mb(config: Mapping[str, Any], dataset: str, arch: str, attempt: int = 1) -> int:
    """Host memory: the dataset (a few copies) + a CPU batch's activations when training on the CPU."""
    tr = config["training"]
    act = 0.0
    if _device(tr) == "cpu":  # forward + backward activations of one batch
        act = 3 * tr["batch_size"] * widest_layer(config, dataset, arch) * 8 * FLOAT / 2**20
    return _round_mb(BASE_MB + 3 * data_mb(config, dataset) + act, attempt)


def train_runtime(config: Mapping[str, Any], dataset: str, arch: str, attempt: int = 1) -> int:
    tr = config["training"]
    n_train, _ = split_sizes(config, dataset)
    minutes = epochs(config, dataset) * n_train / 60000 * TRAIN_EPOCH_MIN[arch] * _slowdown(tr)
    minutes *= size_factor(config, dataset, arch)
    return _minutes(5 + 1.5 * minutes, attempt)


def convert_mem_mb(config: Mapping[str, Any], dataset: str, arch: str, attempt: int = 1) -> int:
    """The dataset + streamed activation statistics (batches of 128) + radix histograms."""
    act = 128 * widest_layer(config, dataset, arch) * 4 * FLOAT / 2**20
    return _round_mb(BASE_MB + 2 * data_mb(config, dataset) + act, attempt)


def convert_runtime(config: Mapping[str, Any], dataset: str, arch: str, attempt: int = 1) -> int:
    n = config["conversion"]["norm_set_size"]
    return _minutes(5 + 1.5 * n / 10000 * CONVERT_MIN[arch] * size_factor(config, dataset, arch), attempt)


def _spiking_mem_mb(
    config: Mapping[str, Any], section: Mapping[str, Any], dataset: str, arch: str, batch: int, steps: int, attempt: int
) -> int:
    """Host memory of a simulation: the simulator buffers live there only when it runs on the CPU."""
    tensors = sim_tensor_mb(batch, steps, widest_layer(config, dataset, arch)) if _device(section) == "cpu" else 0.0
    return _round_mb(BASE_MB + 2 * data_mb(config, dataset) + tensors, attempt)


def simulate_mem_mb(config: Mapping[str, Any], dataset: str, arch: str, attempt: int = 1) -> int:
    """Scales with batch_size × min(T, time_chunk) × widest layer (when simulating on the CPU)."""
    sim = config["simulation"]
    _, n_test = split_sizes(config, dataset)
    n = min(n_test, sim["test_subset"] or n_test)
    batch = min(sim["batch_size"], n)
    steps = min(sim["T"], sim["time_chunk"])
    return _spiking_mem_mb(config, sim, dataset, arch, batch, steps, attempt)


def simulate_runtime(config: Mapping[str, Any], dataset: str, arch: str, attempt: int = 1) -> int:
    """Scales with test samples × T, plus the conversion's agreement check (settings.AGREEMENT_IMAGES)."""
    sim = config["simulation"]
    _, n_test = split_sizes(config, dataset)
    n = min(n_test, sim["test_subset"] or n_test)
    minutes = n / 10000 * sim["T"] / 1000 * SIM_MIN[arch] * _slowdown(sim)
    minutes += min(AGREEMENT_IMAGES, config["conversion"]["norm_set_size"]) / 10000 * CONVERT_MIN[arch]
    minutes *= size_factor(config, dataset, arch)
    return _minutes(5 + 1.5 * minutes, attempt)


def membrane_stats_mem_mb(config: Mapping[str, Any], dataset: str, arch: str, attempt: int = 1) -> int:
    """The stats samples simulated at once; recorded traces are neurons_per_layer × T per layer."""
    stats, sim = config["stats"], config["simulation"]
    samples, steps = stats["samples"], min(stats["T"], sim["time_chunk"])
    traces = 16 * samples * stats["neurons_per_layer"] * stats["T"] * FLOAT / 2**20
    return _spiking_mem_mb(config, sim, dataset, arch, samples, steps, attempt) + _round_mb(traces, attempt)


def membrane_stats_runtime(config: Mapping[str, Any], dataset: str, arch: str, attempt: int = 1) -> int:
    stats, sim = config["stats"], config["simulation"]
    minutes = stats["samples"] / 10000 * stats["T"] / 1000 * SIM_MIN[arch] * _slowdown(sim)
    minutes *= size_factor(config, dataset, arch)
    return _minutes(5 + 1.5 * minutes, attempt)


# ---- scheduling requests declared by the rules ------------------------------------------------------
# Snakemake profiles can set resources per rule name only; these let each rule declare what it needs, and the
# profiles configure the resources (group_slot's scope and limit) and the groups (group-components) instead.
# A local run constrains only the resources given with --resources, so none of these holds a laptop run back.


def gpu_request(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Resources of a rule that uses a GPU where it gets one (training, simulation): one GPU (the SLURM plugin's
    ``gpu``, sbatch --gpus) on SNNCONV_SLURM_GPU_PARTITION (default :data:`GPU_PARTITION`), of the model
    SNNCONV_SLURM_GPU_MODEL and with the node features SNNCONV_SLURM_GPU_CONSTRAINT where set; none at all with
    SNNCONV_SLURM_GPUS=0 (a CPU-only cluster: the job then goes to the partition of the user's profile).

    ``environ`` defaults to ``os.environ``, read while Snakemake builds the DAG."""
    env = os.environ if environ is None else environ
    gpus = env.get("SNNCONV_SLURM_GPUS", "")
    if gpus not in ("", "0", "1"):
        raise ValueError(
            f"environment variable SNNCONV_SLURM_GPUS={gpus!r}: expected 0 (no GPU requests) or unset/1 "
            "(one GPU for each GPU job; docs/slurm.md)"
        )
    if gpus == "0":
        return {}
    request: dict[str, Any] = {"gpu": 1, "slurm_partition": env.get("SNNCONV_SLURM_GPU_PARTITION") or GPU_PARTITION}
    for key, variable in (("gpu_model", "SNNCONV_SLURM_GPU_MODEL"), ("constraint", "SNNCONV_SLURM_GPU_CONSTRAINT")):
        if env.get(variable):
            request[key] = env[variable]
    return request


def grouped() -> dict[str, int]:
    """Resources of every rule with a ``group:``: the one ``group_slot`` that the SLURM profiles give each
    submitted job (a resource of local scope). With it a bundle of a group's jobs runs one after the other inside
    its allocation, and Snakemake sizes the request that way: the sum of the runtimes, the largest memory/CPUs/GPU.
    (The plugin's job step runs a bundle serially, so a request sized for parallel pieces would be wrong.)"""
    return {"group_slot": 1}


def report_job() -> dict[str, int]:
    """Memory and wall time of a report rule (summary table, figures, tables, macros): :data:`REPORT_MB` and
    :data:`REPORT_MINUTES`, a generous bound for seconds of work on one small table."""
    return {"mem_mb": REPORT_MB, "runtime": REPORT_MINUTES}
