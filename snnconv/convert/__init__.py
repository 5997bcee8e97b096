"""ANN → SNN conversion: layer walking, normalization (none/max/percentile/model) and the reconstructed
Lp/L4 threshold adjustment. Method and derivations: docs/method.md §C1–§C7.

The norm-name grammar (:mod:`.names`) needs no torch and is imported eagerly; everything else is imported on
first use, so DAG-time code (the Snakefile, config validation) can read names without importing torch.
"""

from importlib import import_module
from typing import Any

from .names import (
    NormSpec,
    ResolvedNorms,
    base_name,
    canonical_name,
    canonicalize,
    format_number,
    norm_names,
    parse_norm,
    resolve_norms,
    sweep_names,
)

_LAZY = {
    "StreamingPercentile": "activations",
    "percentile": "activations",
    "bernoulli_current_moments": "adjust",
    "l4_variance_bound": "adjust",
    "lp_norms": "adjust",
    "predicted_sigma": "adjust",
    "rate_norm_estimate": "adjust",
    "fold_batchnorm": "layers",
    "parse_model": "layers",
    "convert": "pipeline",
}

__all__ = [
    "NormSpec",
    "ResolvedNorms",
    "base_name",
    "canonical_name",
    "canonicalize",
    "format_number",
    "norm_names",
    "parse_norm",
    "resolve_norms",
    "sweep_names",
    *_LAZY,
]


def __getattr__(name: str) -> Any:
    """Import the torch-backed parts of the package on first use (PEP 562)."""
    if name in _LAZY:
        value = getattr(import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
