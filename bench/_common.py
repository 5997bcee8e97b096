"""Shared helpers for the bench/ scripts: machine description and small timing utilities.

Every benchmark prints ratios of times measured in the SAME process run (never compare absolute
seconds across runs: the machine is shared and its load changes from minute to minute).
"""

from __future__ import annotations

import os
import platform
import sys
import time
from collections.abc import Callable
from typing import Any

from snnconv.machine import cpu_model, package_version


def machine_info() -> dict[str, Any]:
    """nproc, CPU model, load average, Python/torch versions and whether a GPU is visible.

    Versions come from package metadata, so that this does not import torch (seconds on a loaded machine).
    """
    torch = sys.modules.get("torch")
    return {
        "nproc": os.cpu_count(),
        "affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "cpu": cpu_model(),
        "python": platform.python_version(),
        "torch": package_version("torch"),
        "cuda": torch.cuda.is_available() if torch is not None else os.path.exists("/dev/nvidiactl"),
        "spikingjelly": package_version("spikingjelly"),
        "snakemake": package_version("snakemake"),
        "loadavg": os.getloadavg() if hasattr(os, "getloadavg") else None,
    }


def print_header(name: str) -> None:
    """One line describing the machine, so every log is self-describing."""
    i = machine_info()
    load = "n/a" if i["loadavg"] is None else "/".join(f"{v:.1f}" for v in i["loadavg"])
    print(
        f"# {name}: nproc={i['nproc']} affinity={i['affinity']} cpu={i['cpu']!r} python={i['python']} "
        f"torch={i['torch']} snakemake={i['snakemake']} spikingjelly={i['spikingjelly']} cuda={i['cuda']} loadavg={load} "
        f"argv={' '.join(sys.argv[1:]) or '-'}",
        flush=True,
    )


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """(wall seconds, result) of one call."""
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def timed_cpu(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    """(wall seconds, process CPU seconds over all threads, result) of one call.

    On a loaded machine the CPU time is the steadier measure of work done (wall time also counts the
    time other processes held the cores); with several threads it also counts their spin-waits.
    """
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - wall, time.process_time() - cpu, out
