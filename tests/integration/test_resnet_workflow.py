"""The real workflow on a residual network: tests/configs/resnet.yaml trains resnet8 on digits, converts it under
four norms (max, p99.9, model, the L4 adjustment), simulates every conversion and builds the report tables."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from helpers import REPO
from helpers.tiny import run_snakemake

from snnconv.network import load_network

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_resnet_trains_converts_and_simulates(tmp_path):
    run_snakemake(tmp_path, config=REPO / "tests" / "configs" / "resnet.yaml")
    res: Path = tmp_path / "results"
    assert (res / "models" / "digits" / "resnet" / "seed0" / "model.pt").exists()
    for norm in ("max", "p99.9", "model", "lp4_k-0.25_scale_max"):
        folder = res / "snn" / "digits" / "resnet" / "seed0" / norm
        net = load_network(folder / "network.pt")
        assert sum(layer.shortcut is not None for layer in net.layers) == 3  # resnet8: three blocks
        agreement = json.loads((folder / "conversion.json").read_text())["agreement"]
        if norm in ("max", "model"):  # no rate above 1 on the conversion set: the rate model is the ANN
            assert agreement["ann_vs_rate"] == 1.0
        frame = pd.read_csv(res / "sim" / "digits" / "resnet" / "seed0" / norm / "input0.csv")
        assert list(frame["t"]) == list(range(1, 41))
        if norm != "model":  # the weight-based bound leaves deep layers nearly silent at T = 40
            assert frame["rate_block5.conv2"].iloc[-1] > 0  # spikes reach the last block's output
    table = pd.read_csv(res / "tables" / "accuracy_all.csv")
    assert set(table["arch"]) == {"resnet"}
    assert (res / "stats" / "digits" / "resnet" / "seed0" / "max.csv").exists()
