"""Rule download_data: fetch ``{dataset}`` into ``data_dir`` from the publisher's mirrors (checksum-verified)
and write a JSON manifest of the files and their digests."""

import logging
from pathlib import Path
from typing import Any

from snnconv.atomic import write_json
from snnconv.data.download import download_dataset
from snnconv.runinfo import setup_logging

log = logging.getLogger("snnconv.download_data")


def main(dataset: str, data_dir: str | Path, manifest_path: str | Path,
         base_url: str | None = None) -> dict[str, Any]:
    """Download (or, for datasets without a public source, check) ``dataset``; writes and returns the manifest."""
    try:
        manifest = download_dataset(dataset, data_dir, base_url)
    except Exception:
        log.exception("downloading %s failed", dataset)
        raise
    write_json(manifest_path, manifest)
    log.info("%s ready at %s", dataset, manifest.get("path", "(embedded)"))
    return manifest


if __name__ == "__main__" and "snakemake" in globals():
    setup_logging(snakemake.log[0])
    main(snakemake.wildcards.dataset, snakemake.params.data_dir, snakemake.output.manifest)
