"""The config schema's defaults as keyword arguments of the package's API, for callers without a config.

The simulator, the builders, the data loaders, conversion and training take every setting the config defines as a
required argument (workflow/schemas/config.schema.yaml holds the defaults, once). A caller with no config of its
own (a test, a benchmark, a notebook) names the settings it cares about and takes the rest from here: read from
the schema, never copied. No torch import.
"""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

from .workflow.config import schema_defaults
from .workflow.settings import TRAINING_KEYS

# The ``simulation`` keys that :func:`snnconv.simulate.simulate` takes as keyword arguments (T is positional and
# the input seed is ``seed``, one of ``input_seeds``).
SIMULATE_KEYS = ("encoding", "max_rate", "reset", "decode", "batch_size", "time_chunk", "device", "compile")
# ... and those :func:`snnconv.simulate.simulate_stepwise` takes (it has no blocks and no compiled step).
STEPWISE_KEYS = ("encoding", "max_rate", "reset", "decode", "batch_size", "device")


@cache
def _defaults() -> dict[str, Any]:
    """The schema's defaults, read once per process."""
    return schema_defaults()


def defaults() -> dict[str, Any]:
    """Every default of the schema, as a config (a fresh copy: callers may change it)."""
    return copy.deepcopy(_defaults())


def arch_args(arch: str, **overrides: Any) -> dict[str, Any]:
    """``arch_options[arch]`` of the schema, overridden by ``overrides``: the keyword arguments of its builder."""
    return {**defaults()["arch_options"][arch], **overrides}


def dataset_args(dataset: str, **overrides: Any) -> dict[str, Any]:
    """``dataset_options[dataset]`` of the schema, overridden by ``overrides``: the options of ``prepare_dataset``."""
    return {**defaults()["dataset_options"][dataset], **overrides}


def digits_args(**overrides: Any) -> dict[str, Any]:
    """The keyword arguments of ``load_digits_dataset`` from ``dataset_options.digits``."""
    digits = defaults()["dataset_options"]["digits"]
    return {"test_fraction": digits["test_fraction"], "seed": digits["split_seed"], **overrides}


def _simulation(keys: tuple[str, ...], overrides: dict[str, Any]) -> dict[str, Any]:
    """``keys`` of the ``simulation`` section and its first input seed as ``seed``, then ``overrides``."""
    sim = defaults()["simulation"]
    return {**{k: sim[k] for k in keys}, "seed": sim["input_seeds"][0], **overrides}


def sim_args(**overrides: Any) -> dict[str, Any]:
    """The keyword arguments of ``simulate`` from the schema's ``simulation`` section, overridden by ``overrides``."""
    return _simulation(SIMULATE_KEYS, overrides)


def stepwise_args(**overrides: Any) -> dict[str, Any]:
    """The keyword arguments of ``simulate_stepwise`` from the schema's ``simulation`` section."""
    return _simulation(STEPWISE_KEYS, overrides)


def stats_args(**overrides: Any) -> dict[str, Any]:
    """The keyword arguments of ``record_membrane_stats``: the ``stats`` section's sample size and seed, the
    simulation's input and neuron settings (as scripts/membrane_stats.py passes them)."""
    sim, stats = defaults()["simulation"], defaults()["stats"]
    return {
        "seed": sim["input_seeds"][0],
        "neurons_per_layer": stats["neurons_per_layer"],
        "sample_seed": stats["seed"],
        **{k: sim[k] for k in ("max_rate", "batch_size", "time_chunk", "device", "reset")},
        **overrides,
    }


def training_args(**overrides: Any) -> dict[str, Any]:
    """A training ``cfg`` of ``train_ann``: every recipe key and the execution keys (device, threads,
    channels_last) of the schema's ``training`` section, overridden by ``overrides``."""
    tr = defaults()["training"]
    return {**{k: tr[k] for k in (*TRAINING_KEYS, "device", "threads", "channels_last")}, **overrides}


def conversion_args(sweep: dict[str, Any] | None = None, **overrides: Any) -> dict[str, Any]:
    """The schema's ``conversion`` section with ``overrides``; ``sweep`` replaces only the sweep keys it names."""
    conversion = defaults()["conversion"]
    return {**conversion, "sweep": {**conversion["sweep"], **(sweep or {})}, **overrides}


def convert_args(**overrides: Any) -> dict[str, Any]:
    """The keyword arguments of ``convert`` from the schema's ``conversion`` section (per_channel,
    maxpool_to_avgpool), overridden by ``overrides`` (stats, calib pass through)."""
    conversion = defaults()["conversion"]
    return {k: conversion[k] for k in ("per_channel", "maxpool_to_avgpool")} | overrides


def nir_args(**overrides: Any) -> dict[str, Any]:
    """The keyword arguments of ``to_nir`` / ``write_nir``: the simulation's ``reset``."""
    return {"reset": defaults()["simulation"]["reset"], **overrides}
