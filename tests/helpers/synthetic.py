"""Synthetic results shaped exactly like the pipeline's, for tests and for trying figures/paper quickly.

:func:`write_synthetic_results` writes, under ``root``, the files the figure/table/paper rules read:
ANN ``summary.json``, simulation CSVs (one row per t with ``rate_<layer>`` columns), membrane-statistics
CSVs and the ``network.pt``/``conversion.json`` of the statistics norms. The numbers are made up
(accuracy approaches the ANN's with a norm-dependent time constant; measured std ∝ ‖w‖₄ with noise).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from snnconv.network import SpikingLayer, SpikingNetwork, save_network

_SPEED = {
    "none": 0.15,
    "max": 1.0,
    "percentile": 1.4,
    "model": 0.9,
    "v0half": 1.8,
    "l4": 2.0,
    "lp": 1.5,
    "uniform": 1.3,
}


def synthetic_network(arch: str, seed: int) -> SpikingNetwork:
    """A small random spiking network (mlp: 2 hidden linear layers; otherwise a conv + linear layer)."""
    g = torch.Generator().manual_seed(1000 + seed + (0 if arch == "mlp" else 500))

    def w(*shape: int) -> torch.Tensor:
        # heavy-tailed, row-wise scaled weights so that the L_p norms of rows disagree
        row_scale = torch.rand(shape[0], *([1] * (len(shape) - 1)), generator=g) + 0.3
        sparse = (torch.rand(*shape, generator=g) < 0.5).float()
        return torch.randn(*shape, generator=g) ** 3 * row_scale * sparse * 0.1

    def lin(n_in: int, n_out: int, name: str, spiking: bool = True, pre=None) -> SpikingLayer:
        return SpikingLayer(
            {"type": "linear"}, w(n_out, n_in), torch.zeros(n_out), torch.ones(n_out), pre or [], spiking, name
        )

    if arch == "mlp":
        layers = [
            lin(64, 24, "linear1", pre=[{"type": "flatten"}]),
            lin(24, 16, "linear4"),
            lin(16, 10, "linear7", spiking=False),
        ]
    else:
        conv = SpikingLayer(
            {"type": "conv2d", "stride": 1, "padding": 1},
            w(6, 1, 3, 3),
            torch.zeros(6),
            torch.ones(6),
            [],
            True,
            "conv2d0",
        )
        layers = [
            conv,
            lin(96, 20, "linear4", pre=[{"type": "avgpool", "kernel_size": 2}, {"type": "flatten"}]),
            lin(20, 10, "linear7", spiking=False),
        ]
    return SpikingNetwork(layers, (1, 8, 8), 0.0, {})


def _family(norm: str, conversion_cfg: dict[str, Any]) -> tuple[str, Any]:
    from snnconv.convert import parse_norm
    from snnconv.report.style import norm_family

    return norm_family(norm, conversion_cfg), parse_norm(norm, conversion_cfg)


def write_synthetic_results(root: str | Path, config: dict[str, Any], seed: int = 0) -> dict[str, list[Path]]:
    """Write a synthetic ``results`` tree for a validated ``config``; returns the paths by kind."""
    from snnconv.convert import lp_norms, norm_names
    from snnconv.workflow.config import stats_norms

    root = Path(root)
    rng = np.random.default_rng(seed)
    conv = config["conversion"]
    norms = norm_names(conv)
    T = int(config["simulation"]["T"])
    t = np.arange(1, T + 1)
    paths: dict[str, list[Path]] = {"summary": [], "sim": [], "stats": [], "network": [], "conversion": []}
    for d_i, dataset in enumerate(config["datasets"]):
        for arch in config["archs"]:
            for s in config["seeds"]:
                ann = 0.97 - 0.1 * d_i - (0.01 if arch == "mlp" else 0.0) + 0.003 * rng.standard_normal()
                mdir = root / "models" / dataset / arch / f"seed{s}"
                mdir.mkdir(parents=True, exist_ok=True)
                (mdir / "summary.json").write_text(
                    json.dumps({"dataset": dataset, "arch": arch, "seed": s, "test_accuracy": ann, "epochs": 1})
                )
                paths["summary"].append(mdir / "summary.json")
                net = synthetic_network(arch, s)
                spiking = [l.name for l in net.layers if l.spiking]
                for norm in norms:
                    fam, spec = _family(norm, conv)
                    speed = _SPEED[fam] * (1 + 0.15 * (spec.k or 0) * (1 if fam != "uniform" else 0.3))
                    if fam == "lp":
                        speed *= 1 - 0.1 * abs(math.log2(min(float(spec.p), 16) / 4))
                    for iseed in config["simulation"]["input_seeds"]:
                        tau = 12.0 / max(speed, 0.05)
                        acc = ann - (ann - 0.1) * np.exp(-t / tau) - 0.004 + 0.004 * rng.standard_normal(T) / np.sqrt(t)
                        frame = {
                            "dataset": dataset,
                            "arch": arch,
                            "seed": s,
                            "norm": norm,
                            "input_seed": iseed,
                            "t": t,
                            "accuracy": np.clip(acc, 0, 1),
                        }
                        for li, name in enumerate(spiking):
                            base = 0.12 / (li + 1) * (1.3 if fam in ("percentile", "v0half") else 1.0)
                            frame[f"rate_{name}"] = base * (1 - 0.5 * np.exp(-t / 5)) + 0.002 * rng.random()
                        frame["n_samples"] = 100
                        frame["silent_output"] = 0
                        sdir = root / "sim" / dataset / arch / f"seed{s}" / norm
                        sdir.mkdir(parents=True, exist_ok=True)
                        pd.DataFrame(frame).to_csv(sdir / f"input{iseed}.csv", index=False)
                        paths["sim"].append(sdir / f"input{iseed}.csv")
                    cdir = root / "snn" / dataset / arch / f"seed{s}" / norm
                    cdir.mkdir(parents=True, exist_ok=True)
                    (cdir / "conversion.json").write_text(
                        json.dumps(
                            {
                                "norm": norm,
                                "method": spec.method,
                                "params": spec.params(),
                                "lambdas": [],
                                "adjustment": None,
                            }
                        )
                    )
                    paths["conversion"].append(cdir / "conversion.json")
                for norm in stats_norms(config):
                    ndir = root / "snn" / dataset / arch / f"seed{s}" / norm
                    save_network(net, ndir / "network.pt")
                    paths["network"].append(ndir / "network.pt")
                    rows = []
                    for li, layer in enumerate(net.layers):
                        l4 = lp_norms(layer.weight, 4).double().numpy()
                        sq = (layer.weight.double().flatten(1) ** 2).sum(1).numpy()
                        fan_in = layer.weight[0].numel()
                        positions = 1 if layer.op["type"] == "linear" else 4
                        for j in range(layer.n_out):
                            for pos in range(positions):
                                neuron = j if positions == 1 else j * 64 + pos * 7
                                std = 0.6 * l4[j] * (1 + 0.05 * rng.standard_normal())
                                var_exact = 0.36 * l4[j] ** 2 * (1 + 0.02 * rng.standard_normal()) + 0.01 * sq[j]
                                rows.append(
                                    {
                                        "layer": layer.name,
                                        "layer_index": li,
                                        "neuron": neuron,
                                        "channel": j,
                                        "mean_current": 0.1 * rng.standard_normal(),
                                        "var_current": std**2,
                                        "std_current": std,
                                        "var_pred_exact": var_exact,
                                        "rate": float(rng.random() * 0.2) if layer.spiking else math.nan,
                                        "fan_in": fan_in,
                                    }
                                )
                    spath = root / "stats" / dataset / arch / f"seed{s}" / f"{norm}.csv"
                    spath.parent.mkdir(parents=True, exist_ok=True)
                    pd.DataFrame(rows).to_csv(spath, index=False)
                    paths["stats"].append(spath)
    return paths
