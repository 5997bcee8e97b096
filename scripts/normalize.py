"""Snakemake entry: one base normalization of one trained ANN, measured on the normalization set (rule
``normalize``; docs/method.md §C2–§C6, §C10). Every norm on that base is built from this record."""

from snnconv.workflow import job  # first: an error while importing the rest lands in the rule log

job.start(globals())


from typing import Any

from snnconv.convert.files import normalize_files


def _bind(smk: Any) -> dict[str, Any]:
    """snakemake object → :func:`snnconv.convert.files.normalize_files`."""
    return normalize_files(
        smk.input.model, smk.input.data, smk.wildcards.base, dict(smk.params.conversion), smk.output.record
    )


if "snakemake" in globals():
    from snnconv.workflow.job import run_job

    run_job(globals()["snakemake"], _bind)
