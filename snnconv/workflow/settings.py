"""What each job computes: the settings that change a rule's output, taken from the validated config.

Every rule receives exactly these as ``params:`` (so Snakemake reruns the job when one changes) and its
script reads nothing else. Execution-only settings (device, torch threads, batch size, time_chunk, compile, data location) go
through ``resources:`` instead: they change how a job runs, not what it writes (docs/method.md, "Reruns").
Dicts are returned with sorted keys, because Snakemake compares params by ``repr`` and the same settings
written in another key order must rerun nothing. No torch import (DAG-time code).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..convert.names import parse_norm, resolve_norms
from .config import all_archs, model_pairs, stats_norms


def canonical(value: Any) -> Any:
    """``value`` with every mapping's keys sorted and tuples as lists (a stable ``repr``)."""
    if isinstance(value, Mapping):
        return {str(k): canonical(value[k]) for k in sorted(value, key=str)}
    if isinstance(value, (list, tuple)):
        return [canonical(v) for v in value]
    return value


def _pick(section: Mapping[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    """The ``keys`` of a validated config section, canonical."""
    return canonical({k: section[k] for k in keys})


# Which keys of each section change which job's output (the rest are execution settings or report-only).
TRAINING_KEYS = (
    "epochs",
    "batch_size",
    "lr",
    "momentum",
    "weight_decay",
    "optimizer",
    "nesterov",
    "schedule",
    "warmup_fraction",
    "augment",
    "crop_padding",
    "label_smoothing",
    "validation_images",
    "validation_seed",
)
# Keys that only matter under another key's value (key -> (other key, the values under which it matters)).
TRAINING_CONDITIONS = {
    "momentum": ("optimizer", ("sgd",)),
    "nesterov": ("optimizer", ("sgd",)),
    "warmup_fraction": ("schedule", ("onecycle",)),
    "crop_padding": ("augment", ("crop", "crop_flip")),
    "validation_seed": ("validation_images", None),  # None: any value but 0
}
CONVERSION_KEYS = ("norm_set_size", "norm_set_seed", "per_channel", "maxpool_to_avgpool")
SIMULATION_KEYS = ("T", "encoding", "max_rate", "reset", "decode", "test_subset")
STATS_KEYS = ("T", "neurons_per_layer", "samples", "seed")
CALIB_KEYS = ("images", "T")  # conversion.calib: what a -calib norm's network depends on, with the simulation's
CALIB_FROM_SIMULATION = ("encoding", "max_rate", "reset")  # input stream and neuron model during calibration
QCFS_KEYS = ("levels", "lambda_init")  # training.qcfs: what the QCFS twin's weights depend on
# Each converted network is compared with its ANN on the first AGREEMENT_IMAGES of the normalization set (a
# diagnostic in conversion.json, docs/method.md §C10): bounded, so it stays a small part of any spiking job.
AGREEMENT_IMAGES = 1024
# Membrane statistics use the simulation's input and neuron model (docs/method.md §S6).
STATS_FROM_SIMULATION = ("max_rate", "reset")


def dataset_options(config: Mapping[str, Any], dataset: str) -> dict[str, Any]:
    """Options of ``prepare_data`` for one dataset: all of them, the schema's defaults filled in."""
    return canonical(config["dataset_options"][dataset])


def _matters(recipe: Mapping[str, Any], key: str) -> bool:
    """Whether ``key`` changes the weights under ``recipe`` (momentum only matters to SGD, and so on)."""
    if key not in TRAINING_CONDITIONS:
        return True
    other, values = TRAINING_CONDITIONS[key]
    return bool(recipe[other]) if values is None else recipe[other] in values


def recipe(config: Mapping[str, Any], dataset: str | None = None) -> dict[str, Any]:
    """Every training key's value on ``dataset``: ``training.recipe_by_dataset[dataset]`` over
    ``training.epochs_by_dataset[dataset]`` (epochs) over the ``training`` section."""
    tr = config["training"]
    out = {k: tr[k] for k in TRAINING_KEYS}
    if dataset is not None:
        out["epochs"] = epochs(config, dataset)
        out.update(tr["recipe_by_dataset"].get(dataset) or {})
    return out


def training(config: Mapping[str, Any], dataset: str | None = None) -> dict[str, Any]:
    """Settings of ``train_ann`` on ``dataset`` that change the trained weights: :func:`recipe` less the keys that
    do not matter under it (momentum and nesterov only matter to SGD, warmup_fraction to one-cycle, crop_padding
    to cropping, validation_seed to a validation split), so changing those reruns nothing."""
    full = recipe(config, dataset)
    return canonical({k: v for k, v in full.items() if _matters(full, k)})


def epochs(config: Mapping[str, Any], dataset: str) -> int:
    """Training epochs on ``dataset``: ``training.recipe_by_dataset[dataset].epochs``, else
    ``training.epochs_by_dataset[dataset]``, else ``training.epochs`` (the config check refuses both tables)."""
    tr = config["training"]
    by_recipe = (tr["recipe_by_dataset"].get(dataset) or {}).get("epochs")
    return int(by_recipe or tr["epochs_by_dataset"].get(dataset, tr["epochs"]))


def arch_options(config: Mapping[str, Any], arch: str) -> dict[str, Any]:
    """Constructor options of one architecture: all of them, the schema's defaults filled in."""
    return canonical(config["arch_options"][arch])


def conversion(config: Mapping[str, Any]) -> dict[str, Any]:
    """Settings of ``convert`` shared by every norm (the norm itself is in the path: its canonical name)."""
    return _pick(config["conversion"], CONVERSION_KEYS)


def calibration(config: Mapping[str, Any], norm: str) -> dict[str, Any]:
    """Settings of the light calibration of ``norm`` (canonical name): {} unless it ends in -calib, so a change
    of ``conversion.calib`` reruns only the calibrated norms' jobs. The stream is keyed by ``norm_set_seed``."""
    if not parse_norm(norm).calib:
        return {}
    sim = config["simulation"]
    return canonical(
        {
            **_pick(config["conversion"]["calib"], CALIB_KEYS),
            **{k: sim[k] for k in CALIB_FROM_SIMULATION},
            "seed": config["conversion"]["norm_set_seed"],
        }
    )


def qcfs_training(config: Mapping[str, Any]) -> dict[str, Any]:
    """Settings of the QCFS twin's training beyond ``training``: levels L and the initial clip λ."""
    return _pick(config["training"]["qcfs"], QCFS_KEYS)


def simulation(config: Mapping[str, Any]) -> dict[str, Any]:
    """Settings of ``simulate`` that change its CSV."""
    return _pick(config["simulation"], SIMULATION_KEYS)


def stats(config: Mapping[str, Any]) -> dict[str, Any]:
    """Settings of ``membrane_stats``: its own T/sample sizes/seed plus the simulation's input and reset."""
    return canonical(
        {**_pick(config["stats"], STATS_KEYS), **{k: config["simulation"][k] for k in STATS_FROM_SIMULATION}}
    )


def training_execution(config: Mapping[str, Any]) -> dict[str, Any]:
    """``resources`` of ``train_ann``: device, torch threads and the memory layout (1 = channels-last)."""
    tr = config["training"]
    return {"device": str(tr["device"]), "torch_threads": int(tr["threads"]), "channels_last": int(tr["channels_last"])}


def simulation_execution(config: Mapping[str, Any]) -> dict[str, Any]:
    """``resources`` of ``simulate`` / ``membrane_stats``: device, torch threads, batch size, time chunk and whether
    to compile the step. None changes what a job writes: an image's input spikes depend on its index in the test
    set, not on its batch (docs/method.md §S5), so they are execution settings."""
    sim = config["simulation"]
    return {
        "device": str(sim["device"]),
        "torch_threads": int(sim["threads"]),
        "batch_size": int(sim["batch_size"]),
        "time_chunk": int(sim["time_chunk"]),
        "compile": str(sim["compile"]),
    }


def report_norms(config: Mapping[str, Any]) -> dict[str, Any]:
    """Which norms the figures and tables show: ``conversion.norms`` (canonical) and the role map (l4, uniform-l4)."""
    norms = resolve_norms(config["conversion"])
    return canonical({"norms": norms.main, "roles": norms.roles})


def report(config: Mapping[str, Any]) -> dict[str, Any]:
    """Everything the report rules read: the report settings and :func:`report_norms`."""
    return canonical(
        {"T_points": config["report"]["T_points"], "within": config["report"]["within"], **report_norms(config)}
    )


def paper(config: Mapping[str, Any]) -> dict[str, Any]:
    """What ``paper_macros`` prints about the run: the sweep's shape and the settings of every stage."""
    norms = resolve_norms(config["conversion"])
    return canonical(
        {
            "datasets": config["datasets"],
            "archs": all_archs(config),
            "models": [list(m) for m in model_pairs(config)],
            "seeds": config["seeds"],
            "input_seeds": config["simulation"]["input_seeds"],
            "n_converted_norms": len(norms.names),
            "n_sweep_norms": len(norms.sweep),
            "training": {
                **training(config),
                "epochs_by_dataset": dict(config["training"]["epochs_by_dataset"]),
                "recipe_by_dataset": dict(config["training"]["recipe_by_dataset"]),
            },
            "sweep": config["conversion"]["sweep"],
            "stats_norms": stats_norms(config),
            "simulation": simulation(config),
            "stats": stats(config),
            "conversion": conversion(config),
            "l4_setting": dict(config["conversion"]["l4"]),  # the Method's default setting, simulated or not
            **report(config),
        }
    )
