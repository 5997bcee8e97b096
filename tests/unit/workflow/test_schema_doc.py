"""config/README.md is generated from the config schema (snnconv/workflow/schema_doc.py) and committed up to date."""

from __future__ import annotations

import yaml
from helpers import REPO

from snnconv.workflow.schema_doc import load, render, rows

SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"


def test_committed_config_readme_is_the_generated_one():
    generated = render(load(SCHEMA), "workflow/schemas/config.schema.yaml")
    committed = (REPO / "config" / "README.md").read_text()
    assert committed == generated, "config/README.md is stale: run `make docs` and commit it"


def test_every_schema_key_has_a_row():
    schema = yaml.safe_load(SCHEMA.read_text())
    keys = {key for key, *_ in rows(schema, schema)}
    assert set(schema["properties"]) <= keys
    for section in ("training", "conversion", "simulation", "stats", "report"):
        for name in schema["properties"][section]["properties"]:
            assert f"{section}.{name}" in keys


def test_rows_resolve_refs_defaults_enums_and_patterns():
    schema = {
        "$defs": {"pos": {"type": "integer", "minimum": 1, "description": "a count"}},
        "required": ["n"],
        "properties": {
            "n": {"$ref": "#/$defs/pos"},
            "opt": {
                "type": "object",
                "default": {},
                "properties": {
                    "mode": {"type": "string", "enum": ["a", "b"], "default": "a", "description": "how | why"},
                    "xs": {
                        "type": "array",
                        "items": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
                        "minItems": 1,
                        "default": [0.5],
                    },
                },
            },
            "per": {"type": "object", "patternProperties": {"^(u|v)$": {"type": "boolean", "default": True}}},
        },
    }
    assert list(rows(schema, schema)) == [
        ("n", "integer ≥ 1", "required", "a count"),
        ("opt", "mapping", "`{}`", "—"),
        ("opt.mode", "one of a, b", "`a`", "how | why"),
        ("opt.xs", "list of number (0, 1] (≥ 1 items)", "`[0.5]`", "—"),
        ("per", "mapping", "—", "—"),
        ("per.<u / v>", "boolean", "`true`", "—"),
    ]
    assert "| how \\| why |" in render(schema)
