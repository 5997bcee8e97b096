"""QCFS (docs/method.md, "QCFS"): the activation against its formula (values and straight-through gradients),
the checkpoint of a QCFS twin, the conversion as base qcfs (θ = trained λ, v0 = θ/2) and its convergence to the
QCFS ANN's accuracy as T grows under constant input."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from snnconv.convert import base_name, canonicalize, convert, parse_norm
from snnconv.convert.pipeline import base_statistics, prepare
from snnconv.data import ArrayDataset
from snnconv.data.digits import load_digits_dataset
from snnconv.defaults import arch_args, convert_args, digits_args, sim_args, training_args
from snnconv.models import load_checkpoint, save_checkpoint
from snnconv.qcfs import QCFS, qcfs_lambdas, to_qcfs
from snnconv.simulate import simulate
from snnconv.train import evaluate, train_ann


def formula(x: float, lam: float, L: int) -> float:
    """h(x) = λ/L · clip(floor(x·L/λ + 1/2), 0, L), written out in plain Python."""
    return lam / L * min(max(math.floor(x * L / lam + 0.5), 0), L)


@pytest.mark.parametrize("L, lam", [(4, 2.0), (8, 0.7), (1, 3.0)])
def test_values_match_formula(L, lam):
    act = QCFS(L, lam)
    xs = np.linspace(-2.0, 2.5 * lam, 211)
    got = act(torch.tensor(xs, dtype=torch.float64)).detach()
    want = [formula(float(x), lam, L) for x in xs]
    assert got.tolist() == pytest.approx(want, abs=1e-6)
    edge = lam / (2 * L)  # the shift by 1/2: the first level starts half a step above 0
    assert act(torch.tensor([edge - 1e-4])).item() == 0.0
    assert act(torch.tensor([edge + 1e-4])).item() == pytest.approx(lam / L)


def test_gradients_are_straight_through():
    """dh/dx = 1 inside (0, λ), 0 outside; dh/dλ = h/λ − x/λ inside, 1 above λ, 0 below 0 (floor passes its
    gradient through, so inside h = λ·q with dq/d(x/λ) = 1)."""
    L, lam = 4, 2.0
    xs = torch.tensor([-1.0, 0.3, 0.9, 1.3, 1.9, 2.6, 5.0], dtype=torch.float64, requires_grad=True)
    act = QCFS(L, lam).double()
    for i in range(len(xs)):
        act.zero_grad()
        if xs.grad is not None:
            xs.grad = None
        act(xs)[i].backward()
        x = float(xs[i].detach())
        h = formula(x, lam, L)
        inside = 0 < x < lam
        assert xs.grad[i].item() == pytest.approx(1.0 if inside else 0.0)
        want_lam = (h / lam - x / lam) if inside else (1.0 if x >= lam else 0.0)
        assert act.lam.grad.item() == pytest.approx(want_lam, abs=1e-9)


def test_bad_levels_rejected():
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="levels must be a positive integer"):
            QCFS(bad, 1.0)
    with pytest.raises(ValueError, match="lambda_init must be positive"):
        QCFS(4, 0.0)


def test_to_qcfs_replaces_every_relu_with_its_own_lambda():
    model = nn.Sequential(nn.Flatten(), nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 3), nn.ReLU(), nn.Linear(3, 2))
    q = to_qcfs(model, 4, 8.0)
    acts = [m for m in q if isinstance(m, QCFS)]
    assert len(acts) == 2 and acts[0].lam is not acts[1].lam
    assert not any(isinstance(m, nn.ReLU) for m in q)
    assert qcfs_lambdas(q) == [8.0, 8.0]


def test_qcfs_norm_names():
    spec = parse_norm("qcfs")
    assert spec.qcfs and spec.v_init == 0.5 and spec.base_name == "qcfs" and canonicalize("qcfs") == "qcfs"
    assert canonicalize("qcfs-calib") == "qcfs-calib" and base_name("qcfs-calib") == "qcfs"
    with pytest.raises(ValueError, match="already starts at v0"):
        parse_norm("qcfs-v0half")


@pytest.fixture(scope="module")
def trained():
    """A QCFS MLP (L = 4) trained briefly on the embedded digits, and its data."""
    ds, _ = load_digits_dataset(**digits_args())
    cfg = training_args(epochs=15, batch_size=32, lr=0.01, optimizer="adam", device="cpu", threads=1)
    res = train_ann(
        ds, "mlp", arch_args("mlp", hidden=[48, 32], dropout=0.0), cfg, 0, False, qcfs={"levels": 4, "lambda_init": 2.0}
    )
    return res.model, ds


def test_training_moves_lambda_and_checkpoint_keeps_it(trained, tmp_path):
    model, ds = trained
    lams = qcfs_lambdas(model)
    assert len(lams) == 2 and all(abs(l - 2.0) > 1e-3 for l in lams)  # λ trained
    path = tmp_path / "model.pt"
    save_checkpoint(
        path, model, "mlp", ds.shape, 10, {"hidden": [48, 32], "dropout": 0.0}, {}, {"type": "qcfs", "levels": 4}
    )
    loaded, meta = load_checkpoint(path)
    assert qcfs_lambdas(loaded) == lams and meta["activation"] == {"type": "qcfs", "levels": 4}
    x = ArrayDataset.as_float(ds.x_test[:50])
    assert torch.equal(loaded(x), model(x))


def test_conversion_uses_the_trained_lambda(trained):
    """θ = λ: λ_l rescales W_l by λ_{l-1}/λ_l, so in the converted units θ = 1; v0 = θ/2."""
    model, ds = trained
    lams = qcfs_lambdas(model)
    x = ArrayDataset.as_float(ds.x_train[:200])
    _, raw = prepare(model, x, convert_args()["maxpool_to_avgpool"])
    assert [float(l) for l in base_statistics(raw, x, "qcfs", False).lambdas[:2]] == lams
    net = convert(model, x, parse_norm("qcfs"), **convert_args())
    assert net.meta["lambdas"][:2] == lams and net.v_init == 0.5 and net.meta["qcfs_levels"] == 4
    linears = [m for m in model if isinstance(m, nn.Linear)]
    assert torch.allclose(net.layers[0].weight, linears[0].weight / lams[0])
    assert torch.allclose(net.layers[1].weight, linears[1].weight * lams[0] / lams[1])
    assert torch.allclose(net.layers[2].weight, linears[2].weight * lams[1])
    assert all(torch.equal(l.threshold, torch.ones_like(l.threshold)) for l in net.layers)


def test_qcfs_norm_refuses_a_relu_network():
    model = nn.Sequential(nn.Flatten(), nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    with pytest.raises(ValueError, match="QCFS-trained network"):
        convert(model, torch.rand(8, 1, 2, 2), parse_norm("qcfs"), **convert_args())


def test_converted_net_approaches_qcfs_ann_accuracy(trained):
    """Constant input: the SNN's accuracy gap to the QCFS ANN is largest at T = 1 and stays within 2 points from
    T = 16 on (at large T the rates follow the unquantized clip, so the gap shrinks to a small floor, not to 0)."""
    model, ds = trained
    x, y = ArrayDataset.as_float(ds.x_test), torch.from_numpy(ds.y_test)
    ann = evaluate(model, x, y)[0]
    net = convert(model, ArrayDataset.as_float(ds.x_train[:300]), parse_norm("qcfs"), **convert_args())
    acc = simulate(net, x, y, 64, **sim_args(encoding="constant", device="cpu", compile="false")).accuracy
    gap = np.abs(acc - ann)
    assert ann > 0.85
    assert gap[15:].max() <= 0.02, (ann, acc[[0, 3, 7, 15, 31, 63]])
    assert gap[0] == gap.max() and gap[15:].max() < gap[0]


def test_resnet_qcfs_twin_converts_with_every_trained_lambda():
    """Residual blocks' activations become QCFS too (two per block), the ReLU original is untouched, and the qcfs
    norm reads one trained λ per spiking layer, block outputs included."""
    from snnconv.models import build_resnet

    torch.manual_seed(0)
    relu = build_resnet((1, 8, 8), 3, **arch_args("resnet", preset="resnet8", channels=[4, 4, 8])).eval()
    q = to_qcfs(relu, 4, 2.0).eval()
    assert sum(isinstance(m, QCFS) for m in q.modules()) == 7 and not any(isinstance(m, nn.ReLU) for m in q.modules())
    assert sum(isinstance(m, nn.ReLU) for m in relu.modules()) == 7  # the original keeps its ReLUs
    with torch.no_grad():
        for i, m in enumerate(m for m in q.modules() if isinstance(m, QCFS)):
            m.lam.fill_(1.0 + 0.25 * i)
    net = convert(q, torch.rand(32, 1, 8, 8), parse_norm("qcfs"), **convert_args())
    assert net.meta["lambdas"][:7] == pytest.approx([1.0 + 0.25 * i for i in range(7)])
    assert net.v_init == 0.5 and any(l.shortcut is not None for l in net.layers)
