"""Workflow-run helpers shared by the robustness, integration and regression tests; holds no tests itself.

Runs the real workflow (``python -m snakemake`` on the repository's Snakefile) in temporary directories,
and checks the invariants every failed job must leave behind: no output under its final name, no
``*.tmp`` leftovers of the atomic writers (snnconv/atomic.py).
"""

from __future__ import annotations

import copy
import os
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import yaml

from helpers import REPO, TINY
from snnconv.defaults import dataset_args

SNAKEFILE = REPO / "Snakefile"
if str(REPO) not in sys.path:  # the rule scripts import snnconv from the checkout
    sys.path.insert(0, str(REPO))


def tiny_config() -> dict[str, Any]:
    """A fresh copy of the tiny test config."""
    with open(TINY) as handle:
        return copy.deepcopy(yaml.safe_load(handle))


def write_config(path: Path, config: dict[str, Any]) -> Path:
    """Dump ``config`` as YAML (``.inf``/``.nan`` survive the round trip)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def snakemake_cmd(workdir: Path, config: Path, *args: str, cores: int = 1) -> list[str]:
    """The command line of one workflow run in ``workdir`` (no workflow profile: tests set every flag)."""
    return [
        sys.executable,
        "-m",
        "snakemake",
        "-s",
        str(SNAKEFILE),
        "--directory",
        str(workdir),
        "--configfile",
        str(config),
        "--cores",
        str(cores),
        "--workflow-profile",
        "none",
        *args,
    ]


def snakemake_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """Environment of the workflow runs: fixed hash seed, no stray data directory, one BLAS thread."""
    env = {k: v for k, v in os.environ.items() if k != "SNNCONV_DATA_DIR"}
    env.update(PYTHONHASHSEED="0", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", **(extra or {}))
    return env


def run_snakemake(
    workdir: Path,
    config: Path,
    *args: str,
    cores: int = 1,
    check: bool = True,
    timeout: int = 600,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess:
    """Run the workflow and wait; raises with the output tail when ``check`` and it fails."""
    proc = subprocess.run(
        snakemake_cmd(workdir, config, *args, cores=cores),
        capture_output=True,
        text=True,
        timeout=timeout,
        env=snakemake_env(env),
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}")
    return proc


def leftovers(root: Path) -> list[Path]:
    """Temporary files of the atomic writers (``.<name>.<random>.tmp<suffix>``) below ``root``."""
    return sorted(p for p in Path(root).rglob("*") if ".tmp" in p.name and p.is_file()) if Path(root).exists() else []


def assert_nothing_written(paths: Iterable[Path | str], root: Path | None = None) -> None:
    """None of ``paths`` exists, and no temporary file is left below ``root``."""
    present = [str(p) for p in paths if Path(p).exists()]
    assert not present, f"failed job left outputs behind: {present}"
    if root is not None:
        assert not leftovers(root), f"temporary files left behind: {leftovers(root)}"


# Runs several snakemake invocations in one interpreter through the real command-line entry point
# (snakemake.cli.main), each with its stdout/stderr redirected to its own file: the per-run cost drops
# from ~3 s of interpreter start and imports to ~0.2 s, which keeps the bad-input corpora fast.
_BATCH_DRIVER = r"""
import json, os, sys
from snakemake.cli import main
results = {}
for name, argv, out in json.loads(sys.argv[1]):
    sys.stdout.flush(); sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    os.dup2(fd, 1); os.dup2(fd, 2)
    try:
        main(argv)
        rc = 0
    except SystemExit as exc:
        rc = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException as exc:  # reported, and counted as a failure of the driver, not of the case
        print(f"BATCH DRIVER CRASH {exc!r}")
        rc = -999
    finally:
        sys.stdout.flush(); sys.stderr.flush()
        os.dup2(saved[0], 1); os.dup2(saved[1], 2)
        for handle in (fd, *saved):
            os.close(handle)
    results[name] = rc
print(json.dumps(results))
"""


def run_snakemake_batch(
    cases: dict[str, tuple[Path, Path, tuple[str, ...]]], outdir: Path, processes: int = 2, timeout: int = 600
) -> dict[str, dict[str, Any]]:
    """Run ``{name: (workdir, config, extra args)}`` split over ``processes`` interpreters, in parallel;
    returns ``{name: {"rc": exit status, "output": stdout+stderr, "workdir": workdir}}``."""
    import json

    outdir.mkdir(parents=True, exist_ok=True)
    jobs = [
        [name, snakemake_cmd(workdir, config, *args)[3:], str(outdir / f"{name}.out")]
        for name, (workdir, config, args) in cases.items()
    ]
    chunks = [jobs[i::processes] for i in range(processes) if jobs[i::processes]]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _BATCH_DRIVER, json.dumps(chunk)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=snakemake_env(),
            cwd=outdir,
        )
        for chunk in chunks
    ]
    codes: dict[str, int] = {}
    for proc in procs:
        stdout, stderr = proc.communicate(timeout=timeout)
        assert proc.returncode == 0, f"batch driver failed:\n{stdout[-2000:]}\n{stderr[-2000:]}"
        codes.update(json.loads(stdout.strip().splitlines()[-1]))
    return {
        name: {"rc": codes[name], "output": (outdir / f"{name}.out").read_text(), "workdir": cases[name][0]}
        for name in cases
    }


def load_script(name: str):
    """Import ``scripts/<name>.py`` as a module (its snakemake block does not run) to call its ``main``."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(f"snnconv_rule_script_{name}", REPO / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class PlantFile:
    """A pickle payload whose unpickling creates ``marker`` (as a malicious checkpoint would run code)."""

    def __init__(self, marker: Path | str) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return exec, (f"open({self.marker!r}, 'w').write('pwned')",)


import pytest  # noqa: E402  (fixtures below are imported by the test modules that use them)


@pytest.fixture(scope="session")
def digits_npz(tmp_path_factory) -> Path:
    """A small prepared digits dataset (300 train / 60 test), written by the prepare_data rule script."""
    out = tmp_path_factory.mktemp("digits")
    load_script("prepare_data").main(
        "digits",
        None,
        dataset_args("digits", subset_train=300, subset_test=60),
        out / "digits.npz",
        out / "digits.json",
    )
    return out / "digits.npz"


# An audit hook injected into every Python process of a workflow run (snakemake and its jobs) through a
# sitecustomize module on PYTHONPATH: it logs each open-for-writing and each rename whose path lies under
# $SNNCONV_AUDIT_ROOT. Final outputs must only ever arrive by a rename; nothing may open them for writing.
AUDIT_SITECUSTOMIZE = r"""
import os, sys
_root, _logdir = os.environ.get("SNNCONV_AUDIT_ROOT"), os.environ.get("SNNCONV_AUDIT_LOG")
if _root and _logdir:
    _root = os.path.realpath(_root)
    _log = open(os.path.join(_logdir, f"{os.getpid()}.log"), "a", buffering=1)

    def _under(path):
        try:
            path = os.path.realpath(os.fsdecode(path))
        except TypeError:  # a file descriptor
            return None
        return path if path.startswith(_root + os.sep) else None

    def _hook(event, args):
        if event == "open":
            path, mode, flags = args
            writing = any(c in mode for c in "wax+") if mode else bool(flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT))
            if writing and (path := _under(path)):
                _log.write(f"open\t{path}\n")
        elif event == "os.rename" and (dst := _under(args[1])):
            _log.write(f"rename\t{args[0]}\t{dst}\n")

    sys.addaudithook(_hook)
"""


def audit_env(sitedir: Path, logdir: Path, root: Path) -> dict[str, str]:
    """Environment variables that switch the audit hook on for a run writing below ``root``."""
    sitedir.mkdir(parents=True, exist_ok=True)
    logdir.mkdir(parents=True, exist_ok=True)
    (sitedir / "sitecustomize.py").write_text(AUDIT_SITECUSTOMIZE)
    path = os.pathsep.join(p for p in (str(sitedir), os.environ.get("PYTHONPATH", "")) if p)
    return {"PYTHONPATH": path, "SNNCONV_AUDIT_ROOT": str(root), "SNNCONV_AUDIT_LOG": str(logdir)}


def read_audit(logdir: Path) -> tuple[list[str], list[tuple[str, str]]]:
    """(paths opened for writing, (source, destination) of renames) recorded by the audit hook."""
    opens, renames = [], []
    for log in sorted(Path(logdir).glob("*.log")):
        for line in log.read_text().splitlines():
            kind, *rest = line.split("\t")
            if kind == "open":
                opens.append(rest[0])
            elif kind == "rename":
                renames.append((rest[0], rest[1]))
    return opens, renames


def rule_settings(rule: str, **change: Any) -> dict[str, Any]:
    """Every setting the rule's params and resources pass to its script for the tiny config (defaults from the
    schema: scripts have none of their own), with ``change`` applied."""
    from snnconv.workflow import settings
    from snnconv.workflow.config import validate_config
    from snnconv.workflow.job import execution

    cfg = validate_config(tiny_config())
    run = execution(SimpleNamespace(resources=settings.simulation_execution(cfg)))  # as the rule binding does
    base = {
        "normalize": settings.conversion(cfg),
        "simulate": {**settings.simulation(cfg), **run},
        "membrane_stats": {**settings.stats(cfg), **run},
    }[rule]
    return {**base, **change}
