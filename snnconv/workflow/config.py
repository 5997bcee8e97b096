"""Configuration: JSON-schema validation with defaults, plus the checks a schema cannot express.

Every error names the offending key and value, and is raised before any job runs.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator, validators

from ..presets import VGG_ARCHS, vgg_layers
from ..resources import schema_path
from .config_guard import check_config_size, schema_message
from .vocab import ARCHS, DATASETS

# workflow/schemas/config.schema.yaml, through the package's resources (also found after a non-editable install)
SCHEMA_PATH = schema_path()


class ConfigError(ValueError):
    """A configuration value is invalid; the message names key and value."""


def _extend_with_defaults(validator_class: type) -> type:
    """A validator that fills in ``default`` values of object properties while validating."""
    validate_properties = validator_class.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema):  # noqa: ANN001 - jsonschema callback
        if isinstance(instance, dict):
            for name, subschema in properties.items():
                if "default" in subschema and name not in instance:
                    instance[name] = _copy(subschema["default"])
        yield from validate_properties(validator, properties, instance, schema)

    return validators.extend(validator_class, {"properties": set_defaults})


def _copy(value: Any) -> Any:
    """Deep copy of plain YAML data (defaults must not be shared between configs)."""
    return yaml.safe_load(yaml.safe_dump(value))


def _is_strict_integer(checker: Any, instance: Any) -> bool:  # noqa: ARG001 - jsonschema type-checker signature
    """JSON Schema counts 5.0 as an integer; a seed of 5.0 or a T point of 5.0 breaks paths and tables: refuse it."""
    return isinstance(instance, int) and not isinstance(instance, bool)


_StrictIntegers = validators.extend(
    Draft202012Validator, type_checker=Draft202012Validator.TYPE_CHECKER.redefine("integer", _is_strict_integer)
)
DefaultFillingValidator = _extend_with_defaults(_StrictIntegers)


def _key_path(path: Iterable[Any]) -> str:
    """'a.b[0]' from a jsonschema error path."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "<top level>"


def missing_config_message(workdir: str | Path, repo: str | Path) -> str:
    """What to do when Snakemake runs this workflow from a folder with no config: name the file and the ways to
    supply one (the catalog's layout, --configfile, or a module's ``config:``)."""
    return (
        f"no config: {Path(workdir) / 'config' / 'config.yaml'} does not exist and none was given. Copy the "
        f"default there (mkdir -p config && cp {Path(repo) / 'config' / 'config.yaml'} config/), or pass "
        "--configfile <path>, or, using this workflow as a module, give `config: config` in the module block "
        '(README "Use as a module"). Every key is described in config/README.md.'
    )


def load_schema(path: str | Path = SCHEMA_PATH) -> dict[str, Any]:
    """The workflow's config schema, with the dataset and architecture names filled in from :mod:`snnconv.workflow.vocab`."""
    with open(path) as handle:
        schema = yaml.safe_load(handle)
    props = schema["properties"]
    props["datasets"]["items"]["enum"] = list(DATASETS)
    props["archs"]["items"]["enum"] = list(ARCHS)
    props["dataset_archs"]["propertyNames"]["enum"] = list(DATASETS)
    props["dataset_archs"]["additionalProperties"]["items"]["enum"] = list(ARCHS)
    props["training"]["properties"]["epochs_by_dataset"]["propertyNames"]["enum"] = list(DATASETS)
    by_dataset = props["training"]["properties"]["recipe_by_dataset"]
    by_dataset["propertyNames"]["enum"] = list(DATASETS)
    by_dataset["additionalProperties"] = recipe_schema(props["training"]["properties"])
    return schema


# Training keys that are not part of a per-dataset recipe: execution settings and the per-dataset tables themselves.
NOT_RECIPE_KEYS = ("device", "threads", "epochs_by_dataset", "recipe_by_dataset")


def recipe_schema(training_properties: dict[str, Any]) -> dict[str, Any]:
    """The schema of one ``training.recipe_by_dataset`` entry: the training section's recipe keys with their
    types and bounds but without defaults (an entry replaces only the keys it names)."""
    properties = {
        key: {k: v for k, v in sub.items() if k != "default"}
        for key, sub in training_properties.items()
        if key not in NOT_RECIPE_KEYS
    }
    return {"type": "object", "additionalProperties": False, "properties": properties}


def schema_defaults(schema_path: str | Path = SCHEMA_PATH) -> dict[str, Any]:
    """Every default the schema gives, as a config (the required keys, which have none, absent): the one source
    of a setting's value where a caller has no config, e.g. a checkpoint written before an option existed."""
    config: dict[str, Any] = {}
    for _ in DefaultFillingValidator(load_schema(schema_path)).iter_errors(config):
        pass  # the missing required keys: only the filled-in defaults are wanted
    return config


def validate_config(config: dict[str, Any], schema_path: str | Path = SCHEMA_PATH) -> dict[str, Any]:
    """Validate ``config`` in place (filling defaults) and run the cross-key checks; returns it."""
    check_config_size(config, ConfigError)  # before anything walks or prints it: YAML alias bombs
    validator = DefaultFillingValidator(load_schema(schema_path))
    errors = sorted(
        validator.iter_errors(config), key=lambda e: (len(e.absolute_path), list(map(str, e.absolute_path)))
    )
    if errors:
        err = errors[0]
        raise ConfigError(
            f"config error at '{_key_path(err.absolute_path)}': {schema_message(err)}"
            + (f" (and {len(errors) - 1} more)" if len(errors) > 1 else "")
        )
    _check_semantics(config)
    return config


def _check_finite(key: str, value: Any) -> None:
    """Reject NaN/inf numbers, which JSON-schema bounds let through."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"config error at '{key}': {value!r} is not a finite number")


def _check_semantics(config: dict[str, Any]) -> None:
    """Checks across keys: finite coefficients, parseable and unique norm names, T points within T."""
    from ..convert.names import canonicalize, resolve_norms

    conv = config["conversion"]
    _check_finite("conversion.l4.k", conv["l4"]["k"])
    for i, k in enumerate(conv["sweep"]["k"]):
        _check_finite(f"conversion.sweep.k[{i}]", k)
    if bool(conv["sweep"]["p"]) != bool(conv["sweep"]["k"]):
        raise ConfigError("config error at 'conversion.sweep': give both 'p' and 'k' (or neither)")
    seen: dict[str, str] = {}
    for i, name in enumerate(conv["norms"]):
        try:
            canon = canonicalize(name, conv)
        except ValueError as exc:
            raise ConfigError(f"config error at 'conversion.norms[{i}]': {exc}") from exc
        if canon in seen:
            same = "" if seen[canon] == name else f" (same as {seen[canon]!r}: both are {canon!r})"
            raise ConfigError(f"config error at 'conversion.norms[{i}]': duplicate norm name {name!r}{same}")
        seen[canon] = name
    try:
        names = resolve_norms(conv).names
    except ValueError as exc:
        raise ConfigError(f"config error at 'conversion': {exc}") from exc
    for i, name in enumerate(config["stats"]["norms"]):
        try:
            canon = canonicalize(name, conv)
        except ValueError as exc:
            raise ConfigError(f"config error at 'stats.norms[{i}]': {exc}") from exc
        if canon not in names:
            raise ConfigError(f"config error at 'stats.norms[{i}]': {name!r} is not one of the converted norms {names}")
    for arch in VGG_ARCHS:
        try:
            vgg_layers(arch, config["arch_options"][arch])
        except ValueError as exc:
            raise ConfigError(f"config error at 'arch_options.{arch}': {exc}") from exc
    for dataset, recipe in config["training"]["recipe_by_dataset"].items():
        if "epochs" in recipe and dataset in config["training"]["epochs_by_dataset"]:
            raise ConfigError(
                f"config error at 'training.recipe_by_dataset.{dataset}.epochs': training.epochs_by_dataset also "
                f"sets the epochs of {dataset}; give them in one place"
            )
    T = config["simulation"]["T"]
    for i, t in enumerate(config["report"]["T_points"]):
        if t > T:
            raise ConfigError(f"config error at 'report.T_points[{i}]': {t} exceeds simulation.T = {T}")


def archs_of(config: dict[str, Any], dataset: str) -> list[str]:
    """The architectures trained on ``dataset``: ``dataset_archs[dataset]`` if given, else ``archs``."""
    return list(config["dataset_archs"].get(dataset) or config["archs"])


def model_pairs(config: dict[str, Any]) -> list[tuple[str, str]]:
    """Every (dataset, arch) of the run, datasets in config order (the {dataset}/{arch} wildcards of a model)."""
    return [(d, a) for d in config["datasets"] for a in archs_of(config, d)]


def all_archs(config: dict[str, Any]) -> list[str]:
    """Every architecture trained on some dataset of the run, first appearance first."""
    return list(dict.fromkeys(a for _, a in model_pairs(config)))


def stats_norms(config: dict[str, Any]) -> list[str]:
    """``stats.norms`` as canonical names (role aliases resolved), de-duplicated, order kept."""
    from ..convert.names import canonicalize

    conv = config["conversion"]
    return list(dict.fromkeys(canonicalize(n, conv) for n in config["stats"]["norms"]))


def read_config_file(path: str | Path) -> dict[str, Any]:
    """A config file's mapping, read with ``yaml.safe_load``; ConfigError naming the file, line and problem.

    Snakemake's own loader answers every YAML problem with one sentence about tabs and names no file; a tag such as
    ``!!python/object`` (a Python object, which a safe loader never builds) gets its own explanation here.
    """
    path = Path(path)
    if path.is_dir():
        raise ConfigError(f"{path}: is a folder, not a config file")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the config file ({exc})") from exc
    try:
        config = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: {yaml_problem(exc)}") from None
    if not isinstance(config, dict):
        raise ConfigError(f"{path}: a config must be a YAML mapping of settings, got {type(config).__name__}")
    return config


def yaml_problem(exc: yaml.YAMLError) -> str:
    """Where and what a YAML error is, in a sentence (line and column 1-based)."""
    mark = getattr(exc, "problem_mark", None)
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
    problem = getattr(exc, "problem", None) or str(exc)
    tag = re.search(r"tag '(?:tag:yaml\.org,2002:)?([^']+)'", problem)
    if isinstance(exc, yaml.constructor.ConstructorError) and tag:
        return (
            f"{where}the tag !!{tag.group(1)} asks for a Python object; a config holds plain YAML data (mappings, "
            "lists, strings, numbers, true/false) and is read with a safe loader that never builds objects: remove "
            "the tag"
        )
    return f"{where}not valid YAML ({problem}{'; ' + exc.context if getattr(exc, 'context', None) else ''})"


def load_config(path: str | Path) -> dict[str, Any]:
    """Read a YAML config file (:func:`read_config_file`) and validate it."""
    return validate_config(read_config_file(path))
