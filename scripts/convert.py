"""Snakemake entry: convert one trained ANN under one norm name (rule ``convert``; docs/method.md §C1–§C7)."""

from snnconv import job  # first: an error while importing the rest lands in the rule log

job.start(globals())


import logging
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from snnconv.atomic import write_json
from snnconv.convert import convert, parse_norm
from snnconv.data import ArrayDataset, load_prepared
from snnconv.models import load_checkpoint
from snnconv.network import SpikingNetwork, save_network
from snnconv.runinfo import require_keys
from snnconv.settings import CONVERSION_KEYS

log = logging.getLogger("snnconv.convert")


def norm_set(x_train: np.ndarray, size: int, seed: int) -> tuple[torch.Tensor, np.ndarray]:
    """The normalization subset of the training images: default_rng(seed).choice without replacement."""
    idx = np.random.default_rng(seed).choice(len(x_train), size=min(int(size), len(x_train)), replace=False)
    return ArrayDataset.as_float(x_train[idx]), idx


def agreement(
    model: torch.nn.Module, net: SpikingNetwork, x: torch.Tensor, y: np.ndarray, batch: int = 256
) -> dict[str, float]:
    """ANN vs converted rate model (clamped, as the SNN approximates it, and unclamped) on the normalization set."""
    ann, clamped, free = [], [], []
    with torch.no_grad():
        for s in range(0, len(x), batch):
            xb = x[s : s + batch]
            ann.append(model(xb).argmax(1))
            clamped.append(net.rate_forward(xb, clamp=True)[-1].argmax(1))
            free.append(net.rate_forward(xb, clamp=False)[-1].argmax(1))
    a, c, f, t = torch.cat(ann), torch.cat(clamped), torch.cat(free), torch.as_tensor(y)
    return {
        "ann_vs_rate": float((a == c).float().mean()),
        "ann_vs_rate_unclamped": float((a == f).float().mean()),
        "ann_accuracy": float((a == t).float().mean()),
        "rate_accuracy": float((c == t).float().mean()),
    }


def main(
    model_path: str | Path,
    data_path: str | Path,
    norm: str,
    conversion_cfg: dict[str, Any],
    network_path: str | Path,
    meta_path: str | Path,
) -> dict[str, Any]:
    """Convert, then write the network and its JSON metadata; returns the metadata.

    ``norm`` is a canonical norm name (it carries every parameter of the method); ``conversion_cfg`` holds the
    settings shared by all norms (settings.CONVERSION_KEYS), every one required.
    """
    start = time.perf_counter()
    conversion_cfg = require_keys(conversion_cfg, CONVERSION_KEYS, "conversion settings")
    spec = parse_norm(norm)
    model, model_meta = load_checkpoint(model_path)
    ds = load_prepared(data_path, expect_dataset=(model_meta["extra"] or {}).get("dataset"))
    if tuple(model_meta["in_shape"]) != ds.shape or int(model_meta["n_classes"]) != len(ds.classes):
        raise ValueError(
            f"{model_path}: model expects input {tuple(model_meta['in_shape'])} and "
            f"{model_meta['n_classes']} classes, but {data_path} has {ds.shape} and {len(ds.classes)}"
        )
    x, idx = norm_set(ds.x_train, conversion_cfg["norm_set_size"], conversion_cfg["norm_set_seed"])
    log.info("converting %s (%s) with norm %s on %d training images", model_path, model_meta["arch"], norm, len(x))
    net = convert(
        model,
        x,
        spec,
        per_channel=bool(conversion_cfg["per_channel"]),
        maxpool_to_avgpool=bool(conversion_cfg["maxpool_to_avgpool"]),
    )
    agree = agreement(model, net, x, ds.y_train[idx])
    log.info("lambdas %s; agreement %s", net.meta["lambdas"], agree)
    save_network(net, network_path)
    meta = {
        **net.meta,
        "sources": {"model": str(model_path), "data": str(data_path)},
        "norm_set": {"size": len(x), "seed": int(conversion_cfg["norm_set_seed"]), "split": "train"},
        "settings": conversion_cfg,
        "agreement": agree,
        "v_init": net.v_init,
        "seconds": time.perf_counter() - start,
    }
    write_json(meta_path, meta)
    return meta


def _bind(smk: Any) -> dict[str, Any]:
    """snakemake object → :func:`main`."""
    return main(
        smk.input.model,
        smk.input.data,
        smk.wildcards.norm,
        dict(smk.params.conversion),
        smk.output.network,
        smk.output.meta,
    )


if "snakemake" in globals():
    from snnconv.job import run_job

    run_job(globals()["snakemake"], _bind)
