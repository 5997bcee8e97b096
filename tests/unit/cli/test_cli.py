"""The command line (`snnconv` / `python -m snnconv`): your own model converted, simulated and exported outside
Snakemake with the pipeline's code, the README's commands as written, and the errors a user meets."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
from helpers.own_model import own_model  # noqa: F401 - a fixture
from torch import nn

from snnconv.cli import main
from snnconv.convert import convert, parse_norm
from snnconv.convert.files import norm_set
from snnconv.convert.user import as_sequential, load_model
from snnconv.data.user import load_user_images
from snnconv.defaults import convert_args
from snnconv.network import load_network


def test_convert_and_simulate_your_own_model(own_model, capsys):
    net_path = own_model / "net.pt"
    assert main(["convert", "--model", str(own_model / "my.pt"), "--norm", "p99.9", "--data",
                 str(own_model / "images.npz"), "--out", str(net_path)]) == 0  # fmt: skip
    net = load_network(net_path)
    # the pipeline's conversion on the same normalization set (the schema's norm_set_size 1000, seed 0)
    model, _ = load_model(own_model / "my.pt")
    x, _ = norm_set(load_user_images(own_model / "images.npz", "train").x, 1000, 0)
    ref = convert(model, x, parse_norm("p99.9"), **convert_args())
    for a, b in zip(net.layers, ref.layers):
        assert torch.equal(a.weight, b.weight) and torch.equal(a.threshold, b.threshold)
    assert main(["simulate", "--net", str(net_path), "--data", str(own_model / "images.npz"), "--T", "100",
                 "--subset", "300", "--out", str(own_model / "curve.csv")]) == 0  # fmt: skip
    out = capsys.readouterr().out
    final = float(re.search(r"T =\s+100: accuracy ([0-9.]+)", out).group(1))
    assert final > 0.9, out
    assert (own_model / "curve.csv").read_text().count("\n") == 101


def test_first_unsupported_layer_is_named_with_its_position(own_model, tmp_path, capsys):
    torch.save(nn.Sequential(nn.Flatten(), nn.Linear(64, 8), nn.Tanh(), nn.Linear(8, 10)), tmp_path / "bad.pt")
    code = main(["convert", "--model", str(tmp_path / "bad.pt"), "--norm", "max", "--data",
                 str(own_model / "images.npz"), "--out", str(tmp_path / "x.pt")])  # fmt: skip
    assert code == 2
    assert "bad.pt: Tanh at index 2 is not supported" in capsys.readouterr().err


class Chain(nn.Module):
    """A module of supported layers whose forward is a chain."""

    def __init__(self) -> None:
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(64, 16), nn.Linear(16, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(torch.relu(self.fc1(torch.flatten(x, 1))))


class Residual(Chain):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.fc1(torch.flatten(x, 1)))
        return self.fc2(h + h)


def test_a_module_of_supported_layers_converts_and_others_are_named(own_model, tmp_path, capsys):
    torch.manual_seed(0)
    chain = Chain().eval()
    seq = as_sequential(chain)
    x = torch.rand(5, 1, 8, 8)
    assert [type(m).__name__ for m in seq] == ["Flatten", "Linear", "ReLU", "Linear"]
    assert torch.equal(seq(x), chain(x))
    with pytest.raises(
        ValueError, match=r"Residual: step 3 of its forward \(call_function <built-in function add>\) is not a layer"
    ):
        as_sequential(Residual())
    torch.save(chain, tmp_path / "custom.pt")  # pickles the class test_cli.Chain: refused without --trust-code
    assert main(["convert", "--model", str(tmp_path / "custom.pt"), "--norm", "max", "--data",
                 str(own_model / "images.npz"), "--out", str(tmp_path / "x.pt")]) == 2  # fmt: skip
    assert "names test_cli.Chain, which is not a torch.nn layer" in capsys.readouterr().err
    assert main(["convert", "--model", str(tmp_path / "custom.pt"), "--norm", "max", "--data",
                 str(own_model / "images.npz"), "--out", str(tmp_path / "x.pt"), "--trust-code"]) == 0  # fmt: skip


def test_image_folder_and_bad_arrays(tmp_path):
    from PIL import Image

    for cls, value in (("b_two", 200), ("a_one", 50)):
        (tmp_path / "imgs" / cls).mkdir(parents=True)
        for i in range(3):
            Image.fromarray(np.full((8, 8), value + i, dtype=np.uint8)).save(tmp_path / "imgs" / cls / f"{i}.png")
    images = load_user_images(tmp_path / "imgs")
    assert images.x.shape == (6, 1, 8, 8) and images.classes == ["a_one", "b_two"]
    assert list(images.y) == [0, 0, 0, 1, 1, 1] and int(images.x[0, 0, 0, 0]) == 50
    np.savez(tmp_path / "bad.npz", x=np.full((2, 1, 4, 4), 3.0, dtype=np.float32))
    with pytest.raises(ValueError, match=r"bad.npz\['x'\]: float images must lie in \[0, 1\], got \[3, 3\]"):
        load_user_images(tmp_path / "bad.npz")
    np.savez(tmp_path / "other.npz", images=np.zeros((2, 4, 4), dtype=np.uint8))
    with pytest.raises(ValueError, match=r"other.npz: needs an array 'x' .* it holds \['images'\]"):
        load_user_images(tmp_path / "other.npz")


def test_simulate_needs_labels_and_matching_shapes(own_model, tmp_path, capsys):
    np.savez(tmp_path / "nolabels.npz", x=np.zeros((4, 1, 8, 8), dtype=np.uint8))
    np.savez(tmp_path / "wrong.npz", x=np.zeros((4, 1, 6, 6), dtype=np.uint8), y=np.zeros(4, dtype=np.int64))
    main(["convert", "--model", str(own_model / "my.pt"), "--norm", "max", "--data", str(own_model / "images.npz"),
          "--out", str(tmp_path / "net.pt")])  # fmt: skip
    assert main(["simulate", "--net", str(tmp_path / "net.pt"), "--data", str(tmp_path / "nolabels.npz")]) == 2
    assert "needs labels" in capsys.readouterr().err
    assert main(["simulate", "--net", str(tmp_path / "net.pt"), "--data", str(tmp_path / "wrong.npz")]) == 2
    assert "images are (1, 6, 6)" in capsys.readouterr().err
    assert main(["simulate", "--net", str(tmp_path / "net.pt"), "--data", str(own_model / "images.npz"),
                 "--encoding", "rate"]) == 2  # fmt: skip
    assert "simulation.encoding" in capsys.readouterr().err


def test_cli_converts_a_calibrated_norm(own_model):
    """`snnconv convert --norm max-calib`: the schema's calibration settings, the record says what was done."""
    import json

    from snnconv.cli import main
    from snnconv.network import load_network

    out = own_model / "calib.pt"
    assert main(["convert", "--model", str(own_model / "my.pt"), "--norm", "max-calib", "--data",
                 str(own_model / "images.npz"), "--out", str(out)]) == 0  # fmt: skip
    record = json.loads(out.with_suffix(".json").read_text())
    assert record["norm"] == "max-calib" and record["calibration"]["T"] == 16
    assert record["calibration"]["images"] == min(1024, record["norm_set_size"])
    plain = own_model / "plain.pt"
    assert main(["convert", "--model", str(own_model / "my.pt"), "--norm", "max", "--data",
                 str(own_model / "images.npz"), "--out", str(plain)]) == 0  # fmt: skip
    a, b = load_network(plain), load_network(out)
    assert torch.equal(a.layers[0].weight, b.layers[0].weight)
    assert not torch.equal(a.layers[0].bias, b.layers[0].bias)
