"""Rule membrane_stats: membrane statistics of sampled neurons per layer (docs/method.md §S6), with each sampled
neuron's ‖w‖_p (p = 1, 2, 3, 4, ∞) and the exact variance prediction, so the variance claim needs nothing else.
The network is converted in this job from its base's normalization record (§C10), exactly as rule simulate does.

Logic lives in :func:`main` (plain arguments, callable from tests); the ``snakemake`` binding is at the bottom.
The input encoding (Poisson), max_rate and reset are the simulation's; T, neurons_per_layer,
samples and seed are the statistics' own (settings.stats).
"""

from snnconv.workflow import job  # first: an error while importing the rest lands in the rule log

job.start(globals())

import logging
from pathlib import Path
from typing import Any

from snnconv.analysis.correlations import attach_weight_norms
from snnconv.atomic import write_csv
from snnconv.runinfo import require_keys, setup_logging
from snnconv.simulate import record_membrane_stats
from snnconv.simulate.runio import clean_ids, load_simulation_inputs
from snnconv.workflow.job import EXECUTION_KEYS
from snnconv.workflow.settings import STATS_FROM_SIMULATION, STATS_KEYS

log = logging.getLogger("snnconv.membrane_stats")


def main(
    network: str | Path | Any,
    data: str | Path,
    out_csv: str | Path,
    ids: dict[str, Any],
    cfg: dict[str, Any],
    log_path: str | Path | None = None,
) -> Any:
    """Record the statistics, attach the weight norms, write the per-neuron CSV atomically and return the frame.

    ``network`` is a network file or the network itself (as the rule passes it, converted in this job).
    """
    if log_path:
        setup_logging(log_path)
    cfg = require_keys(cfg, STATS_KEYS + STATS_FROM_SIMULATION + EXECUTION_KEYS, "membrane-statistics settings")
    ids = clean_ids(ids)
    net, images, _, _ = load_simulation_inputs(
        network,
        data,
        int(cfg["samples"]),
        cfg,
        ids.get("dataset"),
        "stats.samples (simulation.batch_size) × simulation.time_chunk",
    )
    log.info("%d test images, ids %s, settings %s", len(images), ids, cfg)
    frame = record_membrane_stats(
        net,
        images,
        int(cfg["T"]),
        seed=int(cfg["seed"]),
        neurons_per_layer=int(cfg["neurons_per_layer"]),
        sample_seed=int(cfg["seed"]),
        max_rate=float(cfg["max_rate"]),
        batch_size=int(cfg["batch_size"]),
        time_chunk=int(cfg["time_chunk"]),
        device=cfg["device"],
        reset=cfg["reset"],
    )
    frame = attach_weight_norms(frame, net)
    for key, value in reversed(list(ids.items())):
        frame.insert(0, key, value)
    write_csv(out_csv, frame)
    log.info("%d neurons over %d layers written to %s", len(frame), frame.layer_index.nunique(), out_csv)
    return frame


def _bind(sm: Any) -> Any:
    """snakemake object → convert (in memory), then :func:`main`."""
    from snnconv.convert.files import job_network

    net, run = job_network(sm, write=False)
    return main(net, sm.input.data, sm.output.csv, dict(sm.wildcards.items()), {**sm.params.stats, **run})


if "snakemake" in globals():
    from snnconv.workflow.job import run_job

    run_job(globals()["snakemake"], _bind)
