"""Run bookkeeping shared by the rule scripts: logging to the rule's log file, git revision, versions."""

from __future__ import annotations

import logging
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any


def setup_logging(log_path: str | Path | None, level: int = logging.INFO) -> logging.Logger:
    """Send the package's log records (and warnings) to the rule's log file, or to stderr where there is none.

    A job's records go to its log only: the console shows Snakemake's progress and the end-of-run summary, and
    ``show-failed-logs`` (workflow profile) prints a failed job's log there. Idempotent per file: if the records
    already go to ``log_path``, nothing changes (reopening it would truncate what the job has logged so far, e.g.
    between ``job.start`` and ``job.run_job``).
    """
    root = logging.getLogger()
    root.setLevel(level)
    if log_path and os.path.abspath(log_path) in {getattr(h, "baseFilename", None) for h in root.handlers}:
        return logging.getLogger("snnconv")
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    handlers: list[logging.Handler] = []
    if log_path:
        Path(log_path).parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_path, mode="w"))
    else:
        handlers.append(logging.StreamHandler(sys.stderr))
    for handler in handlers:
        handler.setFormatter(fmt)
        root.addHandler(handler)
    logging.captureWarnings(True)
    return logging.getLogger("snnconv")


def git_revision(path: str | Path | None = None) -> str:
    """HEAD of the repository holding ``path`` (default: this package), or 'unknown' outside git."""
    where = Path(path or Path(__file__).resolve().parent)
    try:
        out = subprocess.run(["git", "-C", str(where), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return out.stdout.strip() if out.returncode == 0 else "unknown"


def versions() -> dict[str, str]:
    """Versions of the interpreter and the numeric stack, recorded beside every result."""
    import numpy
    import torch

    return {"python": platform.python_version(), "torch": torch.__version__, "numpy": numpy.__version__}


def require_keys(settings: dict[str, Any], keys: tuple[str, ...], what: str) -> dict[str, Any]:
    """``settings`` restricted to ``keys``; KeyError naming every missing key (defaults live only in the schema)."""
    missing = [k for k in keys if k not in settings]
    if missing:
        raise KeyError(
            f"{what}: missing {missing} (the rule's params/resources must pass them; defaults live in "
            f"workflow/schemas/config.schema.yaml)"
        )
    extra = sorted(set(settings) - set(keys))
    if extra:
        raise KeyError(f"{what}: unknown keys {extra} (expected {list(keys)})")
    return {k: settings[k] for k in keys}
