"""ANN → SNN conversion: layer walking, normalization (none/max/percentile/model) and the reconstructed
Lp/L4 threshold adjustment. Method and derivations: docs/method.md §C1–§C7."""

from .activations import StreamingPercentile, percentile
from .adjust import bernoulli_current_moments, l4_variance_bound, lp_norms, predicted_sigma, rate_norm_estimate
from .layers import fold_batchnorm, parse_model
from .names import NormSpec, format_number, norm_names, parse_norm, sweep_names
from .pipeline import convert

__all__ = [
    "NormSpec", "StreamingPercentile", "bernoulli_current_moments", "convert", "fold_batchnorm", "format_number",
    "l4_variance_bound", "lp_norms", "norm_names", "parse_model", "parse_norm", "percentile", "predicted_sigma",
    "rate_norm_estimate", "sweep_names",
]
