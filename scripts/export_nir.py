"""Rule export_nir: one converted network as a NIR graph (docs/nir.md), with the run's reset mode recorded."""

from snnconv.workflow import job  # first: an error while importing the rest lands in the rule log

job.start(globals())

import logging
from typing import Any

from snnconv.export import write_nir
from snnconv.network import load_network

log = logging.getLogger("snnconv.export")


def _bind(smk: Any) -> None:
    """snakemake object → :func:`snnconv.export.write_nir`."""
    graph = write_nir(load_network(smk.input.network), smk.output.nir, reset=smk.params.reset)
    log.info("wrote %s: %d nodes, %d edges", smk.output.nir, len(graph.nodes), len(graph.edges))


if "snakemake" in globals():
    from snnconv.workflow.job import run_job

    run_job(globals()["snakemake"], _bind)
