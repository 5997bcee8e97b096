"""Rule train_ann: train one ANN on a prepared dataset; write checkpoint, per-epoch CSV and summary."""

from snnconv.workflow import job  # first: an error while importing the rest lands in the rule log

job.start(globals())


import logging
from typing import Any

from snnconv.atomic import write_csv, write_json
from snnconv.data import load_prepared
from snnconv.models import save_checkpoint
from snnconv.qcfs import qcfs_lambdas
from snnconv.runinfo import git_revision, versions
from snnconv.train import train_ann, validation_record

log = logging.getLogger("snnconv.train")


def main(
    data: str,
    model_out: str,
    metrics_out: str,
    summary_out: str,
    arch: str,
    seed: int,
    training: dict[str, Any],
    arch_options: dict[str, Any],
    progress: bool = True,
    qcfs: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Train and write all three outputs atomically; returns the summary. ``qcfs`` trains the QCFS twin."""
    ds = load_prepared(data)
    what = f"the QCFS twin ({qcfs}) of {arch}" if qcfs else arch
    log.info("training %s on %s (%d train / %d test), seed %d", what, ds.name, len(ds.y_train), len(ds.y_test), seed)
    result = train_ann(ds, arch, arch_options, training, seed, progress=progress, qcfs=qcfs)
    summary = {
        "dataset": ds.name,
        "arch": arch,
        "seed": seed,
        "test_accuracy": result.test_accuracy,
        "epochs": int(training["epochs"]),
        "train_seconds": round(result.seconds, 3),
        "n_parameters": sum(p.numel() for p in result.model.parameters()),
        "validation_images": len(result.validation_indices),
        "validation_accuracy": result.validation_accuracy,
        "training": training,
        "arch_options": arch_options,
        **({"qcfs": dict(qcfs), "qcfs_lambdas": qcfs_lambdas(result.model)} if qcfs else {}),
        "git_revision": git_revision(),
        "versions": versions(),
    }
    save_checkpoint(
        model_out,
        result.model,
        arch,
        ds.shape,
        len(ds.classes),
        arch_options,
        extra={
            "seed": seed,
            "test_accuracy": result.test_accuracy,
            "dataset": ds.name,
            "validation": validation_record(result.validation_indices, training),
        },
        activation={"type": "qcfs", "levels": int(qcfs["levels"])} if qcfs else None,
    )
    write_csv(metrics_out, result.history)
    write_json(summary_out, summary)
    log.info("test accuracy %.4f after %d epochs (%.1f s)", result.test_accuracy, summary["epochs"], result.seconds)
    return summary


def _bind(sm: Any) -> dict[str, Any]:
    """snakemake object → :func:`main`; device, threads and memory layout come from the job's resources (execution only)."""
    from snnconv.workflow.job import execution, is_tty

    run = execution(sm)
    training = {
        **sm.params.training,
        "device": run["device"],
        "threads": run["threads"],
        "channels_last": bool(run["channels_last"]),
    }
    return main(
        sm.input.data,
        sm.output.model,
        sm.output.metrics,
        sm.output.summary,
        sm.wildcards.arch,
        int(sm.wildcards.seed),
        training,
        dict(sm.params.arch_options),
        progress=is_tty(),
        qcfs=dict(sm.params.qcfs) if hasattr(sm.params, "qcfs") else None,
    )


if "snakemake" in globals():
    from snnconv.workflow.job import run_job

    run_job(globals()["snakemake"], _bind)
