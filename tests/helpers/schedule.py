"""Which unit-layer test modules share a pytest-xdist worker (tests/unit/conftest.py's scheduler).

Drawing every figure from the synthetic results (:func:`helpers.figure_data.rendered`) is the largest single cost
of the unit layer, about a quarter of it. Each worker process draws it once, on first use, so the modules that
use it must run on one worker; otherwise both workers draw it and the parallel run is barely faster than a serial
one. The modules are found from their syntax trees: those that import ``rendered`` from ``helpers.figure_data``.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

UNIT_DIR = Path(__file__).resolve().parent.parent / "unit"
RENDERED_SCOPE = "figures-from-the-shared-rendering"


def imports_rendered(module: Path) -> bool:
    """Whether a test module imports ``rendered`` from ``helpers.figure_data``."""
    tree = ast.parse(module.read_text(encoding="utf-8"), filename=str(module))
    return any(
        isinstance(node, ast.ImportFrom)
        and node.module == "helpers.figure_data"
        and any(alias.name == "rendered" for alias in node.names)
        for node in ast.walk(tree)
    )


@cache
def modules_using_the_rendering(rootdir: Path) -> frozenset[str]:
    """The unit layer's test modules that import ``rendered``, as node-id paths (relative to ``rootdir``)."""
    return frozenset(
        path.relative_to(rootdir).as_posix() for path in sorted(UNIT_DIR.rglob("test_*.py")) if imports_rendered(path)
    )


def shared_scope(nodeid: str, rootdir: Path) -> str | None:
    """The one unit of work of every test in a module that uses the rendering; None for any other test."""
    return RENDERED_SCOPE if nodeid.split("::", 1)[0] in modules_using_the_rendering(rootdir) else None
