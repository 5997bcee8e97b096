"""Dataset preparation: every source becomes one normalized, versioned array file.

``results/data/{dataset}.npz`` holds ``x_train``/``x_test`` as uint8 (N, C, H, W) and ``y_train``/``y_test``
as int64; a JSON sidecar records source, checksums and counts. Pixel intensity / 255 is both the ANN
input and the Poisson spike probability per step, so no mean/std normalization is applied.
"""

from .prepared import PREPARED_FORMAT_VERSION, ArrayDataset, load_prepared, save_prepared
from .registry import DATASETS, prepare_dataset

__all__ = ["ArrayDataset", "DATASETS", "PREPARED_FORMAT_VERSION", "load_prepared", "prepare_dataset", "save_prepared"]
