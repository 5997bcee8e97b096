"""The machine a run or benchmark ran on, and package versions, read without importing torch.

Shared by ``bench/_common.py`` (the header every benchmark prints) and :mod:`snnconv.publish.make`
(the PROVENANCE of a results snapshot). Importing torch takes seconds on a loaded machine, so versions
come from package metadata.
"""

from __future__ import annotations

import os
import platform
from importlib.metadata import PackageNotFoundError, version


def cpu_model() -> str:
    """CPU model name from /proc/cpuinfo (or platform.processor())."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def memory_total_bytes() -> int | None:
    """Total physical memory in bytes (``MemTotal`` of /proc/meminfo, else sysconf), None if unknown."""
    try:
        with open("/proc/meminfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return None


def os_description() -> str:
    """The OS: PRETTY_NAME of /etc/os-release when present, the kernel and the architecture."""
    name = platform.system()
    try:
        with open("/etc/os-release", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("PRETTY_NAME="):
                    name = line.split("=", 1)[1].strip().strip('"')
                    break
    except OSError:
        pass
    return f"{name} (kernel {platform.release()}, {platform.machine()})"


def package_version(name: str) -> str | None:
    """Installed version of distribution ``name`` from its metadata (no import), None if not installed."""
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def package_versions(names: tuple[str, ...]) -> dict[str, str | None]:
    """Python's version and each named distribution's, in the given order."""
    return {"python": platform.python_version(), **{n: package_version(n) for n in names}}


def describe() -> dict[str, object]:
    """CPU model, core count (and the cores this process may use), total memory and OS of this machine."""
    mem = memory_total_bytes()
    return {
        "cpu": cpu_model(),
        "nproc": os.cpu_count(),
        "affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "memory_total_gib": round(mem / 2**30, 1) if mem else None,
        "os": os_description(),
    }
