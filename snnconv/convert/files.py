"""Conversion between files: what rules ``normalize``, ``simulate`` and ``membrane_stats`` run (docs/method.md §C10).

``normalize_files`` measures one base normalization of one model on the normalization set and writes its
record (λ and input-rate statistics, JSON); ``convert_files`` turns the model into the spiking network of
one norm from that record (no pass over the normalization set), checks it against the ANN on a bounded
subset and optionally writes the network and its ``conversion.json``.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..atomic import sha256_file, write_json
from ..data import ArrayDataset, load_prepared
from ..models import load_checkpoint
from ..network import SpikingNetwork, save_network
from ..runinfo import require_keys
from ..workflow.settings import AGREEMENT_IMAGES, CONVERSION_KEYS
from .calibrate import CalibrationSettings
from .names import parse_norm
from .pipeline import BaseStatistics, base_statistics, build, calibrate_built, prepare

log = logging.getLogger("snnconv.convert")


def norm_set(
    x_train: np.ndarray, size: int, seed: int, exclude: np.ndarray | None = None
) -> tuple[torch.Tensor, np.ndarray]:
    """The normalization subset of the training images: default_rng(seed).choice without replacement, from the
    images not in ``exclude`` (the model's validation split, which must stay unseen by conversion as by training)."""
    if exclude is None or len(exclude) == 0:
        idx = np.random.default_rng(seed).choice(len(x_train), size=min(int(size), len(x_train)), replace=False)
    else:
        pool = np.setdiff1d(np.arange(len(x_train)), exclude)
        idx = pool[np.random.default_rng(seed).choice(len(pool), size=min(int(size), len(pool)), replace=False)]
    return ArrayDataset.as_float(x_train[idx]), idx


def held_out_indices(extra: dict[str, Any] | None) -> np.ndarray:
    """The validation indices a checkpoint's ``extra`` records (none for a checkpoint without a split)."""
    record = (extra or {}).get("validation") or {}
    indices = record.get("indices")
    return np.zeros(0, dtype=np.int64) if indices is None else np.asarray(indices, dtype=np.int64).reshape(-1)


def load_conversion_inputs(
    model_path: str | Path, data_path: str | Path, conversion_cfg: dict[str, Any]
) -> tuple[torch.nn.Module, dict[str, Any], ArrayDataset, torch.Tensor, np.ndarray]:
    """The checkpoint, the prepared data (checked against each other) and the normalization set."""
    model, model_meta = load_checkpoint(model_path)
    ds = load_prepared(data_path, expect_dataset=(model_meta["extra"] or {}).get("dataset"))
    if tuple(model_meta["in_shape"]) != ds.shape or int(model_meta["n_classes"]) != len(ds.classes):
        raise ValueError(
            f"{model_path}: model expects input {tuple(model_meta['in_shape'])} and "
            f"{model_meta['n_classes']} classes, but {data_path} has {ds.shape} and {len(ds.classes)}"
        )
    held_out = held_out_indices(model_meta["extra"])
    if len(held_out) and (held_out.max() >= len(ds.x_train) or held_out.min() < 0):
        raise ValueError(
            f"{model_path}: its validation indices do not fit the {len(ds.x_train)} training images of {data_path}"
        )
    x, idx = norm_set(ds.x_train, conversion_cfg["norm_set_size"], conversion_cfg["norm_set_seed"], exclude=held_out)
    return model, model_meta, ds, x, idx


def agreement(
    model: torch.nn.Module, net: SpikingNetwork, x: torch.Tensor, y: np.ndarray, batch: int = 256
) -> dict[str, float]:
    """ANN vs converted rate model (clamped, as the SNN approximates it, and unclamped) on ``x``."""
    ann, clamped, free = [], [], []
    with torch.no_grad():
        for s in range(0, len(x), batch):
            xb = x[s : s + batch]
            ann.append(model(xb).argmax(1))
            clamped.append(net.rate_forward(xb, clamp=True)[-1].argmax(1))
            free.append(net.rate_forward(xb, clamp=False)[-1].argmax(1))
    a, c, f, t = torch.cat(ann), torch.cat(clamped), torch.cat(free), torch.as_tensor(y)
    return {
        "images": len(x),
        "ann_vs_rate": float((a == c).float().mean()),
        "ann_vs_rate_unclamped": float((a == f).float().mean()),
        "ann_accuracy": float((a == t).float().mean()),
        "rate_accuracy": float((c == t).float().mean()),
    }


def normalize_files(
    model_path: str | Path, data_path: str | Path, base: str, conversion_cfg: dict[str, Any], out_json: str | Path
) -> dict[str, Any]:
    """Measure base normalization ``base`` of one model on the normalization set; write and return its record."""
    start = time.perf_counter()
    conversion_cfg = require_keys(conversion_cfg, CONVERSION_KEYS, "conversion settings")
    model, model_meta, _, x, _ = load_conversion_inputs(model_path, data_path, conversion_cfg)
    log.info("normalizing %s (%s) by %s on %d training images", model_path, model_meta["arch"], base, len(x))
    _, raw = prepare(model, x, bool(conversion_cfg["maxpool_to_avgpool"]))
    stats = base_statistics(raw, x, base, bool(conversion_cfg["per_channel"]))
    record = {
        **stats.to_dict(),
        "model_sha256": sha256_file(model_path),
        "sources": {"model": str(model_path), "data": str(data_path)},
        "settings": conversion_cfg,
        "seconds": time.perf_counter() - start,
    }
    log.info("lambdas %s; input-rate E[r²] %s", record["lambdas"], record["input_rate_sq_means"])
    write_json(out_json, record)
    return record


def load_normalization(path: str | Path, model_path: str | Path, conversion_cfg: dict[str, Any]) -> BaseStatistics:
    """A record of :func:`normalize_files`, refused unless it was measured on this model with these settings."""
    try:
        record = json.loads(Path(path).read_text())
    except (OSError, ValueError) as err:
        raise ValueError(f"{path}: not a readable normalization record ({err}); rerun normalize") from err
    missing = {"base", "lambdas", "input_rate_sq_means", "per_channel", "n_images"} - set(record)
    if missing:
        raise ValueError(f"{path}: normalization record lacks {sorted(missing)}; rerun normalize")
    if record.get("model_sha256") != sha256_file(model_path):
        raise ValueError(f"{path}: measured on another model than {model_path} (SHA-256 differs); rerun normalize")
    if record.get("settings") != dict(conversion_cfg):
        raise ValueError(
            f"{path}: measured with conversion settings {record.get('settings')}, not {dict(conversion_cfg)}"
        )
    return BaseStatistics.from_dict(record)


def convert_files(
    model_path: str | Path,
    data_path: str | Path,
    norm: str,
    conversion_cfg: dict[str, Any],
    network_path: str | Path | None = None,
    meta_path: str | Path | None = None,
    normalization_path: str | Path | None = None,
    calib_cfg: dict[str, Any] | None = None,
) -> tuple[SpikingNetwork, dict[str, Any]]:
    """Convert one model under one canonical norm name; returns (network, metadata) and writes what is asked.

    With ``normalization_path`` (the record of the norm's base) no pass over the normalization set is made;
    without it the base statistics are measured here, with identical results. A ``-calib`` norm is calibrated
    on the first ``calib_cfg["images"]`` images of the normalization set (settings.calibration), each keyed in
    the input stream by its index in the training set.
    """
    start = time.perf_counter()
    conversion_cfg = require_keys(conversion_cfg, CONVERSION_KEYS, "conversion settings")
    spec = parse_norm(norm)
    model, model_meta, ds, x, idx = load_conversion_inputs(model_path, data_path, conversion_cfg)
    log.info("converting %s (%s) with norm %s", model_path, model_meta["arch"], norm)
    parsed, raw = prepare(model, x, bool(conversion_cfg["maxpool_to_avgpool"]))
    if normalization_path is None:
        stats = base_statistics(raw, x, spec.base_name, bool(conversion_cfg["per_channel"]))
    else:
        stats = load_normalization(normalization_path, model_path, conversion_cfg)
    net = build(parsed, raw, spec, stats)
    if spec.calib:
        if not calib_cfg:
            raise ValueError(f"norm {norm!r} calibrates but no calibration settings were given (conversion.calib)")
        calib = CalibrationSettings.from_dict(calib_cfg)
        m = min(calib.images, len(x))
        log.info("calibrating on %d normalization images for T_cal = %d steps", m, calib.T)
        net = calibrate_built(net, raw, stats, x[:m], torch.as_tensor(idx[:m], dtype=torch.int64), calib)
    n = min(AGREEMENT_IMAGES, len(x))
    agree = agreement(model, net, x[:n], ds.y_train[idx[:n]])
    log.info("lambdas %s; agreement %s", net.meta["lambdas"], agree)
    meta = {
        **net.meta,
        "sources": {
            "model": str(model_path),
            "data": str(data_path),
            **({"normalization": str(normalization_path)} if normalization_path else {}),
        },
        "norm_set": {
            "size": len(x),
            "seed": int(conversion_cfg["norm_set_seed"]),
            "split": "train",
            "excluded_validation_images": len(held_out_indices(model_meta["extra"])),
        },
        "settings": conversion_cfg,
        "agreement": agree,
        "v_init": net.v_init,
        "seconds": time.perf_counter() - start,
    }
    if network_path is not None:
        save_network(net, network_path)
    if meta_path is not None:
        write_json(meta_path, meta)
    return net, meta


def job_network(smk: Any, write: bool) -> tuple[SpikingNetwork, dict[str, Any]]:
    """The norm's network inside a spiking job (rules simulate, membrane_stats): torch threads set from the job's
    resources, then built from the base's record (written to ``output.network`` / ``output.meta`` if ``write``).
    Returns (network, the job's execution settings)."""
    from ..workflow.job import execution

    run = execution(smk)
    torch.set_num_threads(int(run["threads"]))
    net, _ = convert_files(
        smk.input.model,
        smk.input.data,
        smk.wildcards.norm,
        dict(smk.params.conversion),
        smk.output.network if write else None,
        smk.output.meta if write else None,
        smk.input.normalization,
        dict(smk.params.calib),
    )
    return net, run
