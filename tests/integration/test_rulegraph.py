"""docs/rulegraph.dot and the README's docs/rulegraph.svg match the workflow's `snakemake --rulegraph`.

Compared as graphs (rule names and edges), not bytes: Snakemake lists edges in no fixed order, and
the SVG's coordinates depend on the Graphviz version. Regenerate both with `make dag`.
"""

from __future__ import annotations

import re
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest
from helpers import REPO

pytestmark = pytest.mark.integration

DOCS = REPO / "docs"
SVG_NS = {"svg": "http://www.w3.org/2000/svg"}


def parse_dot(text: str) -> tuple[dict[str, str], set[tuple[str, str]]]:
    """Node id → rule name, and the edges as (rule, rule) pairs, of Snakemake's rulegraph DOT."""
    labels = dict(re.findall(r"^\s*(\d+)\[label = \"([^\"]+)\"", text, re.M))
    edges = {(labels[a], labels[b]) for a, b in re.findall(r"^\s*(\d+) -> (\d+)", text, re.M)}
    return labels, edges


def test_committed_dot_is_the_workflows_rulegraph():
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", "--rulegraph"], cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    live_labels, live_edges = parse_dot(proc.stdout)
    labels, edges = parse_dot((DOCS / "rulegraph.dot").read_text())
    assert live_labels and live_edges
    assert (sorted(labels.values()), edges) == (sorted(live_labels.values()), live_edges), (
        "docs/rulegraph.dot is stale: run `make dag` and commit docs/rulegraph.dot and docs/rulegraph.svg"
    )


def test_committed_svg_draws_the_committed_dot():
    labels, edges = parse_dot((DOCS / "rulegraph.dot").read_text())
    svg = ET.parse(DOCS / "rulegraph.svg").getroot()
    nodes, drawn = {}, set()
    for group in svg.iter("{http://www.w3.org/2000/svg}g"):
        title = group.findtext("svg:title", default="", namespaces=SVG_NS)
        if group.get("class") == "node":
            nodes[title] = group.findtext("svg:text", default="", namespaces=SVG_NS)
        elif group.get("class") == "edge":
            a, b = title.split("->")
            drawn.add((labels[a], labels[b]))
    assert nodes == labels, "docs/rulegraph.svg is stale: run `make dag`"
    assert drawn == edges, "docs/rulegraph.svg is stale: run `make dag`"
    assert "docs/rulegraph.svg" in (REPO / "README.md").read_text()
