"""Shared test helpers (no tests here): test modules import from ``helpers.*``, never from one another.

``tests/`` is on ``sys.path`` for the test session (``pythonpath`` in pyproject.toml), so ``helpers`` imports from
any layer folder.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TINY = REPO / "tests" / "configs" / "tiny.yaml"


def shared_data_dir() -> Path:
    """The shared real datasets: $SNNCONV_SHARED_DATA (when set and not empty), else ../shared/data beside the
    checkout, where CI puts them."""
    return Path(os.environ.get("SNNCONV_SHARED_DATA") or REPO.parent / "shared" / "data")
