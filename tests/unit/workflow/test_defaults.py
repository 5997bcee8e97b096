"""Defaults live once, in the config schema: config/config.yaml repeats none of them, and the package's API
(simulators, builders, data loaders, conversion, NIR export) has no keyword default for a setting the schema
defines, so a changed schema default cannot be shadowed by a second copy in code."""

from __future__ import annotations

import ast
import inspect
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pytest
import yaml
from helpers import REPO

from snnconv import models
from snnconv.convert import convert
from snnconv.convert.layers import parse_model
from snnconv.convert.pipeline import prepare
from snnconv.data import prepare_dataset
from snnconv.data.cifar import load_image_folder
from snnconv.data.digits import load_digits_dataset
from snnconv.simulate import if_scan, simulate, simulate_stepwise
from snnconv.simulate.stats import record_membrane_stats
from snnconv.workflow.config import schema_defaults
from snnconv.workflow.vocab import ARCHS, DATASETS

DEFAULTS = schema_defaults()


def lookup(path: str) -> Any:
    """The schema default at a dotted ``path`` (e.g. ``simulation.reset``)."""
    node: Any = DEFAULTS
    for part in path.split("."):
        node = node[part]
    return node


def same(a: Any, b: Any) -> bool:
    """Equal as config values: ``true`` is not ``1``, ``1`` is ``1.0``."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    return a == b


def repeated_defaults(config: Mapping[str, Any], defaults: Mapping[str, Any], prefix: str = "") -> Iterator[str]:
    """Every key path of ``config`` whose value is the schema's default, unchanged (a mapping is walked: only its
    leaves are values; a key without a schema default is never a repetition)."""
    for key, value in config.items():
        path = f"{prefix}{key}"
        if key not in defaults:
            continue
        if isinstance(value, Mapping) and isinstance(defaults[key], Mapping):
            yield from repeated_defaults(value, defaults[key], f"{path}.")
        elif same(value, defaults[key]):
            yield path


# Configs that show only what differs from the schema: the embedded default, the catalog's test config and the
# test suite's configs. The study configs (config/paper*.yaml) and the measured training recipes (bench/recipes/)
# are records of what a published or measured number used: they state those settings on purpose, so that a later
# change of a schema default cannot change a published study or a recorded measurement (README "Config reference").
DIFF_ONLY_CONFIGS = [
    "config/config.yaml",
    ".test/config/config.yaml",
    *sorted(p.relative_to(REPO).as_posix() for p in (REPO / "tests" / "configs").glob("*.yaml")),
]


@pytest.mark.parametrize("name", DIFF_ONLY_CONFIGS)
def test_a_config_that_shows_differences_repeats_no_schema_default(name):
    config = yaml.safe_load((REPO / name).read_text())
    repeated = list(repeated_defaults(config, DEFAULTS))
    assert not repeated, f"{name} repeats the schema's defaults of {repeated}: remove them"


def test_a_repeated_default_is_found_at_any_depth():
    config = {
        "datasets": ["digits"],  # required, no default: never a repetition
        "training": {"epochs": DEFAULTS["training"]["epochs"], "lr": 0.5},
        "conversion": {"sweep": {"uniform": DEFAULTS["conversion"]["sweep"]["uniform"], "p": [4]}},
        "arch_options": {"mlp": {"hidden": list(DEFAULTS["arch_options"]["mlp"]["hidden"]), "bias": False}},
        "simulation": {"max_rate": int(DEFAULTS["simulation"]["max_rate"])},  # 1 is 1.0
        "download": 0,  # not false: another value
    }
    assert sorted(repeated_defaults(config, DEFAULTS)) == [
        "arch_options.mlp.hidden",
        "conversion.sweep.uniform",
        "simulation.max_rate",
        "training.epochs",
    ]


def test_every_arch_and_dataset_has_its_options_in_the_schema():
    assert set(DEFAULTS["arch_options"]) == set(ARCHS)
    assert set(DEFAULTS["dataset_options"]) == set(DATASETS)
    for dataset in DATASETS:
        assert {"subset_train", "subset_test"} <= set(DEFAULTS["dataset_options"][dataset]), dataset


# Each function of the API and the config settings among its parameters: parameter name -> the dotted schema key
# it carries. Every one must be a parameter without a default (the caller passes the validated config's value).
BUILDER_SETTINGS = {
    arch: {key: f"arch_options.{arch}.{key}" for key in DEFAULTS["arch_options"][arch]} for arch in models.BUILDERS
}
SIM = {k: f"simulation.{k}" for k in ("encoding", "max_rate", "reset", "decode", "batch_size", "device")}
API: list[tuple[Callable[..., Any], dict[str, str]]] = [
    *((models.BUILDERS[arch], BUILDER_SETTINGS[arch]) for arch in models.BUILDERS),
    (
        simulate,
        {
            **SIM,
            "seed": "simulation.input_seeds",
            "time_chunk": "simulation.time_chunk",
            "compile": "simulation.compile",
        },
    ),
    (simulate_stepwise, {**SIM, "seed": "simulation.input_seeds"}),
    (
        record_membrane_stats,
        {
            **{k: f"simulation.{k}" for k in ("max_rate", "batch_size", "time_chunk", "device", "reset")},
            "seed": "simulation.input_seeds",
            "neurons_per_layer": "stats.neurons_per_layer",
            "sample_seed": "stats.seed",
        },
    ),
    (if_scan, {"reset": "simulation.reset"}),
    (
        load_digits_dataset,
        {"test_fraction": "dataset_options.digits.test_fraction", "seed": "dataset_options.digits.split_seed"},
    ),
    (
        load_image_folder,
        {k: f"dataset_options.cifar10_jpeg.{k}" for k in ("subset_train", "subset_test")},
    ),
    (prepare_dataset, {"options": "dataset_options"}),
    (convert, {k: f"conversion.{k}" for k in ("per_channel", "maxpool_to_avgpool")}),
    (prepare, {"maxpool_to_avgpool": "conversion.maxpool_to_avgpool"}),
    (parse_model, {"maxpool_to_avgpool": "conversion.maxpool_to_avgpool"}),
]
try:  # the NIR export is an extra
    from snnconv.export import to_nir, write_nir

    API += [(to_nir, {"reset": "simulation.reset"}), (write_nir, {"reset": "simulation.reset"})]
except ImportError:  # pragma: no cover - without the nir extra its two functions are not checked
    pass


def config_defaults_in(function: Callable[..., Any], settings: Mapping[str, str]) -> list[str]:
    """The parameters of ``function`` that carry a config setting (``settings``) but have a default of their own,
    or that ``settings`` names and the function lacks."""
    params = inspect.signature(function).parameters
    problems = [f"{name} (lacks it)" for name in settings if name not in params]
    problems += [
        f"{name}={params[name].default!r} (schema: {settings[name]})"
        for name in settings
        if name in params and params[name].default is not inspect.Parameter.empty
    ]
    return problems


@pytest.mark.parametrize(("function", "settings"), API, ids=[f"{f.__module__}.{f.__name__}" for f, _ in API])
def test_the_api_has_no_keyword_default_for_a_schema_setting(function, settings):
    assert all(lookup(path) is not None for path in settings.values())  # every key named is a schema key
    assert not config_defaults_in(function, settings), f"{function.__name__}: {config_defaults_in(function, settings)}"


def test_a_builder_takes_exactly_its_arch_options():
    """A builder's keyword parameters are its ``arch_options`` (vgg's ``arch`` is set by build_vgg16, not a config key)."""
    for arch, builder in models.BUILDERS.items():
        params = inspect.signature(builder).parameters
        keyword = {n for n, p in params.items() if p.kind is inspect.Parameter.KEYWORD_ONLY} - {"arch"}
        assert keyword == set(DEFAULTS["arch_options"][arch]), arch


def test_a_keyword_default_for_a_schema_setting_is_found():
    def simulate_like(net: Any, *, reset: str = "subtract", seed: int, dtype: str = "float32") -> None:
        """A stand-in with one repeated default (reset), one required setting (seed), one non-config default."""

    assert config_defaults_in(simulate_like, {"reset": "simulation.reset", "seed": "simulation.input_seeds"}) == [
        "reset='subtract' (schema: simulation.reset)"
    ]
    assert config_defaults_in(simulate_like, {"decode": "simulation.decode"}) == ["decode (lacks it)"]


def fallback_gets(source: str, keys: set[str]) -> list[str]:
    """``x.get("<key>", <literal>)`` calls in ``source`` for a ``key`` the schema defaults: a second default."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "get"
            and len(node.args) == 2
            and isinstance(node.args[0], ast.Constant)
            and node.args[0].value in keys
            and isinstance(node.args[1], (ast.Constant, ast.List, ast.Tuple, ast.Dict))
        ):
            found.append(f"line {node.lineno}: {ast.unparse(node)}")
    return found


def schema_keys(node: Any) -> set[str]:
    """Every key that has a default somewhere in the schema's defaults."""
    if not isinstance(node, Mapping):
        return set()
    return set(node) | {k for value in node.values() for k in schema_keys(value)}


def test_no_module_falls_back_to_its_own_value_for_a_schema_key():
    keys = schema_keys(DEFAULTS)
    files = sorted([*(REPO / "snnconv").rglob("*.py"), *(REPO / "scripts").glob("*.py")])
    found = {str(f.relative_to(REPO)): fallback_gets(f.read_text(), keys) for f in files}
    found = {f: hits for f, hits in found.items() if hits}
    assert not found, f"fallback values for schema keys (take them from the validated config): {found}"
    assert fallback_gets('cfg.get("threads", 1)\nrow.get("name", 0)', keys) == ["line 1: cfg.get('threads', 1)"]
