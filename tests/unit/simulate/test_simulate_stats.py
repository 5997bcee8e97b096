"""Membrane statistics: measured current variance vs. the Σ w² v prediction (docs/method.md §S6)."""

import numpy as np
import pytest
import torch
from helpers.nets import linear, normalise, small_cnn

from snnconv.defaults import stats_args
from snnconv.network import SpikingLayer, SpikingNetwork
from snnconv.simulate import record_membrane_stats
from snnconv.simulate.stats import fan_in, independent_variance

COLUMNS = [
    "layer",
    "layer_index",
    "neuron",
    "channel",
    "fan_in",
    "threshold",
    "mean_current",
    "var_current",
    "std_current",
    "var_pred_exact",
    "rate",
    "n_samples",
    "T",
]
G = torch.Generator().manual_seed(5)


def test_one_layer_bernoulli_variance_matches_prediction():
    w, b = torch.randn(6, 64, generator=G), torch.randn(6, generator=G)
    net = SpikingNetwork([linear(w, b, 1.0, spiking=False, name="out", pre=[{"type": "flatten"}])], (1, 8, 8))
    x = torch.rand(20, 1, 8, 8, generator=G)
    T = 2000
    df = record_membrane_stats(
        net, x, T, **stats_args(seed=1, neurons_per_layer=10, batch_size=8, time_chunk=300, device="cpu")
    )
    assert list(df.columns) == COLUMNS and len(df) == 6 and df.neuron.tolist() == list(range(6))
    exact = (x.flatten(1).double() * (1 - x.flatten(1).double())) @ (w.double() ** 2).T  # (N, 6)
    np.testing.assert_allclose(df.var_pred_exact, exact.mean(0).numpy(), rtol=1e-9)
    # sample variance of T=2000 steps averaged over 20 samples: relative s.d. ≈ sqrt(2/T/20) ≈ 0.7 %
    np.testing.assert_allclose(df.var_current, df.var_pred_exact, rtol=0.05)
    # the mean current over T·N = 40,000 steps: within 4 standard errors of its expectation
    sem = np.sqrt(df.var_pred_exact.to_numpy() / (T * len(x)))
    expected = ((x.flatten(1) @ w.T) + b).mean(0).numpy()
    assert (np.abs(df.mean_current.to_numpy() - expected) < 4 * sem).all()
    np.testing.assert_allclose(df.std_current**2, df.var_current)
    assert (df.fan_in == 64).all() and df.rate.isna().all() and (df["T"] == T).all() and (df.n_samples == 20).all()


def test_conv_net_columns_channels_and_seeded_neuron_sample():
    x = torch.rand(6, 1, 8, 8, generator=G)
    net = normalise(small_cnn(), x)
    kw = dict(seed=0, neurons_per_layer=16, batch_size=4, time_chunk=40, device="cpu")
    df = record_membrane_stats(net, x, 100, **stats_args(sample_seed=3, **kw))
    assert df.groupby("layer_index").size().tolist() == [16, 16, 5]  # readout has only 5 neurons
    assert df.layer.unique().tolist() == ["conv1", "conv2", "out"]
    conv1 = df[df.layer_index == 0]
    assert conv1.channel.tolist() == (conv1.neuron // 64).tolist() and conv1.channel.between(0, 3).all()
    assert df.fan_in.tolist()[:1] == [9] and df[df.layer_index == 1].fan_in.iloc[0] == 36
    spiking = df[df.layer_index < 2]
    assert spiking.rate.between(0, 1).all() and spiking.rate.sum() > 0
    assert np.isfinite(df[COLUMNS[6:10]].to_numpy()).all() and (df.var_pred_exact > 0).all()
    again = record_membrane_stats(net, x, 100, **stats_args(sample_seed=3, **kw))
    assert again.equals(df)
    other = record_membrane_stats(net, x, 100, **stats_args(sample_seed=4, **kw))
    assert other[other.layer_index == 0].neuron.tolist() != conv1.neuron.tolist()


def test_independent_variance_through_avgpool_and_flatten():
    layer = SpikingLayer(
        {"type": "linear"},
        torch.ones(1, 4),
        None,
        torch.ones(1),
        [{"type": "avgpool", "kernel_size": 2}, {"type": "flatten"}],
    )
    v = torch.arange(16.0).reshape(1, 1, 4, 4)
    out = independent_variance(layer, v)
    assert out.shape == (1, 4)
    assert out[0, 0] == pytest.approx((0 + 1 + 4 + 5) / 16)  # var of a mean of 4 independent inputs
    assert fan_in(small_cnn().layers[1]) == 36


def test_rejects_T_below_two():
    net = SpikingNetwork([linear(torch.ones(2, 4), None, 1.0, spiking=False, pre=[{"type": "flatten"}])], (1, 2, 2))
    with pytest.raises(ValueError):
        record_membrane_stats(net, torch.rand(2, 1, 2, 2), 1, **stats_args(device="cpu"))
