"""Bounds on a parsed config before it is validated: YAML alias bombs and unbounded values in messages.

A 700-byte YAML file whose aliases nest (``b: [*a, *a, …]``, ``c: [*b, *b, …]``, …) parses into a small graph
of shared objects that *expands* to billions of values; anything that walks or prints the expanded value
(JSON-schema validation, its error messages) then runs for minutes and exhausts memory. The config is
counted with a traversal that stops at a cap, and values in messages go through :func:`short_repr`.
"""

from __future__ import annotations

import reprlib
from typing import Any

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
    """A jsonschema error's message with the offending value's repr bounded (its own repr is unbounded)."""
    message = error.message
    if len(message) <= limit:
        return message
    full = repr(error.instance)  # bounded: check_config_size ran first
    return shorten(message.replace(full, short_repr(error.instance)) if full in message else message, limit)


def shorten(text: str, limit: int = MAX_REPR_CHARS) -> str:
    """``text`` cut to ``limit`` characters, saying how much was cut."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text) - limit} more characters)"
