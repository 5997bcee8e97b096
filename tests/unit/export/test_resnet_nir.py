"""NIR export of residual nets: the add node is a second edge into the block-output IF node (NIR sums edges), and
the graph, read back and run by NIR's rules, gives the simulator's output spike counts."""

from __future__ import annotations

import pytest
import torch
from helpers.nets import randomize_bn
from helpers.nir import OutputCounts, T

from snnconv.convert import convert, parse_norm
from snnconv.defaults import arch_args, convert_args, nir_args, sim_args
from snnconv.models import build_resnet
from snnconv.simulate import simulate

nir = pytest.importorskip("nir", reason="NIR export needs the nir extra: pip install -c requirements.lock -e '.[nir]'")


from snnconv.export import to_nir, write_nir  # noqa: E402 - after the skip: needs nir

X = torch.rand(30, 1, 8, 8, generator=torch.Generator().manual_seed(0))


def resnet8():
    torch.manual_seed(2)
    model = randomize_bn(build_resnet((1, 8, 8), 5, **arch_args("resnet", preset="resnet8", channels=[3, 4, 5])), 4)
    return convert(model, X, parse_norm("p99.9"), **convert_args())


def test_block_outputs_sum_two_edges():
    net = resnet8()
    graph = to_nir(net, **nir_args())
    into = {}
    for src, dst in graph.edges:
        into.setdefault(dst, []).append(src)
    for layer in net.layers:
        inputs = into[f"{layer.name}_if"]
        if layer.shortcut is None:
            assert len(inputs) == 1
            continue
        source = net.layers[layer.shortcut["source"]].name
        assert sorted(inputs) == sorted([f"{layer.name}_conv", f"{layer.name}_shortcut"])
        assert into[f"{layer.name}_shortcut"] == [f"{source}_if"]
        node = graph.nodes[f"{layer.name}_shortcut"]
        assert isinstance(node, nir.Conv2d) and torch.equal(torch.from_numpy(node.weight), layer.shortcut_weight)
        assert not node.bias.any()  # the shortcut's folded bias is in the main conv's


def run_graph(graph, images: torch.Tensor, steps: int) -> torch.Tensor:
    """NIR's semantics by hand, float64: nodes in topological order, every node's input is the sum of its incoming
    edges of the same step, IF neurons integrate, fire at v >= θ (the graph's stated spike condition) and subtract θ.
    Returns the output spike counts per image. (nirtorch 2.0.2's executor orders nodes depth-first and feeds a node
    whose input is not computed yet the previous step's value, so sinabs cannot be the reference here: docs/nir.md.)"""
    import torch.nn.functional as F

    into: dict[str, list[str]] = {}
    for src, dst in graph.edges:
        into.setdefault(dst, []).append(src)
    order, done = [], set()
    while len(order) < len(graph.nodes):  # Kahn's order: a node after all its inputs
        for name in graph.nodes:
            if name not in done and all(src in done for src in into.get(name, [])):
                order.append(name)
                done.add(name)
    v: dict[str, torch.Tensor] = {}
    counts = 0.0
    x = images.double()
    for _ in range(steps):
        out: dict[str, torch.Tensor] = {}
        for name in order:
            node = graph.nodes[name]
            z = x if isinstance(node, nir.Input) else sum(out[src] for src in into[name])
            if isinstance(node, nir.Conv2d):
                w, b = torch.from_numpy(node.weight).double(), torch.from_numpy(node.bias).double()
                z = F.conv2d(z, w, b, tuple(node.stride), tuple(node.padding), tuple(node.dilation), node.groups)
            elif isinstance(node, nir.Affine):
                z = F.linear(z, torch.from_numpy(node.weight).double(), torch.from_numpy(node.bias).double())
            elif isinstance(node, nir.AvgPool2d):
                z = F.avg_pool2d(z, tuple(node.kernel_size), tuple(node.stride), tuple(node.padding))
            elif isinstance(node, nir.Flatten):
                z = torch.flatten(z, 1)
            elif isinstance(node, nir.IF):
                theta = torch.from_numpy(node.v_threshold).double()
                v[name] = v.get(name, torch.zeros_like(z)) + z
                spikes = (v[name] >= theta).double()
                v[name] = v[name] - spikes * theta
                z = spikes
            out[name] = z
        counts = counts + out["output"]
    return counts


def test_the_graph_computes_the_pipelines_spike_counts(tmp_path):
    """Written, read back with nir.read and run by NIR's rules: the same output spike counts as the simulator."""
    net = resnet8()
    net.layers[-1].threshold = torch.full_like(net.layers[-1].threshold, 0.05)  # an untrained readout: fire often
    write_nir(net, tmp_path / "resnet.nir", **nir_args())
    graph = nir.read(tmp_path / "resnet.nir")
    theirs = run_graph(graph, X, T)
    probe = OutputCounts(len(net.layers) - 1)
    simulate(
        net,
        X,
        torch.zeros(len(X), dtype=torch.long),
        T,
        **sim_args(encoding="constant", decode="spikes", device="cpu", dtype=torch.float64, probe=probe),
    )
    ours = probe.counts()
    assert ours.sum() > len(X) * T * 0.05, "too few output spikes for the comparison to mean anything"
    assert torch.equal(ours, theirs), f"counts differ at {int((ours != theirs).sum())} of {ours.numel()} places"
    without = dict(graph.nodes)
    edges = [(s, d) for s, d in graph.edges if not s.endswith("_shortcut")]
    assert not torch.equal(run_graph(nir.NIRGraph(nodes=without, edges=edges), X, T), theirs)  # the edges matter
