"""config/paper-gpu.yaml: it validates with the full recipe and VGG-16, and (slow) a one-epoch smoke run of its
nets on 512 training images goes through training, conversion and simulation on CPU."""

from __future__ import annotations

import copy
import json
import os

import pytest
import yaml
from helpers import REPO
from helpers.workflow import run_snakemake, write_config

from snnconv.data.registry import locate
from snnconv.workflow import settings
from snnconv.workflow.config import load_config

pytestmark = pytest.mark.integration

PAPER_GPU = REPO / "config" / "paper-gpu.yaml"


def test_paper_gpu_config_trains_vgg16_and_resnet20_on_cifar10_with_the_full_recipe():
    config = load_config(PAPER_GPU)
    assert config["datasets"] == ["cifar10"] and len(config["seeds"]) == 3
    assert config["archs"] == ["vgg16", "resnet"]
    assert config["arch_options"]["vgg16"]["width"] == 1.0
    assert config["arch_options"]["resnet"]["preset"] == "resnet20"
    recipe = settings.training(config, "cifar10")
    assert (recipe["optimizer"], recipe["augment"], recipe["nesterov"]) == ("sgd", "crop_flip", True)
    assert recipe["validation_images"] > 0


def _smoke_dataset() -> tuple[str, str]:
    """(dataset, data_dir) for the smoke run: the official archive if present, else the JPEG re-encode."""
    root = os.environ.get("SNNCONV_SHARED_DATA") or os.environ.get("SNNCONV_DATA_DIR")
    if not root:
        pytest.skip("no data directory (set SNNCONV_SHARED_DATA) for the paper-gpu smoke run")
    for name in ("cifar10", "cifar10_jpeg"):
        try:
            locate(name, root)
        except FileNotFoundError:
            continue
        return name, root
    pytest.skip(f"no CIFAR-10 under {root}")


@pytest.mark.slow
def test_paper_gpu_nets_smoke_run_one_epoch_on_512_images_on_cpu(tmp_path):
    dataset, data_dir = _smoke_dataset()
    config = yaml.safe_load(PAPER_GPU.read_text())
    smoke = copy.deepcopy(config)
    smoke.update(datasets=[dataset], data_dir=data_dir, download=False, seeds=[0])
    smoke["dataset_options"] = {dataset: {"subset_train": 512, "subset_test": 128}}
    smoke["training"].update(epochs=1, validation_images=64, device="cpu", threads=1)
    smoke["conversion"].update(norm_set_size=128, norms=["max", "l4"])
    smoke["simulation"].update(
        T=8, input_seeds=[0], test_subset=64, batch_size=64, time_chunk=8, device="cpu", threads=1
    )
    smoke["stats"].update(T=8, samples=4, neurons_per_layer=4)
    smoke["report"].update(T_points=[4, 8])
    run_snakemake(tmp_path, write_config(tmp_path / "smoke.yaml", smoke), "-q", timeout=3000)
    models = tmp_path / "results" / "models" / dataset
    vgg = json.loads((models / "vgg16" / "seed0" / "summary.json").read_text())
    resnet = json.loads((models / "resnet" / "seed0" / "summary.json").read_text())
    for summary in (vgg, resnet):
        assert summary["epochs"] == 1 and summary["validation_images"] == 64
    assert vgg["n_parameters"] > 14_000_000  # VGG-16's 13 convolutions at full width
    assert 250_000 < resnet["n_parameters"] < 300_000  # ResNet-20: about 0.27 M parameters
    for arch in ("vgg16", "resnet"):
        assert (tmp_path / "results" / "snn" / dataset / arch / "seed0" / "max").is_dir()
