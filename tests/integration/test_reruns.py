"""Correct reruns: for every leaf setting of the config schema, change it on a finished tiny run and check by dry
run that exactly the rules whose output depends on it are scheduled — and that changes which affect nothing
(key order, a comment, an execution-only or report-only setting) schedule no training, conversion or simulation.

The list of settings is generated from the schema: a new key fails :func:`test_every_schema_leaf_is_classified`
until it is given a changed value and the rules it must rerun below. This table is the documentation of what each
setting reruns (docs/method.md, "Reruns").
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers.workflow import run_snakemake, tiny_config, write_config

from snnconv.workflow import artefacts
from snnconv.workflow.config import load_schema

pytestmark = pytest.mark.integration

# The tiny config plus a one-point sweep: lp4_k0.5_scale_max is both the `l4` role and a sweep name (converted
# once), and uniform_k0.5_scale_max is its control; plus a calibrated norm and the QCFS twin's norm.
BASE = tiny_config()
BASE["conversion"]["sweep"] = {"p": [4], "k": [0.5], "mode": ["scale"], "base": ["max"], "uniform": True}
BASE["conversion"]["norms"] = [*BASE["conversion"]["norms"], "max-calib", "qcfs"]

# Groups of rules, downstream closures included ("all" is left out: it runs whenever anything does).
REPORT = {"aggregate", "fig_accuracy_vs_T", "fig_coefficient_sweep", "fig_firing_rates", "fig_low_T_gap", "tables"}
SIM = {"simulate"} | REPORT
STATS = {"membrane_stats", "fig_variance_claim"}
CONVERT = {"normalize"} | SIM | STATS
TRAIN = {"train_ann", "train_qcfs"} | CONVERT
DATA = {"prepare_data"} | TRAIN
NOTHING: set[str] = set()

# setting -> (changed value, rules that must be scheduled). None as the value: use the generic mutation.
CASES: dict[str, tuple[Any, set[str]]] = {
    "datasets": (["digits", "mnist"], DATA),  # a new dataset: everything for it (a dry run needs no data)
    "archs": (["mlp", "cnn"], TRAIN),
    "dataset_archs": ({"digits": ["mlp", "cnn"]}, TRAIN),  # a CNN for digits: everything for it
    "training.epochs_by_dataset": ({"digits": 2}, TRAIN),
    "seeds": ([0, 1], TRAIN),
    "data_dir": ("/elsewhere/datasets", NOTHING),  # where the data lie: verified by checksum, no rerun
    "download": (True, NOTHING),  # only real datasets are downloaded; the tiny run has digits alone
    "dataset_options.digits.test_fraction": (0.3, DATA),
    "dataset_options.digits.split_seed": (1, DATA),
    "dataset_options.digits.subset_train": (500, DATA),
    "dataset_options.digits.subset_test": (90, DATA),
    "dataset_options.mnist.subset_train": (100, NOTHING),  # not a dataset of this run
    "dataset_options.mnist.subset_test": (100, NOTHING),
    **{
        f"dataset_options.{dataset}.{key}": (100, NOTHING)  # not datasets of this run either
        for dataset in ("fashion_mnist", "cifar10", "cifar10_jpeg")
        for key in ("subset_train", "subset_test")
    },
    "arch_options.mlp.hidden": ([33], TRAIN),
    "arch_options.mlp.bias": (False, TRAIN),
    "arch_options.mlp.batchnorm": (True, TRAIN),
    "arch_options.mlp.dropout": (0.1, TRAIN),
    **{
        f"arch_options.{a}.{k}": (None, NOTHING)
        for a, ks in {
            "cnn": ("channels", "kernel", "hidden", "bias", "batchnorm", "dropout"),
            "vgg": ("cfg", "hidden", "bias", "batchnorm", "dropout", "width"),
        }.items()
        for k in ks
    },  # not an arch of this run
    "arch_options.vgg.width": (0.5, NOTHING),  # not an arch of this run
    "arch_options.vgg16.width": (0.5, NOTHING),
    "arch_options.vgg16.hidden": (64, NOTHING),
    "arch_options.vgg16.bias": (False, NOTHING),
    "arch_options.vgg16.batchnorm": (True, NOTHING),
    "arch_options.vgg16.dropout": (0.1, NOTHING),
    "arch_options.resnet.preset": ("resnet8", NOTHING),  # not an arch of this run
    "arch_options.resnet.channels": ([8, 8, 8], NOTHING),
    "training.epochs": (2, TRAIN),
    "training.batch_size": (32, TRAIN),
    "training.lr": (0.02, TRAIN),
    "training.momentum": (0.5, NOTHING),  # the tiny run trains with Adam: momentum only matters to SGD
    "training.weight_decay": (0.001, TRAIN),
    "training.optimizer": ("sgd", TRAIN),
    "training.nesterov": (True, NOTHING),  # Adam: Nesterov momentum only matters to SGD
    "training.schedule": ("onecycle", TRAIN),
    "training.warmup_fraction": (0.5, NOTHING),  # the tiny run anneals by cosine: only one-cycle warms up
    "training.augment": ("crop", TRAIN),
    "training.crop_padding": (2, NOTHING),  # the tiny run does not augment
    "training.label_smoothing": (0.1, TRAIN),
    "training.validation_images": (100, TRAIN),  # fewer training images; conversion's pool changes with them
    "training.validation_seed": (1, NOTHING),  # no validation split in the tiny run
    "training.recipe_by_dataset": ({"digits": {"schedule": "constant"}}, TRAIN),
    "training.device": ("cuda", NOTHING),  # execution only
    "training.threads": (2, NOTHING),  # execution only
    "training.channels_last": (True, NOTHING),  # execution only: the memory layout, not the arithmetic
    # The QCFS twin's own settings: only it and the norms on base qcfs (max and the others keep their ReLU net).
    "training.qcfs.levels": (8, {"train_qcfs", "normalize"} | SIM),
    "training.qcfs.lambda_init": (4.0, {"train_qcfs", "normalize"} | SIM),
    "conversion.norm_set_size": (150, CONVERT),
    "conversion.norm_set_seed": (1, CONVERT),
    "conversion.per_channel": (True, CONVERT),
    "conversion.maxpool_to_avgpool": (True, CONVERT),
    # A new norm is one new simulate job (it converts, then simulates); a new base adds its normalize job.
    "conversion.norms": (["max", "l4", "p99.9"], {"normalize"} | SIM),  # new norm on a new base
    "conversion.l4.k": (0.25, SIM),  # a new canonical name, lp4_k0.25_scale_max, on the measured base max
    "conversion.l4.mode": ("bias", SIM),
    "conversion.l4.base": ("p99.9", {"normalize"} | SIM),
    "conversion.sweep.p": ([2], SIM),
    "conversion.sweep.k": ([0.25], SIM),
    "conversion.sweep.mode": (["bias"], SIM),
    "conversion.sweep.base": (["p99.9"], {"normalize"} | SIM),
    "conversion.sweep.uniform": (False, REPORT),  # one norm fewer: only the report changes
    # Calibration settings reach only the -calib norms' jobs (max-calib here), never normalize or the others.
    "conversion.calib.images": (100, SIM),
    "conversion.calib.T": (8, SIM),
    "simulation.T": (21, SIM),
    "simulation.input_seeds": ([0, 1], SIM),
    "simulation.encoding": ("constant", SIM),
    "simulation.max_rate": (0.5, SIM | STATS),  # the statistics use the simulation's input
    "simulation.reset": ("zero", SIM | STATS),
    "simulation.decode": ("spikes", SIM),
    "simulation.batch_size": (10, NOTHING),  # input spikes are keyed by image index, not batch
    "simulation.time_chunk": (5, NOTHING),  # results do not depend on it (tests/unit/simulate/test_simulate_engine.py)
    "simulation.device": ("cuda", NOTHING),
    "simulation.test_subset": (50, SIM),
    "simulation.threads": (2, NOTHING),
    "simulation.compile": ("true", NOTHING),  # execution only: the compiled step equals the eager engine
    "stats.norms": (["max", "l4"], STATS),
    "stats.T": (19, STATS),
    "stats.neurons_per_layer": (7, STATS),
    "stats.samples": (19, STATS),
    "stats.seed": (1, STATS),
    # every chart refuses results lacking a report T point (scripts/figure.py), so each is redrawn
    "report.T_points": ([5, 20], {"fig_coefficient_sweep", "tables"} | {a.rule for a in artefacts.charts()}),
    "report.within": (0.02, {"tables"}),
}


def schema_leaves(
    node: dict[str, Any], path: tuple[str, ...] = (), defs: dict[str, Any] | None = None
) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every leaf setting of the schema (objects with properties are walked, also behind a ``$ref`` to one of the
    schema's ``$defs``, such as the subset options every real dataset shares; patterns stand for mnist)."""
    defs = node.get("$defs", {}) if defs is None else defs
    ref = node.get("$ref", "")
    if ref.startswith("#/$defs/") and "properties" in defs.get(ref.removeprefix("#/$defs/"), {}):
        node = defs[ref.removeprefix("#/$defs/")]
    if node.get("type") == "object" and ("properties" in node or "patternProperties" in node):
        for key, sub in node.get("properties", {}).items():
            yield from schema_leaves(sub, (*path, key), defs)
        for _pattern, sub in node.get("patternProperties", {}).items():
            yield from schema_leaves(sub, (*path, "mnist"), defs)
    else:
        yield ".".join(path), node


LEAVES = dict(schema_leaves(load_schema()))


def generic_change(node: dict[str, Any]) -> Any:
    """A valid new value for a leaf that is absent from the base config (types from the schema)."""
    ref = node.get("$ref", "")
    kind = node.get("type") or ("integer" if "positive_int" in ref or "seed" in ref else None)
    if kind == "boolean":
        return True
    if kind == "integer":
        return 3
    if kind == "number":
        return 0.3
    if kind == "array":
        return [8, 8] if "positive_int" in str(node.get("items")) else [8, "P"]
    raise AssertionError(f"no generic change for {node}")


def changed_config(key: str) -> dict[str, Any]:
    """BASE with ``key`` set to its changed value."""
    value, _ = CASES[key]
    if value is None:
        value = generic_change(LEAVES[key])
    cfg = copy.deepcopy(BASE)
    *parents, leaf = key.split(".")
    node = cfg
    for part in parents:
        node = node.setdefault(part, {})
    assert node.get(leaf) != value, f"{key}: the changed value equals the base value"
    node[leaf] = value
    return cfg


def scheduled_rules(workdir: Path, config_file: Path) -> set[str]:
    """The rules a dry run schedules (from its job-stats table), 'all' left out."""
    out = run_snakemake(workdir, config_file, "-n", "--nolock", timeout=300)
    text = out.stdout + out.stderr
    if "Nothing to be done" in text:
        return set()
    table = text.split("Job stats:", 1)[1].split("total", 1)[0]
    rules = {m.group(1) for m in re.finditer(r"^(\w+)\s+\d+\s*$", table, re.MULTILINE)}
    return rules - {"all", "job"}


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory) -> Path:
    """A complete run of BASE."""
    workdir = tmp_path_factory.mktemp("reruns")
    run_snakemake(workdir, write_config(workdir / "base.yaml", BASE), "-q", cores=2, timeout=900)
    return workdir


def test_every_schema_leaf_is_classified():
    assert set(LEAVES) == set(CASES), (
        f"unclassified settings {sorted(set(LEAVES) - set(CASES))}; stale entries {sorted(set(CASES) - set(LEAVES))}"
    )


def test_each_setting_reruns_exactly_what_depends_on_it(finished_run, tmp_path):
    keys = sorted(CASES)
    files = []
    for key in keys:
        files.append(write_config(tmp_path / f"{key}.yaml", changed_config(key)))
    with ThreadPoolExecutor(max_workers=2) as pool:
        got = dict(zip(keys, pool.map(lambda f: scheduled_rules(finished_run, f), files)))
    wrong = {k: {"expected": sorted(CASES[k][1]), "scheduled": sorted(got[k])} for k in keys if got[k] != CASES[k][1]}
    assert not wrong, f"settings that rerun the wrong rules: {wrong}"


def test_per_dataset_settings_of_other_datasets_rerun_nothing(finished_run, tmp_path):
    cfg = copy.deepcopy(BASE)
    cfg["dataset_archs"] = {"mnist": ["cnn"]}
    cfg["training"]["epochs_by_dataset"] = {"cifar10": 7, "digits": BASE["training"]["epochs"]}
    cfg["training"]["recipe_by_dataset"] = {"cifar10": {"optimizer": "sgd", "schedule": "onecycle"}}
    assert scheduled_rules(finished_run, write_config(tmp_path / "others.yaml", cfg)) == set()


def _reordered(value: Any) -> Any:
    """Every mapping with its keys in reverse order."""
    if isinstance(value, dict):
        return {k: _reordered(value[k]) for k in reversed(list(value))}
    return value


def test_key_order_and_comments_rerun_nothing(finished_run, tmp_path):
    reordered = tmp_path / "reordered.yaml"
    reordered.write_text(
        "# a comment changes nothing\n" + yaml.safe_dump(_reordered(BASE), sort_keys=False) + "# another one\n"
    )
    assert scheduled_rules(finished_run, reordered) == set()


def test_report_settings_never_rerun_heavy_rules(finished_run, tmp_path):
    cfg = copy.deepcopy(BASE)
    cfg["report"] = {"T_points": [2, 7], "within": 0.05}
    assert not scheduled_rules(finished_run, write_config(tmp_path / "report.yaml", cfg)) & {
        "prepare_data",
        "train_ann",
        "normalize",
        "simulate",
        "membrane_stats",
    }


def test_the_same_norm_under_two_names_is_converted_once(finished_run):
    snn = finished_run / "results" / "snn" / "digits" / "mlp" / "seed0"
    assert sorted(p.name for p in snn.iterdir()) == [
        "lp4_k0.5_scale_max",
        "max",
        "max-calib",
        "qcfs",
        "uniform_k0.5_scale_max",
    ]
