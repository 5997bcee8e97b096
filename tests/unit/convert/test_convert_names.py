"""Norm-name grammar: parsing, formatting, sweep expansion and every error case (docs/method.md §C7)."""

from __future__ import annotations

import math

import pytest

from snnconv.convert import NormSpec, canonicalize, format_number, norm_names, parse_norm, resolve_norms
from snnconv.defaults import conversion_args

CFG = {"l4": {"k": -0.5, "mode": "scale", "base": "p99.9"}}


@pytest.mark.parametrize(
    "x, text",
    [
        (4.0, "4"),
        (4, "4"),
        (0.5, "0.5"),
        (-0.25, "-0.25"),
        (math.inf, "inf"),
        ("inf", "inf"),
        (99.9, "99.9"),
        (0.0, "0"),
        (-1.0, "-1"),
        (1e-5, "1e-05"),
    ],
)
def test_format_number(x, text):
    assert format_number(x) == text


@pytest.mark.parametrize(
    "name, fields",
    [
        ("none", dict(base="none", method="none")),
        ("max", dict(base="max", method="max", v_init=0.0)),
        ("model", dict(base="model", method="model")),
        ("p99.9", dict(base="percentile", percentile=99.9, method="percentile")),
        ("p100", dict(base="percentile", percentile=100.0)),
        ("max-v0half", dict(base="max", v_init=0.5, adjust=None)),
        ("p99.99-v0half", dict(base="percentile", percentile=99.99, v_init=0.5)),
        ("lp4_k-0.5_scale_max", dict(adjust="lp", p=4.0, k=-0.5, mode="scale", base="max", method="lp")),
        (
            "lpinf_k0.25_bias_p99.9",
            dict(adjust="lp", p=math.inf, k=0.25, mode="bias", base="percentile", percentile=99.9),
        ),
        ("lp0.5_k1e-2_scale_max", dict(p=0.5, k=0.01)),
        ("uniform_k1_bias_max", dict(adjust="uniform", k=1.0, mode="bias", base="max", p=None, method="uniform")),
    ],
)
def test_parse(name, fields):
    spec = parse_norm(name, {})
    assert isinstance(spec, NormSpec) and spec.name == name
    for key, value in fields.items():
        assert getattr(spec, key) == value, key


def test_roles_resolve_to_canonical_names():
    spec = parse_norm("l4", CFG)
    assert (spec.name, spec.adjust, spec.p, spec.k, spec.mode, spec.base, spec.percentile) == (
        "lp4_k-0.5_scale_p99.9",
        "lp",
        4.0,
        -0.5,
        "scale",
        "percentile",
        99.9,
    )
    assert spec.params() == {
        "base": "p99.9",
        "v_init": 0.0,
        "percentile": 99.9,
        "k": -0.5,
        "mode": "scale",
        "label": "reconstructed",
        "p": 4.0,
    }
    uni = parse_norm("uniform-l4", CFG)
    assert (uni.name, uni.adjust, uni.k, uni.base_name) == ("uniform_k-0.5_scale_p99.9", "uniform", -0.5, "p99.9")
    assert parse_norm("lpinf_k1_scale_max", {}).params()["p"] == "inf"
    with pytest.raises(ValueError, match="role"):
        parse_norm("l4")  # a role needs the config that defines it


@pytest.mark.parametrize(
    "name, canon",
    [
        ("p99.90", "p99.9"),
        ("p099.9", "p99.9"),
        ("p1e2", "p100"),
        ("lp4.0_k-0.250_scale_max", "lp4_k-0.25_scale_max"),
        ("lp2_k1e-2_bias_p99.90", "lp2_k0.01_bias_p99.9"),
        ("uniform_k+1_scale_max", "uniform_k1_scale_max"),
        ("p99.90-v0half", "p99.9-v0half"),
        ("max", "max"),
        ("none", "none"),
        ("model-v0half", "model-v0half"),
        ("lpINF_k1_scale_max", "lpinf_k1_scale_max"),
    ],
)
def test_canonical_names_are_unique_per_spec(name, canon):
    assert canonicalize(name) == canon
    assert canonicalize(canon) == canon  # idempotent
    a, b = parse_norm(name), parse_norm(canon)
    assert (a.base, a.percentile, a.v_init, a.adjust, a.p, a.k, a.mode) == (
        b.base,
        b.percentile,
        b.v_init,
        b.adjust,
        b.p,
        b.k,
        b.mode,
    )


def test_norm_names_expands_sweep_dedups_and_keeps_order():
    cfg = {
        "norms": ["none", "max", "l4", "p99.90"],
        "l4": {"k": -0.25, "mode": "scale", "base": "max"},
        "sweep": {"p": [1, 4.0, "inf"], "k": [-0.25, 0.5], "mode": ["scale"], "base": ["max"], "uniform": True},
    }
    resolved = resolve_norms(cfg)
    names = resolved.names
    assert names[:4] == ["none", "max", "lp4_k-0.25_scale_max", "p99.9"]  # l4 is the sweep's lp4_k-0.25_scale_max
    assert names[4:9] == [
        "lp1_k-0.25_scale_max",
        "lp1_k0.5_scale_max",
        "lp4_k0.5_scale_max",
        "lpinf_k-0.25_scale_max",
        "lpinf_k0.5_scale_max",
    ]
    assert names[9:] == ["uniform_k-0.25_scale_max", "uniform_k0.5_scale_max"]
    assert len(set(names)) == len(names) == 11  # 4 + 6 + 2 entries, one converted once under two names
    assert resolved.main == ["none", "max", "lp4_k-0.25_scale_max", "p99.9"]
    assert resolved.roles == {"l4": "lp4_k-0.25_scale_max", "uniform-l4": "uniform_k-0.25_scale_max"}
    assert resolved.canonical("l4") == "lp4_k-0.25_scale_max" and resolved.canonical("max") == "max"
    with pytest.raises(KeyError):
        resolved.canonical("model")
    assert all("/" not in n and " " not in n for n in names)
    assert norm_names(conversion_args(norms=["max"], sweep={"p": [4], "k": [1], "uniform": False})) == [
        "max",
        "lp4_k1_scale_max",
    ]
    assert norm_names(conversion_args(norms=["max"])) == ["max"]


@pytest.mark.parametrize(
    "name, part",
    [
        ("p0", "percentile"),
        ("p101", "percentile"),
        ("p-1", "percentile"),
        ("pnan", "percentile"),
        ("pabc", "percentile"),
        ("lp0_k1_scale_max", "p"),
        ("lp-2_k1_scale_max", "p"),
        ("lpnan_k1_scale_max", "p"),
        ("lp4_knan_scale_max", "k"),
        ("lp4_kinf_scale_max", "k"),
        ("uniform_k-inf_scale_max", "k"),
        ("lp4_kx_scale_max", "k"),
        ("lp4_1_scale_max", "k<number>"),
        ("lp4_k1_shift_max", "mode"),
        ("lp4_k1_scale_p0", "percentile"),
        ("lp4_k1_scale_max-v0half-v0half", "once"),
        ("lp4_k1_scale_foo", "unknown method"),
        ("lp4_k1_scale", "parts"),
        ("softmax", "unknown method"),
        ("foo_bar", "unknown method"),
        ("model-v0half-v0half", "once"),
        ("max v0half", "letters"),
        ("a/b", "letters"),
        ("", "letters"),
    ],
)
def test_bad_names_raise_naming_name_and_part(name, part):
    with pytest.raises(ValueError) as err:
        parse_norm(name, CFG)
    assert part in str(err.value)
    if name:
        assert repr(name) in str(err.value)


def test_alias_without_config_and_bad_sweep():
    with pytest.raises(ValueError, match="conversion.l4"):
        parse_norm("l4", {})
    with pytest.raises(ValueError, match="mode"):
        parse_norm("uniform-l4", {"l4": {"k": 1, "mode": "sideways", "base": "max"}})
    with pytest.raises(ValueError, match="k"):
        norm_names(conversion_args(norms=["max"], sweep={"p": [4], "k": [math.nan]}))
