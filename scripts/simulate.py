"""Rule simulate: convert one trained ANN under one norm from its base's normalization record (docs/method.md
§C10: no pass over the normalization set), write the network and its conversion.json, then simulate it on the
test set, accuracy and rates at every t, for every input seed (§S3): one job per (model, norm), one CSV per seed.

Logic lives in :func:`main` (plain arguments, callable from tests); the ``snakemake`` binding is at the bottom.
"""

from snnconv.workflow import job  # first: an error while importing the rest lands in the rule log

job.start(globals())

import logging
import sys
from pathlib import Path
from typing import Any

import torch

from snnconv.atomic import write_csv
from snnconv.network import SpikingNetwork
from snnconv.runinfo import require_keys, setup_logging
from snnconv.simulate import to_frame
from snnconv.simulate.runio import ann_accuracy_on, clean_ids, load_simulation_inputs, simulate_with
from snnconv.workflow.job import EXECUTION_KEYS
from snnconv.workflow.settings import SIMULATION_KEYS

log = logging.getLogger("snnconv.simulate")


def main(
    network: str | Path | SpikingNetwork,
    data: str | Path,
    out_csv: str | Path,
    ids: dict[str, Any],
    cfg: dict[str, Any],
    log_path: str | Path | None = None,
    ann: str | Path | None = None,
) -> Any:
    """Simulate one input seed (``ids["iseed"]``), write the tidy per-t CSV atomically and return the frame.

    ``cfg`` holds the simulation settings (settings.SIMULATION_KEYS) and the execution settings (device,
    threads, batch_size, time_chunk, compile); every one is required, so no default lives outside the config schema.
    """
    return main_all(
        network,
        data,
        {int(ids.get("iseed", 0)): out_csv},
        {k: v for k, v in ids.items() if k != "iseed"},
        cfg,
        log_path,
        ann,
    )[0]


def main_all(
    network: str | Path | SpikingNetwork,
    data: str | Path,
    outs: dict[int, str | Path],
    ids: dict[str, Any],
    cfg: dict[str, Any],
    log_path: str | Path | None = None,
    ann: str | Path | None = None,
) -> list[Any]:
    """Simulate every input seed of ``outs`` (seed → CSV path) with the network and data loaded once.

    Each seed's CSV has exactly the bytes a run of that seed alone writes (tests/unit/simulate/test_simulate_scripts.py).
    ``network`` is a network file or the network itself (as the rule passes it, converted in this job). ``ann``, the
    trained ReLU network's checkpoint (the rule passes it), adds its accuracy on the very images simulated as the
    column ``ann_accuracy``: the SNN and its ANN reference are then measured on the same images by the same job.
    """
    if log_path:
        setup_logging(log_path)
    cfg = require_keys(cfg, SIMULATION_KEYS + EXECUTION_KEYS, "simulation settings")
    net, images, labels, need = load_simulation_inputs(
        network, data, cfg["test_subset"], cfg, ids.get("dataset"), "simulation.batch_size × simulation.time_chunk"
    )
    log.info(
        "network %s, data %s: %d test images, input seeds %s; simulator buffers about %.2f GiB",
        network if isinstance(network, (str, Path)) else net.meta.get("norm", "(in memory)"),
        data,
        len(images),
        sorted(outs),
        need / 2**30,
    )
    log.info("settings %s", cfg)
    ann_accuracy = None if ann is None else ann_accuracy_on(ann, images, labels, int(cfg["batch_size"]))
    if ann_accuracy is not None:
        log.info("ANN %s on the same %d images: accuracy %.4f", ann, len(images), ann_accuracy)
    frames = []
    for seed, out_csv in outs.items():
        ids_seed = clean_ids({**ids, "iseed": seed})
        frames.append(_one_seed(net, images, labels, int(seed), cfg, ids_seed, out_csv, ann_accuracy))
    return frames


def _one_seed(
    net: Any,
    images: torch.Tensor,
    labels: torch.Tensor,
    seed: int,
    cfg: dict[str, Any],
    ids: dict[str, Any],
    out_csv: str | Path,
    ann_accuracy: float | None = None,
) -> Any:
    """Simulate one input seed and write its CSV (with the ANN's accuracy on the same images, when given)."""
    res = simulate_with(net, images, labels, cfg, seed, progress=sys.stderr.isatty())  # else the log line below
    log.info(
        "input seed %d done in %.1f s (%s engine, %.1f s compiling) on %s: accuracy at T=%d %.4f, final rates %s",
        seed,
        res.seconds,
        res.settings["engine"],
        res.compile_seconds,
        res.settings["device"],
        res.T,
        res.accuracy[-1],
        dict(zip(res.layer_names, res.rates[:, -1].round(4).tolist())),
    )
    what = "emitted no output spike" if cfg["decode"] == "spikes" else "received no spike at the readout"
    if res.silent_output == res.n_samples:
        log.warning(
            "SILENT OUTPUT: all %d samples %s by T=%d; accuracy is the class-0 fraction (ties -> class 0)",
            res.n_samples,
            what,
            res.T,
        )
    elif res.silent_output:
        log.warning("%d of %d samples %s by T=%d (predicted class 0)", res.silent_output, res.n_samples, what, res.T)
    frame = to_frame(res, **ids)
    if ann_accuracy is not None:
        frame.insert(frame.columns.get_loc("accuracy") + 1, "ann_accuracy", ann_accuracy)
    write_csv(out_csv, frame)
    return frame


def _bind(sm: Any) -> Any:
    """snakemake object → convert (network + conversion.json), then :func:`main_all` for every input seed."""
    from snnconv.convert.files import job_network
    from snnconv.workflow import paths

    net, run = job_network(sm, write=True)
    outs = {paths.parse(paths.SIM, p)["iseed"]: p for p in sm.output.csvs}
    return main_all(
        net, sm.input.data, outs, dict(sm.wildcards.items()), {**sm.params.simulation, **run}, ann=sm.input.ann
    )


if "snakemake" in globals():
    from snnconv.workflow.job import run_job

    run_job(globals()["snakemake"], _bind)
