"""The planner: prints job count, device-hours and memory per job; consistent with the config and the cost table."""

from __future__ import annotations

import copy
import re

import pytest
import yaml
from helpers import REPO

from snnconv.cli import main as cli_main
from snnconv.defaults import arch_args
from snnconv.workflow.cluster import macs_per_image
from snnconv.workflow.config import load_config, validate_config
from snnconv.workflow.plan import plan, step_costs

PAPER_GPU = REPO / "config" / "paper-gpu.yaml"


def test_plan_prints_jobs_hours_memory_and_where_each_cost_comes_from(capsys):
    assert cli_main(["plan", "--configfile", str(PAPER_GPU)]) == 0
    text = capsys.readouterr().out
    config = load_config(PAPER_GPU)
    n_sim = 3 * len(config["simulation"]["input_seeds"]) * 9  # seeds x input seeds x the nine norms
    assert re.search(r"^train_ann\s+cifar10/vgg16\s+3\s+gpu", text, re.MULTILINE)
    assert re.search(rf"^simulate\s+cifar10/vgg16\s+{n_sim}\s+gpu", text, re.MULTILINE)
    assert re.search(r"^train_ann\s+cifar10/resnet\s+3\s+gpu", text, re.MULTILINE)
    assert re.search(rf"^simulate\s+cifar10/resnet\s+{n_sim}\s+gpu", text, re.MULTILINE)
    total = re.search(r"total on gpu: (\d+) jobs, ([\d.]+) gpu-hours", text)
    rows = re.findall(r"^\w+\s+\S+\s+\d+\s+gpu\s+[\d.]+\s+([\d.]+)\s+(\d+)$", text, re.MULTILINE)
    assert int(total.group(1)) == 2 * (3 + n_sim)
    assert float(total.group(2)) == pytest.approx(sum(float(h) for h, _ in rows), abs=0.02)
    assert all(int(mb) > 0 for _, mb in rows)
    assert "(assumption)" in text and "not measured here" in text


def test_training_hours_scale_with_epochs_and_images():
    config = load_config(PAPER_GPU)
    longer = copy.deepcopy(yaml.safe_load(PAPER_GPU.read_text()))
    longer["training"]["epochs"] *= 2
    a, b = plan(config)[0], plan(validate_config(longer))[0]
    assert b.hours_per_job == pytest.approx(2 * a.hours_per_job)
    gmac = macs_per_image("vgg16", arch_args("vgg16"), (3, 32, 32)) / 1e9
    per_image = step_costs()["gpu"]["train_s_per_gmac_image"]["value"]
    assert a.hours_per_job == pytest.approx(200 * 45000 * gmac * per_image / 3600)


def test_mac_count_of_a_small_cnn_by_hand():
    # conv 1->2 (k3) on 4x4: 16*1*9*2 = 288; pool to 2x2; fc 8 -> 3: 24
    assert macs_per_image("cnn", {"channels": [2], "kernel": 3, "hidden": 0}, (1, 4, 4), n_classes=3) == 312
    assert macs_per_image("mlp", {"hidden": [5]}, (1, 2, 2), n_classes=2) == 4 * 5 + 5 * 2


def test_resnet_macs_are_the_cluster_count_of_its_preset():
    """ResNet-20 on CIFAR-10: about 41 M multiply-accumulates, the one count snnconv.workflow.cluster keeps; resnet8 fewer."""
    from snnconv.workflow.cluster import resnet_cost

    r20 = macs_per_image("resnet", arch_args("resnet", preset="resnet20"), (3, 32, 32))
    assert r20 == resnet_cost((3, 32, 32), (3, 3, 3), [16, 32, 64])[0] and 40e6 < r20 < 42e6
    assert macs_per_image("resnet", arch_args("resnet", preset="resnet8"), (3, 32, 32)) < r20
    with pytest.raises(ValueError, match="arch_options.resnet.preset"):
        macs_per_image("resnet", arch_args("resnet", preset="resnet50"), (3, 32, 32))


def test_cpu_plan_of_paper_cpu_counts_the_qcfs_twins():
    """--device cpu plans every job on the CPU; a config with norms on base qcfs trains a QCFS twin per model."""
    assert cli_main(["plan", "--configfile", str(REPO / "config" / "paper-cpu.yaml"), "--device", "cpu"]) == 0
    config = load_config(REPO / "config" / "paper-cpu.yaml")
    lines = plan(config, device="cpu")
    assert {line.device for line in lines} == {"cpu"}
    twins = [line for line in lines if line.rule == "train_qcfs"]
    trains = [line for line in lines if line.rule == "train_ann"]
    assert [t.model for t in twins] == [t.model for t in trains] and len(trains) == 7  # 2 x (mlp, cnn) + 3 CIFAR
    no_qcfs = copy.deepcopy(yaml.safe_load((REPO / "config" / "paper-cpu.yaml").read_text()))
    no_qcfs["conversion"]["norms"] = ["max", "l4"]
    assert not [line for line in plan(validate_config(no_qcfs)) if line.rule == "train_qcfs"]
