"""Norm-name grammar: every conversion choice is a short, path-safe name (docs/method.md §C7).

``none``, ``max``, ``model``, ``p<q>`` (the bases), ``lp<p>_k<k>_<mode>_<base>`` and
``uniform_k<k>_<mode>_<base>`` (an adjustment on any base), each optionally followed by ``-v0half``, then
optionally by ``-calib`` (light bias calibration after conversion). ``qcfs`` is the base of a QCFS-trained ANN
(θ = its trained clip λ, v0 = θ/2 built in, so it takes no ``-v0half``).
``l4`` / ``uniform-l4`` are *roles*, not names: :func:`resolve_norms` turns them into the canonical names
they stand for (from ``conversion.l4``) when the config is read, so every result path says what it holds, and
no conversion is run twice under two names. No torch import (DAG-time code).
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass, field, replace
from typing import Any

MODES = ("scale", "bias")
ROLE_ALIASES = ("l4", "uniform-l4")  # roles a config may name in conversion.norms / stats.norms
SIMPLE = ("none", "max", "model", "qcfs")
V0HALF = "-v0half"
CALIB = "-calib"
QCFS = "qcfs"  # base of a QCFS-trained network: θ = trained λ, v0 = θ/2
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?|[+-]?(inf|nan)", re.IGNORECASE)


@dataclass(frozen=True)
class NormSpec:
    """A parsed norm name: base normalization, initial membrane and optional Lp/uniform adjustment."""

    name: str
    base: str  # "none" | "max" | "percentile" | "model"
    percentile: float | None = None
    v_init: float = 0.0
    adjust: str | None = None  # None | "lp" | "uniform"
    p: float | None = None
    k: float | None = None
    mode: str | None = None
    calib: bool = False  # light bias calibration after conversion (docs/method.md, "Calibration")

    @property
    def method(self) -> str:
        """The adjustment if any, else the base method."""
        return self.adjust or self.base

    @property
    def qcfs(self) -> bool:
        """Whether the norm converts a QCFS-trained network (its model is the QCFS variant)."""
        return self.base == QCFS

    @property
    def base_name(self) -> str:
        """Name of the base normalization alone (e.g. ``p99.9``)."""
        return f"p{format_number(self.percentile)}" if self.base == "percentile" else self.base

    def params(self) -> dict[str, Any]:
        """JSON-ready parameters (p = inf is written as the string "inf")."""
        out: dict[str, Any] = {"base": self.base_name, "v_init": self.v_init}
        if self.percentile is not None:
            out["percentile"] = self.percentile
        if self.adjust:
            out.update(k=self.k, mode=self.mode, label="reconstructed")
            if self.adjust == "lp":
                out["p"] = "inf" if math.isinf(self.p) else self.p
        if self.calib:
            out["calib"] = True
        return out


def format_number(x: float | int | str) -> str:
    """Shortest name form of a number: 4.0→"4", 0.5→"0.5", -0.25→"-0.25", inf→"inf"."""
    x = float(x)
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if x.is_integer() and abs(x) < 1e15:
        return str(int(x))
    return repr(x)


def _number(text: str, name: str, part: str) -> float:
    """Parse one numeric part of a name, or raise naming it."""
    if not _NUMBER.fullmatch(text):
        raise ValueError(f"norm {name!r}: {part} {text!r} is not a number")
    return float(text)


def _base(text: str, name: str) -> tuple[str, float | None]:
    """Parse a base normalization: none/max/model or p<q>."""
    if text in SIMPLE:
        return text, None
    if text.startswith("p") and len(text) > 1:
        q = _number(text[1:], name, "percentile")
        if not (0 < q <= 100):
            raise ValueError(f"norm {name!r}: percentile {text[1:]!r} must lie in (0, 100]")
        return "percentile", q
    raise ValueError(
        f"norm {name!r}: unknown method {text!r} (none, max, model, qcfs, p<q>, lp..., uniform..., l4, uniform-l4)"
    )


def _adjusted(name: str, parts: list[str], adjust: str, p: float | None) -> NormSpec:
    """Parse the ``k<k>_<mode>_<base>`` tail shared by lp and uniform names."""
    if len(parts) != 3:
        raise ValueError(
            f"norm {name!r}: expected {adjust}..._k<k>_<mode>_<base>, got {len(parts)} parts after the method"
        )
    k_text, mode, base_text = parts
    if not k_text.startswith("k"):
        raise ValueError(f"norm {name!r}: part {k_text!r} must be k<number>")
    k = _number(k_text[1:], name, "k")
    if not math.isfinite(k):
        raise ValueError(f"norm {name!r}: k {k_text[1:]!r} must be finite")
    if mode not in MODES:
        raise ValueError(f"norm {name!r}: unknown mode {mode!r} (choose {' or '.join(MODES)})")
    base, q = _base(base_text, name)
    return NormSpec(name, base, q, 0.5 if base == QCFS else 0.0, adjust, p, k, mode)


def _alias(name: str, conversion_cfg: dict[str, Any]) -> str:
    """Expand ``l4``/``uniform-l4`` with ``conversion_cfg["l4"]``."""
    cfg = (conversion_cfg or {}).get("l4")
    if not cfg or not {"k", "mode", "base"} <= set(cfg):
        raise ValueError(f"norm {name!r} needs conversion.l4 with keys k, mode, base (got {cfg!r})")
    tail = f"k{format_number(cfg['k'])}_{cfg['mode']}_{cfg['base']}"
    return f"lp4_{tail}" if name == "l4" else f"uniform_{tail}"


def parse_norm(name: str, conversion_cfg: dict[str, Any] | None = None) -> NormSpec:
    """Parse a norm name into a :class:`NormSpec`; ``ValueError`` names the offending part.

    A role alias (``l4``, ``uniform-l4``) is expanded with ``conversion_cfg["l4"]``; the spec then carries the
    canonical name it stands for (see :func:`resolve_norms`).
    """
    if not isinstance(name, str) or not name or not re.fullmatch(r"[A-Za-z0-9_.+-]+", name):
        raise ValueError(f"norm {name!r}: names are non-empty and use only letters, digits and _ . + -")
    if name.endswith(CALIB):  # light calibration on top of any name (a role too: l4-calib)
        inner = name[: -len(CALIB)]
        if not inner or inner.endswith(CALIB):
            raise ValueError(f"norm {name!r}: -calib follows a base, an adjusted name or a role, once")
        try:
            return replace(parse_norm(inner, conversion_cfg), name=name, calib=True)
        except ValueError as err:
            raise ValueError(f"norm {name!r}: {err}") from None
    if name in ROLE_ALIASES:
        if conversion_cfg is None:
            raise ValueError(f"norm {name!r} is a role, not a name: resolve it with the config (resolve_norms)")
        return parse_norm(_alias(name, conversion_cfg), conversion_cfg)
    if name.endswith(V0HALF):  # v0 = θ/2 on top of any base or adjusted name
        inner = name[: -len(V0HALF)]
        if inner in ROLE_ALIASES or inner.endswith(V0HALF):
            raise ValueError(f"norm {name!r}: -v0half follows a base or an adjusted name, once")
        try:
            spec = parse_norm(inner)
        except ValueError as err:
            raise ValueError(f"norm {name!r}: {err}") from None
        if spec.base == QCFS:
            raise ValueError(f"norm {name!r}: qcfs already starts at v0 = θ/2; drop -v0half")
        if spec.calib:
            raise ValueError(f"norm {name!r}: write -v0half before -calib")
        return replace(spec, name=name, v_init=0.5)
    parts = name.split("_")
    if parts[0] == "uniform":
        return _adjusted(name, parts[1:], "uniform", None)
    if parts[0].startswith("lp"):
        p = _number(parts[0][2:], name, "p")
        if not p > 0 or math.isnan(p):
            raise ValueError(f"norm {name!r}: p {parts[0][2:]!r} must be positive (or inf)")
        return _adjusted(name, parts[1:], "lp", p)
    if len(parts) > 1:
        raise ValueError(f"norm {name!r}: unknown method {parts[0]!r}")
    base, q = _base(name, name)
    return NormSpec(name, base, q, 0.5 if base == QCFS else 0.0)


@functools.cache
def base_name(name: str) -> str:
    """The base normalization a (canonical) norm name is built on: ``max`` for ``lp4_k-0.25_scale_max-v0half``.

    Cached: the workflow asks once per spiking job (thousands of times for config/paper.yaml).
    """
    return parse_norm(name).base_name


def canonical_name(spec: NormSpec) -> str:
    """The one name of a parsed spec (numbers in their shortest form): ``p99.90`` → ``p99.9``, ``lp4.0_…`` → ``lp4_…``."""
    name = spec.base_name
    if spec.adjust is not None:
        tail = f"k{format_number(spec.k)}_{spec.mode}_{name}"
        name = f"lp{format_number(spec.p)}_{tail}" if spec.adjust == "lp" else f"uniform_{tail}"
    if spec.v_init == 0.5 and spec.base != QCFS:
        name = f"{name}{V0HALF}"
    return f"{name}{CALIB}" if spec.calib else name


def canonicalize(name: str, conversion_cfg: dict[str, Any] | None = None) -> str:
    """The canonical name of ``name`` (a role alias is resolved with ``conversion_cfg``)."""
    return canonical_name(parse_norm(name, conversion_cfg))


@dataclass(frozen=True)
class ResolvedNorms:
    """The norms of one config: every canonical name to convert, the main ones, the sweep's, and the roles."""

    names: list[str]  # every norm converted and simulated, canonical, each once
    main: list[str]  # conversion.norms, canonical, in config order
    sweep: list[str]  # the sweep's names, canonical
    roles: dict[str, str] = field(default_factory=dict)  # role alias -> canonical name (l4, uniform-l4)

    def canonical(self, name: str) -> str:
        """``name`` if canonical, else the name its role stands for; KeyError if it is not converted."""
        out = self.roles.get(name, name)
        if out not in self.names:
            raise KeyError(name)
        return out


def resolve_norms(conversion_cfg: dict[str, Any]) -> ResolvedNorms:
    """``conversion.norms`` and the sweep as canonical names, de-duplicated (order kept), with the role map.

    ``conversion_cfg`` is the validated config's ``conversion`` section: ``norms``, ``sweep`` and ``l4`` with the
    schema's defaults filled in."""
    main = [canonicalize(n, conversion_cfg) for n in conversion_cfg["norms"]]
    sweep = [canonicalize(n) for n in sweep_names(conversion_cfg["sweep"])]
    roles = {alias: canonicalize(alias, conversion_cfg) for alias in ROLE_ALIASES}
    roles.update(
        {f"{a}{CALIB}": f"{n}{CALIB}" for a, n in list(roles.items()) if f"{a}{CALIB}" in conversion_cfg["norms"]}
    )
    return ResolvedNorms(
        list(dict.fromkeys(main + sweep)), list(dict.fromkeys(main)), list(dict.fromkeys(sweep)), roles
    )


def sweep_names(sweep: dict[str, Any]) -> list[str]:
    """Names of the Lp sweep (p × k × mode × base) plus, if ``uniform``, its controls (k × mode × base); ``sweep``
    is the validated ``conversion.sweep`` (the schema fills every key)."""
    ks, modes, bases = sweep["k"], sweep["mode"], sweep["base"]
    names = [
        f"lp{format_number(p)}_k{format_number(k)}_{m}_{b}"
        for p in sweep["p"]
        for k in ks
        for m in modes
        for b in bases
    ]
    if sweep["uniform"]:
        names += [f"uniform_k{format_number(k)}_{m}_{b}" for k in ks for m in modes for b in bases]
    return names


def norm_names(conversion_cfg: dict[str, Any]) -> list[str]:
    """Every norm to convert: ``conversion.norms`` plus the sweep, canonical, de-duplicated, order kept."""
    return resolve_norms(conversion_cfg).names
