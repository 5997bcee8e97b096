"""Rule prepare_data: raw dataset → ``results/data/{dataset}.npz`` and its JSON sidecar (source, checksums, counts)."""

from snnconv.workflow import job  # first: an error while importing the rest lands in the rule log

job.start(globals())

import logging
from pathlib import Path
from typing import Any

from snnconv.data import prepare_dataset, save_prepared

log = logging.getLogger("snnconv.prepare_data")


def main(
    dataset: str, data_dir: str | Path | None, options: dict[str, Any], npz_path: str | Path, meta_path: str | Path
) -> dict[str, Any]:
    """Load and verify ``dataset``, then write the prepared npz + sidecar atomically; returns the sidecar."""
    log.info("preparing %s from data_dir=%s with options %s", dataset, data_dir, options)
    ds, source = prepare_dataset(dataset, options, data_dir)
    sidecar = save_prepared(ds, npz_path, meta_path, source)
    log.info(
        "wrote %s: %d train / %d test images of shape %s%s",
        npz_path,
        len(ds.y_train),
        len(ds.y_test),
        ds.shape,
        f" (LOSSY: {ds.info['note']})" if ds.lossy else "",
    )
    return sidecar


def _bind(sm: Any) -> dict[str, Any]:
    """snakemake object → :func:`main` (the data location is a resource: moving the data reruns nothing)."""
    return main(
        sm.wildcards.dataset,
        sm.resources.get("data_dir") or None,
        dict(sm.params.options),
        sm.output.npz,
        sm.output.meta,
    )


if "snakemake" in globals():
    from snnconv.workflow.job import run_job

    run_job(globals()["snakemake"], _bind)
