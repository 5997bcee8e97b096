"""The unit layer's xdist schedule: every module that draws from the shared rendering shares one worker."""

from __future__ import annotations

import re
from pathlib import Path

from helpers import REPO
from helpers.schedule import RENDERED_SCOPE, UNIT_DIR, modules_using_the_rendering, shared_scope


def test_every_module_that_calls_rendered_is_found():
    """A module that calls ``rendered()`` however it imported it is in the shared set (else it would draw again)."""
    calling = {
        path.relative_to(REPO).as_posix()
        for path in UNIT_DIR.rglob("test_*.py")
        if path != Path(__file__).resolve() and re.search(r"\brendered\(\)", path.read_text(encoding="utf-8"))
    }
    found = modules_using_the_rendering(REPO)
    assert calling, "no unit test reads the rendering: the shared scope is no longer needed"
    assert calling <= found, f"modules call rendered() but are not scheduled together: {sorted(calling - found)}"
    assert {"tests/unit/report/test_figures_plots.py", "tests/unit/paper/test_paper_macros.py"} <= found


def test_those_modules_map_to_one_scope_and_others_to_none():
    found = sorted(modules_using_the_rendering(REPO))
    assert {shared_scope(f"{m}::test_x[a-b]", REPO) for m in found} == {RENDERED_SCOPE}
    assert shared_scope("tests/unit/workflow/test_config.py::test_bad_values_name_key[x]", REPO) is None
    assert shared_scope("tests/unit/cli/test_cli.py", REPO) is None
