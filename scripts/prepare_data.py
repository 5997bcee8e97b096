"""Rule prepare_data: raw dataset → ``results/data/{dataset}.npz`` and its JSON sidecar (source, checksums, counts)."""

import logging
from pathlib import Path
from typing import Any

from snnconv.data import prepare_dataset, save_prepared
from snnconv.runinfo import setup_logging

log = logging.getLogger("snnconv.prepare_data")


def main(dataset: str, data_dir: str | Path | None, options: dict[str, Any], npz_path: str | Path,
         meta_path: str | Path) -> dict[str, Any]:
    """Load and verify ``dataset``, then write the prepared npz + sidecar atomically; returns the sidecar."""
    log.info("preparing %s from data_dir=%s with options %s", dataset, data_dir, options)
    try:
        ds, source = prepare_dataset(dataset, options, data_dir)
        sidecar = save_prepared(ds, npz_path, meta_path, source)
    except Exception:
        log.exception("preparing %s failed", dataset)
        raise
    log.info("wrote %s: %d train / %d test images of shape %s%s", npz_path, len(ds.y_train), len(ds.y_test),
             ds.shape, f" (LOSSY: {ds.info['note']})" if ds.lossy else "")
    return sidecar


if __name__ == "__main__" and "snakemake" in globals():
    setup_logging(snakemake.log[0])
    main(snakemake.wildcards.dataset, snakemake.params.data_dir, dict(snakemake.params.options),
         snakemake.output.npz, snakemake.output.meta)
