"""The training recipe: optimizers, schedules, augmentation, label smoothing, the validation split and the
per-dataset recipe table of the config."""

from __future__ import annotations

import copy
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from helpers import REPO
from helpers.workflow import tiny_config

from snnconv.convert.files import held_out_indices, load_conversion_inputs, norm_set
from snnconv.data import prepare_dataset, save_prepared
from snnconv.defaults import arch_args, dataset_args, training_args
from snnconv.models import load_checkpoint
from snnconv.train import (
    _optimizer,
    augment,
    evaluate,
    make_loss,
    make_scheduler,
    random_crop,
    random_flip,
    train_ann,
    training_memory_format,
    validation_split,
)
from snnconv.workflow import settings
from snnconv.workflow.config import ConfigError, validate_config

CFG = training_args(epochs=2, batch_size=64, lr=1e-2, optimizer="adam", device="cpu", threads=1)


def _lrs(schedule: str, steps: int = 100, **extra) -> list[float]:
    """The learning rate before each of ``steps`` scheduler steps."""
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1, momentum=0.9)
    sched = make_scheduler(opt, {"lr": 0.1, "schedule": schedule, **extra}, steps)
    out = []
    for _ in range(steps):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return out


def test_cosine_schedule_falls_from_lr_towards_zero():
    lrs = _lrs("cosine")
    assert lrs[0] == pytest.approx(0.1)
    assert all(a >= b for a, b in zip(lrs, lrs[1:]))
    assert lrs[-1] < 1e-3


def test_onecycle_rises_to_lr_at_the_warmup_fraction_then_falls():
    lrs = _lrs("onecycle", warmup_fraction=0.25)
    peak = int(np.argmax(lrs))
    assert 20 <= peak <= 26
    assert max(lrs) == pytest.approx(0.1)
    assert lrs[0] == pytest.approx(0.1 / 25)
    assert all(a <= b for a, b in zip(lrs[:peak], lrs[1 : peak + 1]))
    assert all(a >= b for a, b in zip(lrs[peak:], lrs[peak + 1 :]))
    assert lrs[-1] < 1e-4


def test_constant_schedule_keeps_lr():
    assert set(_lrs("constant", steps=10)) == {0.1}


def test_onecycle_leaves_sgd_momentum_as_configured():
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1, momentum=0.7)
    make_scheduler(opt, training_args(lr=0.1, schedule="onecycle"), 10)
    assert opt.param_groups[0]["momentum"] == 0.7


@pytest.mark.parametrize(
    ("cfg", "match"),
    [
        ({"schedule": "step"}, "training.schedule = 'step'"),
        ({"schedule": "onecycle", "warmup_fraction": 1.0}, "warmup_fraction"),
        ({"optimizer": "rmsprop"}, "training.optimizer = 'rmsprop'"),
        ({"optimizer": "sgd", "nesterov": True, "momentum": 0.0}, "nesterov needs training.momentum > 0"),
        ({"label_smoothing": 1.0}, "label_smoothing must lie in"),
        ({"augment": "mixup"}, "training.augment = 'mixup'"),
        ({"augment": "crop", "crop_padding": 0}, "crop_padding must be at least 1"),
    ],
)
def test_bad_recipe_values_are_refused_naming_the_key(cfg, match):
    model = torch.nn.Linear(2, 2)
    full = training_args(lr=0.1, **cfg)
    with pytest.raises(ValueError, match=match):
        opt = _optimizer(model, full)
        make_scheduler(opt, full, 10)
        make_loss(full)
        augment(torch.zeros(2, 1, 4, 4), full, torch.Generator().manual_seed(0))


def test_sgd_takes_momentum_weight_decay_and_nesterov():
    opt = _optimizer(
        torch.nn.Linear(2, 2), {"lr": 0.1, "optimizer": "sgd", "momentum": 0.8, "weight_decay": 5e-4, "nesterov": True}
    )
    group = opt.param_groups[0]
    assert isinstance(opt, torch.optim.SGD)
    assert (group["momentum"], group["weight_decay"], group["nesterov"]) == (0.8, 5e-4, True)


def test_label_smoothing_reaches_the_loss():
    loss = make_loss({"label_smoothing": 0.1})
    assert loss.label_smoothing == 0.1
    logits, y = torch.tensor([[4.0, 0.0, 0.0]]), torch.tensor([0])
    assert float(loss(logits, y)) == pytest.approx(
        float(torch.nn.functional.cross_entropy(logits, y, label_smoothing=0.1))
    )
    assert float(loss(logits, y)) > float(make_loss(training_args(label_smoothing=0.0))(logits, y))


def test_random_crop_keeps_the_shape_and_moves_content_within_the_padding():
    x = torch.arange(2 * 3 * 6 * 6, dtype=torch.float32).reshape(2, 3, 6, 6) + 1
    out = random_crop(x, 2, torch.Generator().manual_seed(0))
    assert out.shape == x.shape
    for i in range(len(x)):  # each crop is the image shifted by (dy, dx) in [-2, 2], zeros where it left the frame
        matches = [
            (dy, dx)
            for dy in range(-2, 3)
            for dx in range(-2, 3)
            if torch.equal(out[i], torch.roll(x[i], (dy, dx), (1, 2)) * _inside(6, dy, dx))
        ]
        assert len(matches) == 1


def _inside(n: int, dy: int, dx: int) -> torch.Tensor:
    """Mask of the pixels that a shift by (dy, dx) keeps from the original frame."""
    rows = torch.zeros(n)
    rows[max(0, dy) : n + min(0, dy)] = 1
    cols = torch.zeros(n)
    cols[max(0, dx) : n + min(0, dx)] = 1
    return rows[:, None] * cols[None, :]


def test_random_flip_mirrors_some_images_and_keeps_the_others():
    x = torch.rand(64, 1, 5, 5)
    out = random_flip(x, torch.Generator().manual_seed(0))
    flipped = [torch.equal(out[i], x[i].flip(2)) for i in range(len(x))]
    kept = [torch.equal(out[i], x[i]) for i in range(len(x))]
    assert all(f or k for f, k in zip(flipped, kept))
    assert 10 < sum(flipped) < 54


def test_augmentation_is_deterministic_under_its_seed():
    x = torch.rand(16, 3, 8, 8)
    cfg = {"augment": "crop_flip", "crop_padding": 2}
    a = augment(x, cfg, torch.Generator().manual_seed(5))
    b = augment(x, cfg, torch.Generator().manual_seed(5))
    c = augment(x, cfg, torch.Generator().manual_seed(6))
    assert torch.equal(a, b)
    assert not torch.equal(a, c)
    assert augment(x, {"augment": "none"}, torch.Generator()) is x


def test_validation_split_is_disjoint_seeded_and_complete():
    train, val = validation_split(100, 20, seed=3)
    assert len(val) == 20 and len(train) == 80
    assert not set(train) & set(val)
    assert sorted(set(train) | set(val)) == list(range(100))
    assert np.array_equal(val, validation_split(100, 20, seed=3)[1])
    assert not np.array_equal(val, validation_split(100, 20, seed=4)[1])
    assert len(validation_split(100, 0, seed=3)[1]) == 0


def test_a_validation_split_that_leaves_nothing_to_train_on_is_refused():
    with pytest.raises(ValueError, match="validation_images = 100 leaves no training images"):
        validation_split(100, 100, seed=0)


def test_norm_set_keeps_out_the_validation_images():
    x = np.zeros((50, 1, 2, 2), dtype=np.uint8)
    held = np.arange(0, 50, 2)
    _, idx = norm_set(x, 100, seed=0, exclude=held)
    assert sorted(idx) == list(range(1, 50, 2))
    _, plain = norm_set(x, 10, seed=0)  # without a split the draw is the one it always was
    assert np.array_equal(plain, np.random.default_rng(0).choice(50, size=10, replace=False))


@pytest.fixture(scope="module")
def digits_npz(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("data")
    ds, source = prepare_dataset("digits", dataset_args("digits"))
    save_prepared(ds, folder / "digits.npz", folder / "digits.json", source)
    return folder / "digits.npz"


def _train_script():
    spec = importlib.util.spec_from_file_location("train_script", str(REPO / "scripts" / "train.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_validation_split_is_recorded_and_kept_out_of_conversion(tmp_path, digits_npz):
    recipe = {**CFG, "label_smoothing": 0.1, "validation_images": 200, "validation_seed": 7}
    out = {k: tmp_path / f"{k}.{ext}" for k, ext in (("model", "pt"), ("metrics", "csv"), ("summary", "json"))}
    _train_script().main(
        str(digits_npz), *(str(out[k]) for k in ("model", "metrics", "summary")), "cnn", 3, recipe,
        arch_args("cnn", channels=[4, 8], kernel=3, hidden=16), progress=False,
    )  # fmt: skip
    summary = json.loads(out["summary"].read_text())
    assert summary["validation_images"] == 200
    model, meta = load_checkpoint(out["model"])
    held = held_out_indices(meta["extra"])
    data = np.load(digits_npz)
    n_train = len(data["y_train"])
    x_val, y_val = torch.from_numpy(data["x_train"][held]).float() / 255, torch.from_numpy(data["y_train"][held])
    assert summary["validation_accuracy"] == pytest.approx(evaluate(model, x_val, y_val)[0])
    assert np.array_equal(held, validation_split(n_train, 200, 7)[1])
    assert meta["extra"]["validation"]["seed"] == 7
    conv = {"norm_set_size": 100000, "norm_set_seed": 0, "per_channel": False, "maxpool_to_avgpool": False}
    *_, idx = load_conversion_inputs(out["model"], digits_npz, conv)
    assert len(idx) == n_train - 200 and not set(idx) & set(held)


def test_training_under_the_full_recipe_is_deterministic(digits_npz):
    from snnconv.data import load_prepared

    ds = load_prepared(digits_npz)
    recipe = {**CFG, "optimizer": "sgd", "lr": 0.05, "schedule": "onecycle", "augment": "crop_flip"}
    recipe |= {"crop_padding": 1, "label_smoothing": 0.1, "validation_images": 100, "epochs": 1}
    opts = arch_args("cnn", channels=[4], kernel=3, hidden=0)
    rows = []
    a = train_ann(ds, "cnn", opts, recipe, 2, progress=False, on_epoch=rows.append)
    b = train_ann(ds, "cnn", opts, recipe, 2, progress=False)
    assert all(torch.equal(v, b.model.state_dict()[k]) for k, v in a.model.state_dict().items())
    assert rows[0]["train_cpu_seconds"] > 0 and "validation_accuracy" in rows[0]


def test_channels_last_trains_the_same_net_and_saves_plain_nchw_weights(digits_npz):
    from snnconv.data import load_prepared

    ds = load_prepared(digits_npz)
    recipe = {**CFG, "optimizer": "sgd", "lr": 0.05, "schedule": "onecycle", "augment": "crop", "epochs": 1}
    opts = arch_args("cnn", channels=[4, 8], kernel=3, hidden=16, batchnorm=True)
    nchw = train_ann(ds, "cnn", opts, recipe, 2, progress=False)
    nhwc = train_ann(ds, "cnn", opts, {**recipe, "channels_last": True}, 2, progress=False)
    for key, value in nhwc.model.state_dict().items():
        assert value.is_contiguous(), f"{key} is saved in a channels-last layout"
        # the same arithmetic in another summation order: equal up to float rounding, not bit for bit
        torch.testing.assert_close(value, nchw.model.state_dict()[key], rtol=1e-3, atol=1e-3)
    assert abs(nhwc.test_accuracy - nchw.test_accuracy) <= 0.01


def test_channels_last_applies_to_conv_nets_only():
    from snnconv.models import build_model

    cnn = build_model("cnn", (1, 8, 8), 10, **arch_args("cnn", channels=[4], kernel=3, hidden=0))
    mlp = build_model("mlp", (1, 8, 8), 10, **arch_args("mlp", hidden=[16]))
    assert training_memory_format(cnn, {"channels_last": True}) == torch.channels_last
    assert training_memory_format(cnn, {"channels_last": False}) == torch.contiguous_format
    assert training_memory_format(mlp, {"channels_last": True}) == torch.contiguous_format


def _config(**training) -> dict:
    cfg = tiny_config()
    cfg["training"] = {**cfg.get("training", {}), **training}
    return validate_config(copy.deepcopy(cfg))


def test_recipe_by_dataset_replaces_the_keys_it_names_for_that_dataset():
    cfg = _config(recipe_by_dataset={"cifar10": {"optimizer": "sgd", "schedule": "onecycle", "epochs": 30}})
    cifar, digits = settings.training(cfg, "cifar10"), settings.training(cfg, "digits")
    assert (cifar["optimizer"], cifar["schedule"], cifar["epochs"]) == ("sgd", "onecycle", 30)
    assert "momentum" in cifar and "warmup_fraction" in cifar
    assert digits["optimizer"] == cfg["training"]["optimizer"] == "adam"
    assert "momentum" not in digits and "warmup_fraction" not in digits and "crop_padding" not in digits
    assert settings.epochs(cfg, "cifar10") == 30


@pytest.mark.parametrize(
    ("training", "match"),
    [
        ({"recipe_by_dataset": {"cifar10": {"schedule": "step"}}}, "recipe_by_dataset.cifar10.schedule"),
        ({"recipe_by_dataset": {"cifar10": {"threads": 4}}}, "recipe_by_dataset.cifar10"),
        ({"recipe_by_dataset": {"imagenet": {"lr": 0.1}}}, "recipe_by_dataset"),
        ({"label_smoothing": 1.0}, "training.label_smoothing"),
        ({"validation_images": -1}, "training.validation_images"),
        (
            {"epochs_by_dataset": {"cifar10": 3}, "recipe_by_dataset": {"cifar10": {"epochs": 4}}},
            "epochs_by_dataset also sets the epochs of cifar10",
        ),
    ],
)
def test_bad_recipe_config_is_refused(training, match):
    with pytest.raises(ConfigError, match=match):
        _config(**training)
