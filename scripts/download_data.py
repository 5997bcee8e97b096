"""Rule download_data: fetch ``{dataset}`` into ``data_dir`` from the publisher's mirrors (checksum-verified)
and write a JSON manifest of the files and their digests."""

from snnconv.workflow import job  # first: an error while importing the rest lands in the rule log

job.start(globals())

import logging
from pathlib import Path
from typing import Any

from snnconv.atomic import write_json
from snnconv.data.download import download_dataset

log = logging.getLogger("snnconv.download_data")


def main(dataset: str, data_dir: str | Path, manifest_path: str | Path, base_url: str | None = None) -> dict[str, Any]:
    """Download (or, for datasets without a public source, check) ``dataset``; writes and returns the manifest."""
    manifest = download_dataset(dataset, data_dir, base_url)
    write_json(manifest_path, manifest)
    log.info("%s ready at %s", dataset, manifest.get("path", "(embedded)"))
    return manifest


def _bind(sm: Any) -> dict[str, Any]:
    """snakemake object → :func:`main`."""
    return main(sm.wildcards.dataset, sm.resources.get("data_dir") or None, sm.output.manifest)


if "snakemake" in globals():
    from snnconv.workflow.job import run_job

    run_job(globals()["snakemake"], _bind)
