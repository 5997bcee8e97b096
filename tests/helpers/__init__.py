"""Shared test helpers (no tests here): test modules import from ``helpers.*``, never from one another.

``tests/`` is on ``sys.path`` for the test session (``pythonpath`` in pyproject.toml), so ``helpers`` imports from
any layer folder.
"""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TINY = REPO / "tests" / "configs" / "tiny.yaml"
