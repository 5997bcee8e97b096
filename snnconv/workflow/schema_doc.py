"""config/README.md from the config schema: one table row per key (type, default, description).

Generated, never hand-edited, so the reference cannot drift from what the workflow validates:
`make docs` (or ``python -m snnconv.workflow.schema_doc workflow/schemas/config.schema.yaml > config/README.md``);
tests/unit/workflow/test_schema_doc.py checks that the committed file is the generated one.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

SCHEMA = Path("workflow") / "schemas" / "config.schema.yaml"
MISSING = object()


def load(path: str | Path) -> dict[str, Any]:
    """The schema as validation sees it: dataset and architecture names filled in from snnconv.workflow.vocab."""
    from .config import load_schema

    return load_schema(path)


def resolve(node: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    """``node`` with its local ``$ref`` (``#/$defs/...``) merged in; the node's own keys win."""
    ref = node.get("$ref")
    if ref is None:
        return node
    if not ref.startswith("#/"):
        raise ValueError(f"schema: only local $ref is supported, got {ref!r}")
    target: Any = root
    for part in ref[2:].split("/"):
        if not isinstance(target, dict) or part not in target:
            raise ValueError(f"schema: $ref {ref!r} points nowhere")
        target = target[part]
    merged = {**resolve(target, root), **node}
    merged.pop("$ref")
    return merged


def literal(value: Any) -> str:
    """A YAML-ish inline literal: as a user would write it in config.yaml."""
    return json.dumps(value, ensure_ascii=False).replace('"', "")


def bounds(node: dict[str, Any]) -> str:
    """Numeric range and length constraints, e.g. ``≥ 1``, ``(0, 1]``."""
    low = ("(", node["exclusiveMinimum"]) if "exclusiveMinimum" in node else ("[", node.get("minimum"))
    high = (")", node["exclusiveMaximum"]) if "exclusiveMaximum" in node else ("]", node.get("maximum"))
    if low[1] is not None and high[1] is not None:
        return f"{low[0]}{literal(low[1])}, {literal(high[1])}{high[0]}"
    if low[1] is not None:
        return f"{'>' if low[0] == '(' else '≥'} {literal(low[1])}"
    if high[1] is not None:
        return f"{'<' if high[0] == ')' else '≤'} {literal(high[1])}"
    return ""


def type_text(node: dict[str, Any], root: dict[str, Any]) -> str:
    """Type of a schema node in words: ``integer ≥ 1``, ``one of adam, sgd``, ``list of integer ≥ 1``."""
    node = resolve(node, root)
    if "const" in node:
        return literal(node["const"])
    if "enum" in node:
        return "one of " + ", ".join(literal(v) for v in node["enum"])
    if "oneOf" in node or "anyOf" in node:
        return " or ".join(type_text(n, root) for n in node.get("oneOf", node.get("anyOf")))
    kind = node.get("type", "any")
    if kind == "array":
        text = "list of " + (type_text(node["items"], root) if "items" in node else "any")
        extra = [
            f"≥ {node['minItems']} items" if "minItems" in node else "",
            "unique" if node.get("uniqueItems") else "",
        ]
        extra = [e for e in extra if e]
        return f"{text} ({', '.join(extra)})" if extra else text
    if kind == "object":
        return "mapping"
    text = kind if isinstance(kind, str) else " or ".join(kind)
    if "pattern" in node:
        text += f" matching `{node['pattern']}`"
    range_text = bounds(node)
    return f"{text} {range_text}" if range_text else text


def rows(node: dict[str, Any], root: dict[str, Any], path: str = "") -> Iterator[tuple[str, str, str, str]]:
    """(key, type, default, description) of every key below ``node``, depth first, in schema order."""
    node = resolve(node, root)
    required = set(node.get("required", []))
    children = [(name, child) for name, child in node.get("properties", {}).items()]
    children += [
        (f"<{pattern.strip('^$()').replace('|', ' / ')}>", child)
        for pattern, child in node.get("patternProperties", {}).items()
    ]
    for name, child in children:
        key = f"{path}.{name}" if path else name
        child = resolve(child, root)
        default = child.get("default", MISSING)
        default_text = "required" if name in required else ("—" if default is MISSING else f"`{literal(default)}`")
        description = " ".join(str(child.get("description", "")).split()) or "—"
        yield key, type_text(child, root), default_text, description
        if child.get("type") == "object":
            yield from rows(child, root, key)


def cell(text: str) -> str:
    """Markdown table cell: pipes escaped."""
    return text.replace("|", "\\|")


def render(schema: dict[str, Any], source: str = str(SCHEMA)) -> str:
    """The whole config/README.md."""
    title = schema.get("title", "Configuration")
    intro = " ".join(str(schema.get("description", "")).split())
    lines = [
        f"# {title}",
        "",
        f"<!-- Generated from {source} by `make docs` (python -m snnconv.workflow.schema_doc): do not edit by hand. -->",
        "",
        intro,
        "",
        "`config/config.yaml` is the embedded default (digits), `config/paper.yaml` the full reproduction.",
        "Nested keys are written with dots: `training.epochs` is `epochs` under `training:`.",
        "Keys in angle brackets stand for any of the names listed.",
        "",
        "| key | type | default | description |",
        "| --- | --- | --- | --- |",
    ]
    for key, kind, default, description in rows(schema, schema):
        lines.append(f"| `{cell(key)}` | {cell(kind)} | {cell(default)} | {cell(description)} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Print the Markdown for the schema file given (default: the workflow's)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("schema", nargs="?", default=str(SCHEMA), help=f"schema file (default {SCHEMA})")
    args = parser.parse_args(argv)
    path = Path(args.schema)
    try:
        schema = load(path)
    except (OSError, yaml.YAMLError) as err:
        print(f"schema_doc: cannot read {path}: {err}", file=sys.stderr)
        return 1
    sys.stdout.write(render(schema, args.schema))
    return 0


if __name__ == "__main__":
    sys.exit(main())
