"""Files the package needs at run time, found the same way in a checkout and in a non-editable install.

``config.schema.yaml`` and ``paper/`` are links to ``workflow/schemas/config.schema.yaml`` and the repository's
``paper/`` sources (one copy of each in git); a wheel stores them as files, so ``importlib.resources`` finds them
wherever ``pip install .`` put the package.
"""

from __future__ import annotations

from importlib.resources import as_file, files
from pathlib import Path

PAPER_SOURCES = ("main.tex", "refs.bib")


def schema_path() -> Path:
    """The config schema (a real file path: jsonschema, yaml and error messages want one)."""
    with as_file(files(__name__) / "config.schema.yaml") as path:
        return Path(path)


def paper_source(name: str) -> Path:
    """One of the paper's LaTeX sources (``main.tex``, ``refs.bib``)."""
    if name not in PAPER_SOURCES:
        raise ValueError(f"paper source {name!r} not in {PAPER_SOURCES}")
    with as_file(files(__name__) / "paper" / name) as path:
        return Path(path)
