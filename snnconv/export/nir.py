"""``to_nir``: a converted :class:`~snnconv.network.SpikingNetwork` as a NIR graph (docs/nir.md).

Every layer becomes its pre-ops (``AvgPool2d``, ``Flatten``), its weighted op (``Affine``, ``Conv2d``) and a
population of ``IF`` neurons carrying the converted per-neuron thresholds. Nodes are joined by explicit edges
from each node's inputs (:class:`GraphBuilder`), so a layer fed by two paths (a skip connection) is one more
edge into the node that sums them, as NIR sums every edge into a node.

What NIR's ``IF`` node cannot say is written into the graph's and every ``IF`` node's metadata, and the rest is
refused with a message that says why:

* the pipeline fires when ``V >= θ`` and resets by subtraction (``reset: subtract``) or to zero. NIR's ``IF`` fires
  when ``v > v_threshold`` and resets by subtraction up to NIR 1.0.4, to ``v_reset`` from 1.0.5 on. The thresholds
  are written exactly (``v_reset`` = 0 where the field exists); ``metadata["reset"]`` and
  ``metadata["spike_condition"]`` say which dynamics they were converted for. sinabs's ``IAF`` layer, which its NIR
  importer builds, fires at ``V >= θ`` and subtracts θ (docs/nir.md, "Which simulator reads it").
* a non-zero initial membrane (``-v0half`` norms: ``V_0 = θ/2``) has no NIR field: refused (:class:`NirExportError`).
* the input encoding is not part of the network: the graph's input is the current of one time step (the pixel
  values for ``encoding: constant``, 0/1 samples of them for ``encoding: poisson``, drawn by the caller).
* the non-spiking readout that the pipeline decodes by its membrane (``decode: membrane``) is written as ``IF``
  neurons with the readout's thresholds: the pipeline's ``decode: spikes``, which importers read as spikes.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import nir
import numpy as np
import torch

from ..atomic import atomic_path
from ..network import SpikingLayer, SpikingNetwork

# Version of the metadata layout written below (graph.metadata["snnconv_nir_format"]).
NIR_FORMAT = 1
RESETS = ("subtract", "zero")
SPIKE_CONDITION = "v >= v_threshold"


class NirExportError(ValueError):
    """The network holds something that a NIR graph cannot express (the message says what and why)."""


@dataclass
class GraphBuilder:
    """Nodes and edges of a NIR graph under construction; :meth:`add` names a node and wires its inputs."""

    nodes: dict[str, nir.NIRNode] = field(default_factory=dict)
    edges: list[tuple[str, str]] = field(default_factory=list)

    def add(self, name: str, node: nir.NIRNode, *inputs: str) -> str:
        """Add ``node`` as ``name`` with an edge from each of ``inputs`` (several inputs are summed by NIR)."""
        if name in self.nodes:
            raise ValueError(f"NIR node name {name!r} used twice")
        self.nodes[name] = node
        self.edges.extend((src, name) for src in inputs)
        return name


def _pair(v: Any) -> np.ndarray:
    """An int or a pair as a length-2 int array (NIR's pooling and conv fields)."""
    return np.array([int(v), int(v)] if isinstance(v, int) else [int(x) for x in v], dtype=np.int64)


def _numpy(t: torch.Tensor) -> np.ndarray:
    """A tensor as a float32 numpy array (NIR stores arrays; the simulator's weights are float32)."""
    return t.detach().cpu().to(torch.float32).numpy().copy()


def check_exportable(network: SpikingNetwork, reset: str) -> None:
    """Raise :class:`NirExportError` naming what the network or the reset mode holds that NIR cannot express."""
    if reset not in RESETS:
        raise NirExportError(f"reset {reset!r} not in {RESETS}")
    if float(network.v_init) != 0.0:
        raise NirExportError(
            f"the network starts its membranes at v_init = {network.v_init:g} × θ (norm "
            f"{network.meta.get('norm', '?')!r}); NIR's IF node has no initial-state field, so an importer would start "
            "at 0 and compute another network. Export the norm without '-v0half' (docs/nir.md)"
        )
    if not network.layers:
        raise NirExportError("the network has no layers")
    for i, layer in enumerate(network.layers[:-1]):
        if not layer.spiking:
            raise NirExportError(f"layer {i} ({layer.name!r}) is non-spiking but not the last layer")


def _pre_op_node(pre: dict[str, Any], in_shape: tuple[int, ...]) -> nir.NIRNode:
    """``AvgPool2d`` or ``Flatten`` for one pre-op acting on a sample of shape ``in_shape``."""
    if pre["type"] == "flatten":
        return nir.Flatten(input_type={"input": np.array(in_shape)}, start_dim=0, end_dim=-1)
    kernel = pre["kernel_size"]
    return nir.AvgPool2d(
        kernel_size=_pair(kernel), stride=_pair(pre.get("stride") or kernel), padding=_pair(pre.get("padding", 0))
    )


def _op_node(layer: SpikingLayer, in_shape: tuple[int, ...], shortcut: bool = False) -> nir.NIRNode:
    """``Affine`` (linear) or ``Conv2d`` with the layer's weights; a missing bias is written as zeros. With
    ``shortcut``, the layer's shortcut op (its bias is part of the main op's)."""
    op = layer.shortcut["op"] if shortcut else layer.op
    weight = layer.shortcut_weight if shortcut else layer.weight
    bias = torch.zeros(layer.n_out) if layer.bias is None or shortcut else layer.bias
    if op["type"] == "linear":
        return nir.Affine(weight=_numpy(weight), bias=_numpy(bias))
    padding = op.get("padding", 0)
    return nir.Conv2d(
        input_shape=tuple(int(s) for s in in_shape[1:]),
        weight=_numpy(weight),
        stride=_pair(op.get("stride", 1)),
        padding=padding if isinstance(padding, str) else _pair(padding),
        dilation=_pair(op.get("dilation", 1)),
        groups=int(op.get("groups", 1)),
        bias=_numpy(bias),
    )


def if_reset_in_spec() -> str:
    """The reset that the installed NIR's ``IF`` node states: ``"subtract"`` up to NIR 1.0.4 (``v ← v − v_thr``),
    ``"to v_reset"`` from 1.0.5 on (the node gained a ``v_reset`` field)."""
    return "to v_reset" if "v_reset" in {f.name for f in fields(nir.IF)} else "subtract"


def _if_node(layer: SpikingLayer, out_shape: tuple[int, ...], reset: str, readout: bool) -> nir.IF:
    """IF neurons of one layer: thresholds broadcast to every neuron of ``out_shape``, r = 1 (and v_reset = 0 where
    the installed NIR has the field); ``metadata["reset"]`` names the reset the thresholds were converted for."""
    theta = layer.threshold.reshape(-1, *([1] * (len(out_shape) - 1))).expand(out_shape)
    metadata = {"reset": reset, "spike_condition": SPIKE_CONDITION, "layer": layer.name}
    if readout:
        metadata["readout"] = "spike counts (the pipeline's decode: spikes)"
    extra = {"v_reset": np.zeros(out_shape, dtype=np.float32)} if if_reset_in_spec() == "to v_reset" else {}
    return nir.IF(r=np.ones(out_shape, dtype=np.float32), v_threshold=_numpy(theta), metadata=metadata, **extra)


def to_nir(network: SpikingNetwork, reset: str) -> nir.NIRGraph:
    """The converted network as a NIR graph: Input → per layer [AvgPool2d | Flatten]* → Affine | Conv2d → IF → Output.

    Args:
        network: the converted network (``snnconv.network.load_network`` of a ``network.pt``); its ``v_init``
            must be 0 (NIR has no initial membrane).
        reset: the reset the thresholds were converted for (``simulation.reset``), ``"subtract"`` or ``"zero"``;
            recorded in the metadata, since NIR's ``IF`` only states a reset to ``v_reset``.

    Returns:
        The graph (``nir.write(path, graph)`` stores it; :func:`write_nir` does both, atomically).
    """
    check_exportable(network, reset)
    g = GraphBuilder()
    shape = tuple(int(s) for s in network.input_shape)
    last = g.add("input", nir.Input(input_type={"input": np.array(shape)}))
    x = torch.zeros(1, *shape)
    if_nodes: list[tuple[str, torch.Tensor]] = []  # every layer's IF node and output (shortcut sources)
    with torch.no_grad():
        for i, layer in enumerate(network.layers):
            name = layer.name or f"layer{i}"
            for j, pre in enumerate(layer.pre_ops):
                last = g.add(f"{name}_{pre['type']}{j}", _pre_op_node(pre, tuple(x.shape[1:])), last)
                x = replace(layer, pre_ops=[pre]).apply_pre_ops(x)
            op_node = _op_node(layer, tuple(x.shape[1:]))
            inputs = [g.add(f"{name}_{'affine' if layer.op['type'] == 'linear' else 'conv'}", op_node, last)]
            if layer.shortcut is not None:  # the add node: a second edge into the IF node, which NIR sums
                src_node, src_x = if_nodes[layer.shortcut["source"]]
                inputs.append(g.add(f"{name}_shortcut", _op_node(layer, tuple(src_x.shape[1:]), True), src_node))
            x = layer.apply_op(x, bias=False)
            readout = i == len(network.layers) - 1
            last = g.add(f"{name}_if", _if_node(layer, tuple(x.shape[1:]), reset, readout), *inputs)
            if_nodes.append((last, x))
    g.add("output", nir.Output(output_type={"output": np.array(tuple(x.shape[1:]))}), last)
    metadata = {
        "producer": "snnconv",
        "snnconv_nir_format": NIR_FORMAT,
        "norm": str(network.meta.get("norm", "")),
        "reset": reset,
        "nir_if_reset": if_reset_in_spec(),
        "spike_condition": SPIKE_CONDITION,
        "input": "the input current of one time step (constant encoding: the pixel values in [0, 1])",
        "readout": "IF neurons with the readout's thresholds: classify by output spike counts",
    }
    return nir.NIRGraph(nodes=g.nodes, edges=g.edges, metadata=metadata)


def write_nir(network: SpikingNetwork, path: str | Path, reset: str) -> nir.NIRGraph:
    """Write :func:`to_nir` of ``network`` to ``path`` (HDF5, NIR's file format) atomically; returns the graph.

    Args:
        network: the converted network, as for :func:`to_nir`.
        path: the ``.nir`` file to write (its folder is created).
        reset: as for :func:`to_nir`.
    """
    graph = to_nir(network, reset)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        nir.write(tmp, graph)
    return graph
