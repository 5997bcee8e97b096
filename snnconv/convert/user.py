"""A user's own model for the command line (``snnconv convert --model my.pt``), as the flat ``nn.Sequential`` that
:func:`~snnconv.convert.layers.parse_model` walks.

``my.pt`` may hold the pipeline's checkpoint (``results/models/.../model.pt``) or a whole module saved with
``torch.save(model, "my.pt")``. The module is unpickled with ``weights_only=True`` and only torch's own
``torch.nn`` classes allowed, so loading a file runs no code from it. A module of nested ``nn.Sequential`` blocks is
flattened; any other module is traced with ``torch.fx`` and accepted if its ``forward`` is a chain of layers.
Positions in error messages count the layers of the flattened chain (the index ``parse_model`` reports).
"""

from __future__ import annotations

import pickle
import re
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..models import load_checkpoint

# Functions a traced forward may call between layers, as the layer that does the same.
_FUNCTION_LAYERS = {torch.flatten: nn.Flatten, torch.relu: nn.ReLU, nn.functional.relu: nn.ReLU}


def torch_nn_classes() -> list[type]:
    """Every ``nn.Module`` class that ``torch.nn`` exports: the only classes a model file may name."""
    return [c for c in vars(nn).values() if isinstance(c, type) and issubclass(c, nn.Module)]


def _flatten(module: nn.Module) -> list[nn.Module]:
    """The leaf layers of nested ``nn.Sequential`` blocks, in order."""
    if isinstance(module, nn.Sequential):
        return [leaf for child in module for leaf in _flatten(child)]
    return [module]


def _traced_chain(module: nn.Module) -> list[nn.Module]:
    """The layers of a module whose traced ``forward`` calls one layer after another on one tensor."""
    from torch import fx

    try:
        graph = fx.symbolic_trace(module).graph
    except Exception as exc:  # torch.fx raises many kinds for data-dependent control flow
        raise ValueError(f"{type(module).__name__}: its forward cannot be traced by torch.fx ({exc})") from exc
    modules, layers, previous = dict(module.named_modules()), [], None
    for position, node in enumerate(n for n in graph.nodes if n.op not in ("placeholder", "output")):
        inputs = [a for a in node.all_input_nodes]
        if len(inputs) != 1 or (previous is not None and inputs[0] is not previous):
            raise ValueError(
                f"{type(module).__name__}: step {position} of its forward ({node.op} {node.target}) takes "
                f"{len(inputs)} inputs or not the previous step's output; only a chain of layers converts"
            )
        if node.op == "call_module":
            layers.append(modules[node.target])
        elif node.op == "call_function" and node.target in _FUNCTION_LAYERS:
            if node.target is torch.flatten and tuple(node.args[1:]) not in ((1,), (1, -1)):
                raise ValueError(f"{type(module).__name__}: step {position}: only torch.flatten(x, 1) converts")
            layers.append(_FUNCTION_LAYERS[node.target]())
        else:
            raise ValueError(
                f"{type(module).__name__}: step {position} of its forward ({node.op} {node.target}) is not a layer"
            )
        previous = node
    return layers


def as_sequential(module: nn.Module) -> nn.Sequential:
    """``module`` as one flat ``nn.Sequential`` of its layers (ValueError naming the step that is not a layer)."""
    if isinstance(module, nn.Sequential):
        return nn.Sequential(*_flatten(module))
    return nn.Sequential(*[leaf for layer in _traced_chain(module) for leaf in _flatten(layer)])


def _refused_global(exc: Exception) -> str:
    """The class or function that ``torch.load(weights_only=True)`` refused, as its message names it."""
    found = re.search(r"GLOBAL ([\w.]+)", str(exc))
    return found.group(1) if found else type(exc).__name__


def load_model(path: str | Path, trust_code: bool = False) -> tuple[nn.Sequential, dict[str, Any]]:
    """The model in ``path`` as a flat ``nn.Sequential`` in eval mode, and what is known about it (arch, input shape).

    Args:
        path: a pipeline checkpoint, or ``torch.save(model, path)`` of a module built from ``torch.nn`` layers.
        trust_code: also unpickle classes of your own (``weights_only=False``: runs code named by the file, whose
            modules must be importable); only for files you made.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such model file")
    try:
        with torch.serialization.safe_globals(torch_nn_classes()):
            payload = torch.load(path, map_location="cpu", weights_only=not trust_code)
    except pickle.UnpicklingError as exc:
        raise ValueError(
            f"{path}: names {_refused_global(exc)}, which is not a torch.nn layer, so it is not unpickled (that would "
            "run code from the file). Save an nn.Sequential of torch.nn layers with torch.save(model, path), or pass "
            "--trust-code for a file you made"
        ) from exc
    except Exception as exc:
        raise ValueError(f"{path}: not a readable torch file ({exc})") from exc
    if isinstance(payload, nn.Module):
        return as_sequential(payload).eval(), {"arch": type(payload).__name__}
    if isinstance(payload, dict) and {"arch", "state_dict"} <= set(payload):
        model, meta = load_checkpoint(path)
        return model, meta
    if isinstance(payload, dict) and payload and all(isinstance(v, torch.Tensor) for v in payload.values()):
        raise ValueError(
            f"{path}: holds a state_dict (weights without the layers); save the module itself: torch.save(model, path)"
        )
    raise ValueError(f"{path}: holds a {type(payload).__name__}, not a model (save it with torch.save(model, path))")
