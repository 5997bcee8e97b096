"""Export of converted networks to other tools: :func:`to_nir` / :func:`write_nir` (the Neuromorphic Intermediate
Representation, docs/nir.md).

Imported on first use (PEP 562), so that code which only names the package needs neither torch nor ``nir``.
"""

from importlib import import_module
from typing import Any

_LAZY = {"NirExportError": "nir", "to_nir": "nir", "write_nir": "nir", "NIR_FORMAT": "nir"}

__all__ = list(_LAZY)


def __getattr__(name: str) -> Any:
    """Import the exporter on first use."""
    if name in _LAZY:
        value = getattr(import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
