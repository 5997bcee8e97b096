"""The embedded default: scikit-learn's ``load_digits`` (1,797 8×8 images, 0..16), no network needed."""

from __future__ import annotations

import numpy as np

from .prepared import ArrayDataset


def load_digits_dataset(test_fraction: float = 0.25, seed: int = 0) -> tuple[ArrayDataset, dict]:
    """Digits as uint8 1×8×8 (0..16 rescaled to 0..255) with a seeded, stratified train/test split."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    bunch = load_digits()
    images = np.rint(bunch.images * (255.0 / 16.0)).astype(np.uint8)[:, None, :, :]
    labels = bunch.target.astype(np.int64)
    idx_train, idx_test = train_test_split(
        np.arange(len(labels)), test_size=test_fraction, random_state=seed, stratify=labels
    )
    ds = ArrayDataset(
        "digits",
        images[idx_train],
        labels[idx_train],
        images[idx_test],
        labels[idx_test],
        classes=[str(i) for i in range(10)],
    )
    source = {"kind": "sklearn.datasets.load_digits", "test_fraction": test_fraction, "split_seed": seed}
    return ds, source
