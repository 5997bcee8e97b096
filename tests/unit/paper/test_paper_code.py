"""The paper rules' code digests (snnconv/workflow/codehash.py) cover the paper package's modules: an edit of the prose or
the numbers reruns rule paper_macros, an edit of the build reruns rule paper, and neither reruns the other."""

from __future__ import annotations

from helpers.figure_data import REPO

from snnconv.workflow import codehash


def closure(script: str) -> set[str]:
    """The package files a rule script can import, relative to the repository."""
    return {p.relative_to(REPO).as_posix() for p in codehash.package_closure(REPO / "scripts" / script, REPO)}


def test_paper_macros_digest_covers_numbers_prose_and_wording():
    files = closure("paper_macros.py")
    want = {f"snnconv/paper/{m}.py" for m in ("__init__", "macro_file", "numbers", "prose", "wording", "l4_table")}
    assert want <= files, sorted(want - files)
    assert "snnconv/analysis/correlations.py" in files  # the tie rule the variance verdict words
    assert "snnconv/paper/build.py" not in files


def test_paper_build_digest_covers_the_build_alone():
    files = closure("build_paper.py")
    assert "snnconv/paper/build.py" in files
    assert not {"snnconv/paper/prose.py", "snnconv/paper/numbers.py"} & files
