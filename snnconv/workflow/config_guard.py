"""Bounds on a parsed config before it is validated: YAML alias bombs and unbounded values in messages.

A 700-byte YAML file whose aliases nest (``b: [*a, *a, …]``, ``c: [*b, *b, …]``, …) parses into a small graph
of shared objects that *expands* to billions of values; anything that walks or prints the expanded value
(JSON-schema validation, its error messages) then runs for minutes and exhausts memory. The config is
counted with a traversal that stops at a cap, and values in messages go through :func:`short_repr`.
"""

from __future__ import annotations

import re
import reprlib
from typing import Any

import yaml

MAX_CONFIG_NODES = 100_000  # values after alias expansion; a full real config has a few hundred
MAX_REPR_CHARS = 200

_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxdict, _REPR.maxlist, _REPR.maxtuple, _REPR.maxset = 3, 6, 6, 6, 6
_REPR.maxstring, _REPR.maxother, _REPR.maxlong = 80, 80, 40


def count_nodes(value: Any, cap: int = MAX_CONFIG_NODES) -> int:
    """Values in ``value`` counted as if every alias were expanded, stopping once the count exceeds ``cap``."""
    count, stack = 0, [value]
    while stack:
        item = stack.pop()
        count += 1
        if count > cap:
            return count
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, (list, tuple, set)):
            stack.extend(item)
    return count


def check_config_size(config: Any, error: type[Exception] = ValueError, cap: int = MAX_CONFIG_NODES) -> None:
    """Raise ``error`` if the config expands to more than ``cap`` values (a YAML alias bomb); O(cap) time."""
    if count_nodes(config, cap) > cap:
        raise error(
            f"config error at '<top level>': the configuration expands to more than {cap} values (keys, items and scalars "
            "after YAML aliases '*name' are expanded); a real config holds a few hundred. Refusing it before "
            "validation (a YAML alias bomb, or a wrong file given as --configfile)"
        )


def short_repr(value: Any, limit: int = MAX_REPR_CHARS) -> str:
    """A repr of ``value`` of at most ``limit`` characters, in time bounded whatever its size or sharing."""
    return shorten(_REPR.repr(value), limit)


def schema_message(error: Any, limit: int = MAX_REPR_CHARS) -> str:
    """A jsonschema error's message with the offending value's repr bounded (its own repr is unbounded), plus what
    to write instead where the value is recognisably a number or a switch that arrived as text."""
    message = error.message
    if error.validator in ("oneOf", "anyOf") and error.schema.get("description"):
        message = f"{short_repr(error.instance)} is not {error.schema['description']}"  # not "valid under any …"
    if len(message) > limit:
        full = repr(error.instance)  # bounded: check_config_size ran first
        message = shorten(message.replace(full, short_repr(error.instance)) if full in message else message, limit)
    consts = [b["const"] for b in error.schema.get("oneOf", []) if isinstance(b, dict) and "const" in b]
    same = [c for c in consts if isinstance(error.instance, str) and c.lower() == error.instance.lower()]
    if same:  # 'Inf' for inf: the word is right, its case is not
        return message + f" (write {same[0]!r}: case matters)"
    return message + text_hint(error.instance, _expected_types(error))


def _expected_types(error: Any) -> set[str]:
    """The JSON types the failing schema accepts (``type``, or the types of its ``oneOf``/``anyOf`` branches)."""
    found: set[str] = set()
    for schema in [error.schema, *error.schema.get("oneOf", []), *error.schema.get("anyOf", [])]:
        kind = schema.get("type") if isinstance(schema, dict) else None
        found |= {kind} if isinstance(kind, str) else set(kind or ())
    if any("$ref" in s for s in error.schema.get("oneOf", []) if isinstance(s, dict)):
        found.add("integer")  # a reference to positive_int and the like
    return found


_NO_DOT_EXPONENT = re.compile(r"[-+]?\d+[eE][-+]?\d+")
_INFINITE = re.compile(r"[-+]?(inf|infinity|nan)", re.IGNORECASE)
_SWITCH = re.compile(r"(true|false|yes|no|on|off)", re.IGNORECASE)


def text_hint(value: Any, expected: set[str]) -> str:
    """Why a number or a switch arrived as text, and how to write it; '' when ``value`` is not such a case.

    Three ways it happens: PyYAML (YAML 1.1) reads an exponent without a decimal point (``1e-3``) as text; a value
    quoted in the file; and snakemake's ``--config``, which reads every value nested in ``{…}`` or ``[…]`` with
    YAML's base loader (all text) and a top-level ``true``/``false`` as text (it parses only ``True``/``False``).
    """
    if not isinstance(value, str) or not expected & {"number", "integer", "boolean"}:
        return ""
    shown = short_repr(value)
    if _NO_DOT_EXPONENT.fullmatch(value) and expected & {"number"}:
        mantissa, _, exponent = value.lower().partition("e")
        return (
            f" ({shown} is text: YAML reads an exponent without a decimal point as a string; write {mantissa}.0e"
            f"{exponent} or {float(value):g})"
        )
    if _INFINITE.fullmatch(value) and expected & {"number", "integer"}:
        return (
            f" ({shown} is text; YAML writes infinity as .inf and not-a-number as .nan, and this setting takes neither)"
        )
    if _SWITCH.fullmatch(value) and "boolean" in expected:
        return (
            f" ({shown} is text: in a YAML file write true or false without quotes; on the command line snakemake's "
            "--config turns only True and False into a switch)"
        )
    try:
        parsed = yaml.safe_load(value)
    except yaml.YAMLError:
        return ""
    if isinstance(parsed, (int, float)) and not isinstance(parsed, bool) and expected & {"number", "integer"}:
        return (
            f" ({shown} is text, not a number: snakemake's --config passes every value nested in {{…}} or […] as "
            "text; give nested settings in a --configfile, and in a YAML file write numbers without quotes)"
        )
    return ""


def shorten(text: str, limit: int = MAX_REPR_CHARS) -> str:
    """``text`` cut to ``limit`` characters, saying how much was cut."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text) - limit} more characters)"
