"""The embedded default: scikit-learn's ``load_digits`` (1,797 8×8 images, 0..16), no network needed."""

from __future__ import annotations

import math

import numpy as np

from .prepared import ArrayDataset


def check_split(test_fraction: float, n: int, n_classes: int) -> None:
    """ValueError naming ``dataset_options.digits.test_fraction`` unless both sides of a stratified split of ``n``
    images get at least one image per class (scikit-learn's own error names neither the setting nor its bounds).

    scikit-learn puts ceil(test_fraction · n) images in the test set and the rest in the training set.
    """
    n_test = math.ceil(test_fraction * n)
    n_train = n - n_test
    if min(n_test, n_train) < n_classes:
        low, high = n_classes / n, (n - n_classes) / n
        side = "test" if n_test < n_classes else "training"
        raise ValueError(
            f"config error at 'dataset_options.digits.test_fraction': {test_fraction!r} leaves {min(n_test, n_train)} "
            f"{side} images of {n} for {n_classes} classes, but a stratified split needs at least one image per class "
            f"on each side: use a value in [{math.ceil(low * 1e4) / 1e4:g}, {math.floor(high * 1e4) / 1e4:g}]"
        )


def load_digits_dataset(*, test_fraction: float, seed: int) -> tuple[ArrayDataset, dict]:
    """Digits as uint8 1×8×8 (0..16 rescaled to 0..255) with a seeded, stratified train/test split
    (``dataset_options.digits``: ``test_fraction`` and ``split_seed``)."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    bunch = load_digits()
    images = np.rint(bunch.images * (255.0 / 16.0)).astype(np.uint8)[:, None, :, :]
    labels = bunch.target.astype(np.int64)
    check_split(test_fraction, len(labels), len(np.unique(labels)))
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
