"""The variance claim: weight norms per neuron, correlations with known answers, the table."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch
from helpers.figure_data import rendered

from snnconv.analysis.correlations import (
    EXACT,
    attach_weight_norms,
    best_predictor,
    load_stats,
    pearson,
    spearman,
    variance_correlations,
    weight_norms,
)
from snnconv.network import SpikingLayer, SpikingNetwork, save_network
from snnconv.report.variance_claim import correlation_table


def _net(seed: int = 0) -> SpikingNetwork:
    """One conv layer (4 channels) and one linear layer (30 neurons) with heavy-tailed rows."""
    g = torch.Generator().manual_seed(seed)
    w_lin = torch.randn(30, 50, generator=g) ** 3 * (torch.rand(30, 1, generator=g) + 0.2)
    w_conv = torch.randn(4, 2, 3, 3, generator=g)
    return SpikingNetwork(
        [
            SpikingLayer({"type": "conv2d", "padding": 1}, w_conv, None, torch.ones(4), [], True, "conv2d0"),
            SpikingLayer({"type": "linear"}, w_lin, None, torch.ones(30), [{"type": "flatten"}], True, "linear3"),
        ],
        (2, 5, 5),
    )


def _stats(net: SpikingNetwork, std_of) -> pd.DataFrame:
    """Sampled neurons of the linear layer with measured std = std_of(row weights)."""
    w = net.layers[1].weight.double()
    rows = [
        {
            "layer": "linear3",
            "layer_index": 1,
            "neuron": j,
            "channel": j,
            "std_current": float(std_of(w[j])),
            "var_pred_exact": float(std_of(w[j])) ** 2,
            "dataset": "d",
            "arch": "mlp",
            "seed": 0,
            "norm": "max",
        }
        for j in range(w.shape[0])
    ]
    return pd.DataFrame(rows)


def test_weight_norms_per_row_and_channel():
    net = _net()
    norms = weight_norms(net)
    conv = norms[norms["layer_index"] == 0].set_index("unit")
    w = net.layers[0].weight.double()
    assert conv.loc[2, "norm_L4"] == pytest.approx(float((w[2] ** 4).sum() ** 0.25))
    assert conv.loc[1, "norm_Linf"] == pytest.approx(float(w[1].abs().max()))
    assert len(norms) == 4 + 30


def test_std_proportional_to_l4_gives_spearman_one():
    net = _net()
    stats = attach_weight_norms(_stats(net, lambda w: 0.37 * float((w**4).sum() ** 0.25)), net)
    corr = variance_correlations(stats).set_index("predictor")
    assert corr.loc["L4", "spearman"] == pytest.approx(1.0)
    assert corr.loc["L4", "pearson"] == pytest.approx(1.0)
    assert corr.loc[EXACT, "spearman"] == pytest.approx(1.0)
    assert corr.loc["L1", "spearman"] < 1.0  # the other norms order neurons differently
    best = best_predictor(variance_correlations(stats))
    assert best["predictor"].iloc[0] == "L4" and best["wins"].iloc[0] == 1


def test_std_proportional_to_l2_is_reported_as_such():
    net = _net(1)
    stats = attach_weight_norms(_stats(net, lambda w: float(w.norm())), net)
    assert best_predictor(variance_correlations(stats))["predictor"].iloc[0] == "L2"


def test_spearman_is_rank_based():
    x = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    assert spearman(x, np.exp(x)) == pytest.approx(1.0)
    assert spearman(x, -(x**3)) == pytest.approx(-1.0)
    # ties take average ranks: ranks (1.5, 1.5, 3, 4) vs (1, 2, 3, 4)
    r = pearson([1.5, 1.5, 3, 4], [1, 2, 3, 4])
    assert spearman([1, 1, 2, 3], [10, 20, 30, 40]) == pytest.approx(r)
    assert math.isnan(spearman([1, 1, 1], [1, 2, 3]))  # constant: undefined, not an error
    assert math.isnan(pearson([1, 2], [2, 1]))  # fewer than three points


def test_conv_neurons_use_their_channel():
    net = _net()
    w = net.layers[0].weight.double()
    l4 = [(w[c] ** 4).sum().item() ** 0.25 for c in range(4)]
    stats = pd.DataFrame(
        [
            {
                "layer": "conv2d0",
                "layer_index": 0,
                "neuron": c * 25 + pos,
                "channel": c,
                "std_current": l4[c],
                "var_pred_exact": l4[c] ** 2,
            }
            for c in range(4)
            for pos in (0, 7, 13)
        ]
    )
    out = attach_weight_norms(stats, net)
    assert out["norm_L4"].tolist() == pytest.approx(out["std_current"].tolist())
    with pytest.raises(ValueError, match="channel"):
        attach_weight_norms(stats.drop(columns="channel"), net)
    with pytest.raises(ValueError, match="lacks"):
        attach_weight_norms(stats.drop(columns="std_current"), net)


def test_load_stats_matches_networks_by_path(tmp_path):
    net = _net()
    save_network(net, tmp_path / "snn/digits/mlp/seed0/max/network.pt")
    stats = _stats(net, lambda w: float((w**4).sum() ** 0.25)).drop(columns=["dataset", "arch", "seed", "norm"])
    spath = tmp_path / "stats/digits/mlp/seed0/max.csv"
    spath.parent.mkdir(parents=True)
    stats.to_csv(spath, index=False)
    data = load_stats([spath], [tmp_path / "snn/digits/mlp/seed0/max/network.pt"])
    assert set(data["dataset"]) == {"digits"} and data["norm_L4"].notna().all()
    with pytest.raises(ValueError, match="no network.pt"):
        load_stats([spath], [])


def test_correlation_table_from_synthetic_results():
    out = rendered()
    tab = out["tables"]
    corr = pd.read_csv(tab / "variance_correlation.csv")
    assert set(corr["predictor"]) == {"L1", "L2", "L3", "L4", "Linf", EXACT}
    assert not corr[["pearson", "spearman"]].isna().all(axis=1).any()
    md = (tab / "variance_correlation.md").read_text()
    tex = (tab / "variance_correlation.tex").read_text()
    assert "**" in md and "*mean*" in md and r"\textbf{" in tex and r"\toprule" in tex
    n_layers = corr[["arch", "layer_index"]].drop_duplicates().shape[0]
    assert md.count("\n") == 2 + n_layers + 1  # header, rule, one row per layer, mean
    figs = out["labels"]["variance_correlation"]
    assert any("Spearman" in y for y in figs["ylabels"]) and any("Pearson" in y for y in figs["ylabels"])


def test_correlation_table_empty(tmp_path):
    empty = pd.DataFrame(
        columns=[
            "dataset",
            "arch",
            "seed",
            "norm",
            "layer_index",
            "layer",
            "predictor",
            "p",
            "pearson",
            "spearman",
            "n",
        ]
    )
    correlation_table(empty, tmp_path / "t")
    assert (tmp_path / "t.tex").exists() and (tmp_path / "t.md").exists()
