"""DAG-time code imports without torch: snnconv.workflow and every module the rule files import.

Snakemake builds the job graph in its own process; torch there costs seconds per `snakemake -n` and a CUDA
context on a login node. The check runs in a fresh interpreter in which ``import torch`` raises.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration  # fresh interpreters (subprocesses)

REPO = Path(__file__).resolve().parents[2]

# Every module of snnconv.workflow, and the modules outside it that the Snakefile and workflow/rules/*.smk import
# while the DAG is built (norm names, the schema's location, the labels of the end-of-run summary).
WORKFLOW_MODULES = ["snnconv.workflow"] + sorted(
    f"snnconv.workflow.{p.stem}" for p in (REPO / "snnconv" / "workflow").glob("*.py") if p.stem != "__init__"
)
DAG_MODULES = WORKFLOW_MODULES + ["snnconv.resources", "snnconv.convert", "snnconv.report.labels"]

BLOCKER = """
import importlib, importlib.abc, sys

class NoTorch(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            raise ImportError(f"DAG-time code imported {name}")
        return None

sys.meta_path.insert(0, NoTorch())
for module in sys.argv[1:]:
    importlib.import_module(module)
assert not any(m == "torch" or m.startswith("torch.") for m in sys.modules), "torch was imported"
print("ok")
"""


def test_dag_time_modules_import_with_torch_blocked():
    proc = subprocess.run(
        [sys.executable, "-c", BLOCKER, *DAG_MODULES], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr[-3000:]


def test_the_workflow_package_holds_the_dag_time_modules():
    """The modules the workflow imports at DAG time live in snnconv.workflow, not at the package root."""
    assert {"snnconv.workflow.paths", "snnconv.workflow.settings", "snnconv.workflow.config"} <= set(WORKFLOW_MODULES)
    for name in ("paths", "settings", "vocab", "config", "cluster", "codehash", "summary", "job"):
        assert not (REPO / "snnconv" / f"{name}.py").exists(), f"snnconv/{name}.py: DAG-time code at the root"


def test_the_blocker_blocks():
    """The check would notice: a module that imports torch fails under it."""
    proc = subprocess.run(
        [sys.executable, "-c", BLOCKER, "snnconv.models"], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode != 0 and "DAG-time code imported torch" in proc.stderr


def _is_module(dotted: str) -> bool:
    path = REPO / dotted.replace(".", "/")
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def test_every_snnconv_module_the_rule_files_import_is_checked():
    import re

    imported = set()
    for path in [REPO / "Snakefile", *sorted((REPO / "workflow" / "rules").glob("*.smk"))]:
        for line in path.read_text().splitlines():
            m = re.match(r"\s*from (snnconv(?:\.\w+)*) import ([\w, ]+)", line)
            if m:
                imported.add(m.group(1))
                names = [f"{m.group(1)}.{n.strip()}" for n in m.group(2).split(",") if n.strip()]
                imported |= {n for n in names if _is_module(n)}
            m = re.match(r"\s*import (snnconv(?:\.\w+)*)", line)
            if m:
                imported.add(m.group(1))
    assert {"snnconv.workflow", "snnconv.workflow.paths", "snnconv.workflow.settings"} <= imported
    assert imported <= set(DAG_MODULES) | {"snnconv"}, sorted(imported - set(DAG_MODULES))
