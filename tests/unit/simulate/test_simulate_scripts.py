"""The thin Snakemake entry points scripts/simulate.py and scripts/membrane_stats.py, called through main()."""

import importlib.util

import numpy as np
import pandas as pd
import pytest
import torch
from helpers import REPO as ROOT
from helpers.nets import normalise, random_mlp

from snnconv.data import ArrayDataset, save_prepared
from snnconv.network import load_network, save_network


def load_script(name: str):
    spec = importlib.util.spec_from_file_location(f"script_{name}", ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def files(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(30, 1, 8, 8), dtype=np.uint8)
    ds = ArrayDataset("toy", x[:10], rng.integers(0, 5, 10), x[10:], rng.integers(0, 5, 20), [str(i) for i in range(5)])
    save_prepared(ds, tmp_path / "toy.npz", tmp_path / "toy.json", source={"kind": "test"})
    net = normalise(random_mlp([64, 32, 5], (1, 8, 8)), ArrayDataset.as_float(x[10:]))
    save_network(net, tmp_path / "net.pt")
    return tmp_path


WILDCARDS = {"dataset": "toy", "arch": "mlp", "seed": "0", "norm": "l4", "iseed": "3"}
SIM = {
    "T": 25,
    "encoding": "poisson",
    "max_rate": 1.0,
    "reset": "subtract",
    "decode": "membrane",
    "batch_size": 8,
    "time_chunk": 10,
    "device": "cpu",
    "test_subset": 12,
    "threads": 1,
    "compile": "false",
}


def test_simulate_script_writes_tidy_csv_and_log(files):
    sim = load_script("simulate")
    out, log = files / "out" / "sim.csv", files / "logs" / "sim.log"
    sim.main(files / "net.pt", files / "toy.npz", out, WILDCARDS, SIM, log)
    frame = pd.read_csv(out)
    assert list(frame.columns) == [
        "dataset",
        "arch",
        "seed",
        "norm",
        "input_seed",
        "t",
        "accuracy",
        "rate_fc1",
        "n_samples",
        "silent_output",
    ]
    assert frame.t.tolist() == list(range(1, 26)) and (frame.n_samples == 12).all() and (frame.input_seed == 3).all()
    first = out.read_bytes()
    sim.main(files / "net.pt", files / "toy.npz", out, WILDCARDS, SIM, log)
    assert out.read_bytes() == first  # same input seed: identical bytes
    sim.main(files / "net.pt", files / "toy.npz", out, WILDCARDS | {"iseed": "4"}, SIM, log)
    assert out.read_bytes() != first
    assert "accuracy at T=25" in log.read_text()


def test_all_seeds_in_one_job_write_the_bytes_of_per_seed_runs(files):
    sim = load_script("simulate")
    ids = {k: v for k, v in WILDCARDS.items() if k != "iseed"}
    outs = {3: files / "all" / "input3.csv", 4: files / "all" / "input4.csv", 9: files / "all" / "input9.csv"}
    sim.main_all(files / "net.pt", files / "toy.npz", outs, ids, SIM)
    for seed, path in outs.items():
        alone = files / "alone" / f"input{seed}.csv"
        sim.main(files / "net.pt", files / "toy.npz", alone, ids | {"iseed": str(seed)}, SIM)
        assert path.read_bytes() == alone.read_bytes(), seed
    assert outs[3].read_bytes() != outs[4].read_bytes()


def test_simulate_script_warns_when_output_is_silent(files):
    sim = load_script("simulate")
    out, log = files / "sim.csv", files / "sim.log"
    net = load_network(files / "net.pt")
    net.layers[-1].bias = -torch.ones(5)  # no input spikes (max_rate 0) and negative bias: the readout never fires
    save_network(net, files / "silent.pt")
    sim.main(files / "silent.pt", files / "toy.npz", out, WILDCARDS, SIM | {"decode": "spikes", "max_rate": 0.0}, log)
    frame = pd.read_csv(out)
    assert (frame.silent_output == 12).all()
    assert "SILENT OUTPUT" in log.read_text()


def test_membrane_stats_script(files):
    stats = load_script("membrane_stats")
    out = files / "stats.csv"
    ids = {k: v for k, v in WILDCARDS.items() if k != "iseed"}
    cfg = {
        "T": 30,
        "neurons_per_layer": 8,
        "samples": 5,
        "seed": 1,
        "device": "cpu",
        "max_rate": 1.0,
        "reset": "subtract",
        "batch_size": 5,
        "threads": 1,
        "time_chunk": 10,
        "compile": "auto",
    }
    with pytest.raises(KeyError, match="bogus"):  # no key is silently ignored
        stats.main(files / "net.pt", files / "toy.npz", out, ids, cfg | {"bogus": 1}, files / "stats.log")
    with pytest.raises(KeyError, match="reset"):  # nor silently defaulted
        stats.main(files / "net.pt", files / "toy.npz", out, ids, {k: v for k, v in cfg.items() if k != "reset"})
    assert not out.exists()
    stats.main(files / "net.pt", files / "toy.npz", out, ids, cfg, files / "stats.log")
    frame = pd.read_csv(out)
    assert list(frame.columns[:4]) == ["dataset", "arch", "seed", "norm"]
    assert len(frame) == 8 + 5 and (frame.n_samples == 5).all()
    half = stats.main(files / "net.pt", files / "toy.npz", files / "half.csv", ids, cfg | {"max_rate": 0.5})
    assert not np.allclose(half["rate"].dropna(), frame["rate"].dropna())  # the simulation's max_rate reaches it


def test_the_anns_accuracy_is_recorded_on_the_same_images(files):
    """With the ANN's checkpoint, every seed's CSV carries its accuracy on exactly the simulated test images."""
    from snnconv.defaults import arch_args
    from snnconv.models import build_model, save_checkpoint

    options = arch_args("mlp", hidden=[16], dropout=0.0)
    torch.manual_seed(1)
    model = build_model("mlp", (1, 8, 8), 5, **options)
    save_checkpoint(files / "ann.pt", model, "mlp", (1, 8, 8), 5, options)
    data = np.load(files / "toy.npz")
    images = torch.as_tensor(ArrayDataset.as_float(data["x_test"][:12]))
    with torch.no_grad():
        want = float((model.eval()(images).argmax(1) == torch.as_tensor(data["y_test"][:12])).float().mean())
    sim = load_script("simulate")
    ids = {k: v for k, v in WILDCARDS.items() if k != "iseed"}
    outs = {3: files / "ann" / "input3.csv", 4: files / "ann" / "input4.csv"}
    frames = sim.main_all(files / "net.pt", files / "toy.npz", outs, ids, SIM, ann=files / "ann.pt")
    for frame, path in zip(frames, outs.values()):
        written = pd.read_csv(path)
        assert list(written.columns[6:8]) == ["accuracy", "ann_accuracy"]
        assert written["ann_accuracy"].tolist() == pytest.approx([want] * len(written))
        assert frame["ann_accuracy"].tolist() == written["ann_accuracy"].tolist()
    wrong = files / "wrong.pt"
    save_checkpoint(wrong, build_model("mlp", (1, 4, 4), 5, **options), "mlp", (1, 4, 4), 5, options)
    with pytest.raises(ValueError, match=r"wrong.pt: the ANN takes inputs \(1, 4, 4\)"):
        sim.main_all(files / "net.pt", files / "toy.npz", outs, ids, SIM, ann=wrong)
