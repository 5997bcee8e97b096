"""NIR export: graph structure, refusals, and the round trip through sinabs, an independent simulator.

The round trip writes the converted digits MLP and CNN to a .nir file, reads it back with ``nir.read``, builds the
network with sinabs's NIR importer and compares the output spike counts per image and output neuron with the
pipeline's simulator under constant input for 100 steps: they must be identical. sinabs's IAF layer fires at
V >= θ and subtracts θ, with one threshold per neuron, as the pipeline's neurons do (docs/nir.md); the importer's
IAF layers get the two options NIR's IF prescribes, one spike per step and no floor under the membrane.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from helpers import REPO
from helpers.nir import OutputCounts, T

from snnconv.convert import convert, parse_norm
from snnconv.data import ArrayDataset
from snnconv.defaults import arch_args, convert_args, digits_args, nir_args, sim_args, training_args
from snnconv.models import build_model
from snnconv.network import SpikingNetwork
from snnconv.simulate import simulate

nir = pytest.importorskip("nir", reason="NIR export needs the nir extra: pip install -c requirements.lock -e '.[nir]'")


from snnconv.export import NirExportError, to_nir, write_nir  # noqa: E402 - after the skip: needs nir


def pipeline_counts(net: SpikingNetwork, images: torch.Tensor, reset: str = "subtract") -> torch.Tensor:
    """The pipeline's simulator: constant input, spike-decoded readout, counts per image and output neuron."""
    probe = OutputCounts(len(net.layers) - 1)
    labels = torch.zeros(len(images), dtype=torch.long)
    simulate(
        net, images, labels, T, **sim_args(encoding="constant", reset=reset, decode="spikes", device="cpu", probe=probe)
    )
    return probe.counts()


def sinabs_counts(path: Path, images: torch.Tensor) -> torch.Tensor:
    """sinabs's NIR importer on the file; counts per image and output neuron over T steps of constant input."""
    sinabs_nir = pytest.importorskip(
        "sinabs.nir", reason="the round trip needs sinabs (the nir extra): pip install -c requirements.lock -e '.[nir]'"
    )
    import nirtorch
    import sinabs.layers as sl
    from sinabs.activation import MembraneSubtract, SingleSpike

    batch = len(images)

    def module(node):  # noqa: ANN001, ANN202 - nirtorch's node-map callback
        if isinstance(node, nir.IF):  # NIR's IF: z is 0 or 1 per step and nothing bounds v from below
            theta = torch.from_numpy(np.asarray(node.v_threshold, dtype=np.float32))
            return sl.IAFSqueeze(
                batch_size=batch, spike_threshold=theta, spike_fn=SingleSpike, reset_fn=MembraneSubtract()
            )
        if isinstance(node, nir.AvgPool2d):  # NIR has it; sinabs 3.1's importer maps SumPool2d only
            return torch.nn.AvgPool2d(tuple(node.kernel_size), tuple(node.stride), tuple(node.padding))
        return sinabs_nir._import_sinabs_module(node, batch_size=batch, num_timesteps=None)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # nirtorch.load, the entry point sinabs 3.1 uses
        model = nirtorch.load(nir.read(path), module, return_state=False)
    frames = images.unsqueeze(1).expand(batch, T, *images.shape[1:]).reshape(batch * T, *images.shape[1:])
    with torch.no_grad():
        out = model(frames.contiguous())
    return out.reshape(batch, T, -1).sum(1).to(torch.float64)


@pytest.fixture(scope="module")
def digits():
    from snnconv.data.digits import load_digits_dataset

    ds, _ = load_digits_dataset(**digits_args())
    return ds


@pytest.fixture(scope="module")
def digits_models(digits):
    """The default config's digits MLP and CNN (config/config.yaml's arch options), trained for 15 epochs."""
    from snnconv.train import train_ann

    arch_options = yaml.safe_load((REPO / "config" / "config.yaml").read_text())["arch_options"]
    cfg = training_args(epochs=15, batch_size=64, lr=0.003, optimizer="adam", device="cpu", threads=1)
    models = {}
    for arch in ("mlp", "cnn"):
        result = train_ann(digits, arch, arch_args(arch, **arch_options[arch]), cfg, seed=0, progress=False)
        assert result.test_accuracy > 0.85, (arch, result.test_accuracy)
        models[arch] = result.model
    return models


def converted(model: torch.nn.Module, digits, norm: str) -> SpikingNetwork:
    return convert(model, ArrayDataset.as_float(digits.x_train[:500]), parse_norm(norm), **convert_args())


@pytest.mark.parametrize("arch", ["mlp", "cnn"])
@pytest.mark.parametrize("norm", ["p99.9", "lp4_k-0.25_scale_max"])
def test_round_trip_through_sinabs_gives_identical_spike_counts(tmp_path, digits, digits_models, arch, norm):
    """lp4_k-0.25_scale_max carries one threshold per neuron; p99.9 lets currents exceed θ (one spike per step)."""
    net = converted(digits_models[arch], digits, norm)
    if norm.startswith("lp4"):
        assert len(torch.unique(net.layers[0].threshold)) > 1, "the L4 adjustment should give per-neuron thresholds"
    path = tmp_path / f"{arch}.nir"
    write_nir(net, path, **nir_args())
    images = ArrayDataset.as_float(digits.x_test[:100])
    ours, theirs = pipeline_counts(net, images), sinabs_counts(path, images)
    assert ours.shape == theirs.shape == (100, 10)
    assert ours.sum() > 100 * T * 0.05, "too few output spikes for the comparison to mean anything"
    assert torch.equal(ours, theirs), f"counts differ at {int((ours != theirs).sum())} of {ours.numel()} places"
    accuracy = float((ours.argmax(1) == torch.from_numpy(digits.y_test[:100])).float().mean())
    assert accuracy > 0.3, accuracy  # well above chance (0.1); saturated outputs tie at T spikes, so not the ANN's


def test_vgg_exports_and_reads_back(tmp_path):
    """Any converted network: a small VGG (3x3 convs, pooling, two FC layers) with biases, written and read back."""
    torch.manual_seed(0)
    model = build_model(
        "vgg", (3, 16, 16), 10, **arch_args("vgg", cfg=[8, "P", 16, "P"], hidden=32, dropout=0.0)
    ).eval()
    images = torch.rand(64, 3, 16, 16)
    net = convert(model, images, parse_norm("max"), **convert_args())
    write_nir(net, tmp_path / "vgg.nir", **nir_args())
    graph = nir.read(tmp_path / "vgg.nir")
    kinds = [type(graph.nodes[name]).__name__ for name in _chain(graph)]
    assert kinds == [
        "Input", "Conv2d", "IF", "AvgPool2d", "Conv2d", "IF", "AvgPool2d", "Flatten", "Affine", "IF", "Affine", "IF",
        "Output",
    ]  # fmt: skip
    convs = [graph.nodes[n] for n in _chain(graph) if isinstance(graph.nodes[n], nir.Conv2d)]
    for node, layer in zip(convs, net.layers):
        np.testing.assert_array_equal(node.weight, layer.weight.numpy())
        np.testing.assert_array_equal(node.bias, layer.bias.numpy())


def _chain(graph) -> list[str]:
    """Node names from input to output along the edges (the exported graphs are chains)."""
    nxt = dict(graph.edges)
    order = ["input"]
    while order[-1] in nxt:
        order.append(nxt[order[-1]])
    assert len(order) == len(graph.nodes), "graph is not one chain"
    return order


def test_thresholds_reset_and_conventions_are_written(tmp_path):
    """Every IF node carries the layer's thresholds (per channel broadcast over H×W) and the metadata importers need."""
    from snnconv.export.nir import if_reset_in_spec

    torch.manual_seed(1)
    model = build_model("cnn", (1, 8, 8), 10, **arch_args("cnn", channels=[4], kernel=3, hidden=0, dropout=0.0)).eval()
    net = convert(model, torch.rand(32, 1, 8, 8), parse_norm("lp4_k-0.25_scale_max"), **convert_args())
    path = tmp_path / "cnn.nir"
    write_nir(net, path, **nir_args(reset="zero"))
    graph = nir.read(path)
    ifs = [graph.nodes[n] for n in _chain(graph) if isinstance(graph.nodes[n], nir.IF)]
    assert len(ifs) == len(net.layers)
    conv_theta = net.layers[0].threshold.numpy()
    assert ifs[0].v_threshold.shape == (4, 8, 8)
    np.testing.assert_array_equal(ifs[0].v_threshold, np.broadcast_to(conv_theta[:, None, None], (4, 8, 8)))
    np.testing.assert_array_equal(ifs[-1].v_threshold, net.layers[-1].threshold.numpy())
    for node in ifs:
        np.testing.assert_array_equal(node.r, np.ones_like(node.r))
        meta = {k: v.decode() if isinstance(v, bytes) else v for k, v in node.metadata.items()}
        assert meta["reset"] == "zero" and meta["spike_condition"] == "v >= v_threshold"
    meta = {k: v.decode() if isinstance(v, bytes) else v for k, v in graph.metadata.items()}
    assert meta["reset"] == "zero" and meta["nir_if_reset"] == if_reset_in_spec()
    assert meta["norm"] == "lp4_k-0.25_scale_max"


def test_initial_membrane_and_unknown_reset_are_refused():
    torch.manual_seed(2)
    model = build_model("mlp", (1, 4, 4), 3, **arch_args("mlp", hidden=[5], dropout=0.0)).eval()
    images = torch.rand(16, 1, 4, 4)
    with pytest.raises(NirExportError, match=r"v_init = 0.5 .*p99.9-v0half.*no initial-state field"):
        to_nir(convert(model, images, parse_norm("p99.9-v0half"), **convert_args()), **nir_args())
    with pytest.raises(NirExportError, match=r"reset 'soft' not in"):
        to_nir(convert(model, images, parse_norm("max"), **convert_args()), **nir_args(reset="soft"))
