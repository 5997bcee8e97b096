"""Snakemake entry point: simulate a converted network on the test set; accuracy/rates at every t (§S3).

Logic lives in :func:`main` (plain arguments, callable from tests); ``snakemake`` is used only at the bottom.
"""


from pathlib import Path
from typing import Any

import torch

from snnconv.atomic import write_csv
from snnconv.network import load_network
from snnconv.simulate import simulate, to_frame
from snnconv.simulate.runio import clean_ids, make_logger, load_test_split

DEFAULTS: dict[str, Any] = {"T": 1000, "encoding": "poisson", "max_rate": 1.0, "reset": "subtract",
                            "decode": "membrane", "batch_size": 500, "time_chunk": 50, "device": "auto",
                            "test_subset": 0, "input_seeds": [0], "threads": 1}


def main(network: str | Path, data: str | Path, out_csv: str | Path, ids: dict[str, Any], cfg: dict[str, Any],
         log_path: str | Path | None = None) -> "Any":
    """Simulate, write the tidy per-t CSV atomically and return the frame."""
    log = make_logger(log_path, "snnconv.simulate")
    unknown = sorted(set(cfg) - set(DEFAULTS))
    if unknown:
        log.warning("ignoring unknown config['simulation'] keys %s", unknown)
    cfg = DEFAULTS | dict(cfg)
    torch.set_num_threads(int(cfg["threads"]))  # fixed, so results do not depend on --cores
    ids = clean_ids(ids)
    net = load_network(network)
    images, labels = load_test_split(data, cfg["test_subset"], expect_dataset=ids.get("dataset"))
    if tuple(images.shape[1:]) != tuple(net.input_shape):
        raise ValueError(f"{network}: network expects inputs of shape {tuple(net.input_shape)}, "
                         f"but {data} holds {tuple(images.shape[1:])}")
    log.info("network %s, data %s: %d test images, ids %s", network, data, len(images), ids)
    log.info("settings %s", {k: cfg[k] for k in DEFAULTS})
    res = simulate(net, images, labels, int(cfg["T"]), encoding=cfg["encoding"], seed=int(ids.get("input_seed", 0)),
                   max_rate=float(cfg["max_rate"]), reset=cfg["reset"], decode=cfg["decode"],
                   batch_size=int(cfg["batch_size"]), time_chunk=int(cfg["time_chunk"]), device=cfg["device"])
    log.info("done in %.1f s on %s: accuracy at T=%d %.4f, final rates %s", res.seconds, res.settings["device"],
             res.T, res.accuracy[-1], dict(zip(res.layer_names, res.rates[:, -1].round(4).tolist())))
    what = "emitted no output spike" if cfg["decode"] == "spikes" else "received no spike at the readout"
    if res.silent_output == res.n_samples:
        log.warning("SILENT OUTPUT: all %d samples %s by T=%d; accuracy is the class-0 fraction (ties -> class 0)",
                    res.n_samples, what, res.T)
    elif res.silent_output:
        log.warning("%d of %d samples %s by T=%d (predicted class 0)", res.silent_output, res.n_samples, what, res.T)
    frame = to_frame(res, **ids)
    write_csv(out_csv, frame)
    return frame


if __name__ == "__main__" and "snakemake" in globals():
    sm = globals()["snakemake"]
    main(sm.input.network, sm.input.data, sm.output.csv, dict(sm.wildcards.items()), sm.config["simulation"],
         sm.log[0] if sm.log else None)
