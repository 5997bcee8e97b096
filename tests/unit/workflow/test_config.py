"""Config schema and cross-key checks: defaults are filled, bad values fail naming key and value."""

from __future__ import annotations

import copy
import math

import pytest
import yaml

from snnconv.workflow.config import ConfigError, load_config, validate_config


@pytest.fixture()
def base(repo):
    with open(repo / "config" / "config.yaml") as handle:
        return yaml.safe_load(handle)


def test_default_and_paper_configs_validate(repo):
    for name in ("config.yaml", "paper.yaml"):
        cfg = load_config(repo / "config" / name)
        assert cfg["simulation"]["T"] >= max(cfg["report"]["T_points"])


def test_defaults_are_filled():
    cfg = validate_config({"datasets": ["digits"], "archs": ["mlp"], "seeds": [0]})
    assert cfg["training"]["epochs"] == 20
    assert cfg["simulation"]["reset"] == "subtract"
    assert cfg["conversion"]["l4"]["mode"] == "scale"


@pytest.mark.parametrize(
    ("mutate", "needle"),
    [
        (lambda c: c.update(bogus=1), "bogus"),
        (lambda c: c["training"].update(epochs=0), "training.epochs"),
        (lambda c: c["training"].update(epochs="ten"), "training.epochs"),
        (lambda c: c.update(datasets=["imagenet"]), "imagenet"),
        (lambda c: c.update(archs=["resnet50"]), "resnet50"),
        (lambda c: c.update(seeds=[]), "seeds"),
        (lambda c: c.update(seeds=[0, 0]), "seeds"),
        (lambda c: c["simulation"].update(T=0), "simulation.T"),
        (lambda c: c["conversion"].update(norms=["max", "max"]), "duplicate norm name 'max'"),
        (lambda c: c["conversion"].update(norms=["frobnicate"]), "frobnicate"),
        (lambda c: c["conversion"].update(norms=["p0"]), "p0"),
        (lambda c: c["conversion"].update(norms=["p100.5"]), "p100.5"),
        (lambda c: c["conversion"]["sweep"].update(p=[0]), "conversion.sweep.p[0]"),
        (lambda c: c["conversion"]["sweep"].update(p=[-2]), "conversion.sweep.p[0]"),
        (lambda c: c["conversion"]["sweep"].update(k=[math.nan]), "conversion.sweep.k[0]"),
        (lambda c: c["conversion"].setdefault("l4", {}).update(k=math.inf), "conversion.l4.k"),
        (lambda c: c["stats"].update(norms=["p50"]), "stats.norms[0]"),
        (lambda c: c["report"].update(T_points=[10, 10_000]), "report.T_points[1]"),
    ],
)
def test_bad_values_name_key(base, mutate, needle):
    cfg = copy.deepcopy(base)
    for key in ("training", "simulation", "conversion", "stats", "report"):
        cfg.setdefault(key, {})
    mutate(cfg)
    with pytest.raises(ConfigError) as err:
        validate_config(cfg)
    assert needle in str(err.value)
