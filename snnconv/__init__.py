"""snnconv: ANN-to-SNN conversion research pipeline (L4-norm weight adjustments, reconstructed)."""

__version__ = "0.1.0"
