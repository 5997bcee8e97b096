"""Snakemake entry point: membrane statistics of sampled neurons per layer (docs/method.md §S6).

Logic lives in :func:`main` (plain arguments, callable from tests); ``snakemake`` is used only at the bottom.
"""


from pathlib import Path
from typing import Any

import torch

from snnconv.atomic import write_csv
from snnconv.network import load_network
from snnconv.simulate import record_membrane_stats
from snnconv.simulate.runio import clean_ids, make_logger, load_test_split

DEFAULTS: dict[str, Any] = {"T": 1000, "neurons_per_layer": 64, "samples": 100, "seed": 0, "max_rate": 1.0,
                            "batch_size": 100, "time_chunk": 50, "device": "auto", "norms": ["max"], "threads": 1}


def main(network: str | Path, data: str | Path, out_csv: str | Path, ids: dict[str, Any], cfg: dict[str, Any],
         log_path: str | Path | None = None) -> "Any":
    """Record the statistics, write the per-neuron CSV atomically and return the frame."""
    log = make_logger(log_path, "snnconv.membrane_stats")
    unknown = sorted(set(cfg) - set(DEFAULTS))
    if unknown:
        log.warning("ignoring unknown config['stats'] keys %s", unknown)
    cfg = DEFAULTS | dict(cfg)
    torch.set_num_threads(int(cfg["threads"]))  # fixed, so results do not depend on --cores
    ids = clean_ids(ids)
    images, _ = load_test_split(data, int(cfg["samples"]), expect_dataset=ids.get("dataset"))
    net = load_network(network)
    if tuple(images.shape[1:]) != tuple(net.input_shape):
        raise ValueError(f"{network}: network expects inputs of shape {tuple(net.input_shape)}, "
                         f"but {data} holds {tuple(images.shape[1:])}")
    log.info("network %s: %d test images, ids %s, settings %s", network, len(images), ids, cfg)
    frame = record_membrane_stats(net, images, int(cfg["T"]), seed=int(cfg["seed"]),
                                  neurons_per_layer=int(cfg["neurons_per_layer"]), sample_seed=int(cfg["seed"]),
                                  max_rate=float(cfg["max_rate"]), batch_size=int(cfg["batch_size"]),
                                  time_chunk=int(cfg["time_chunk"]), device=cfg["device"])
    for key, value in reversed(list(ids.items())):
        frame.insert(0, key, value)
    write_csv(out_csv, frame)
    log.info("%d neurons over %d layers written to %s", len(frame), frame.layer_index.nunique(), out_csv)
    return frame


if __name__ == "__main__" and "snakemake" in globals():
    sm = globals()["snakemake"]
    main(sm.input.network, sm.input.data, sm.output.csv, dict(sm.wildcards.items()), sm.config["stats"],
         sm.log[0] if sm.log else None)
