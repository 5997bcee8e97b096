"""The one place that turns ids into words: norm names, datasets and architectures as the reader sees them.

Every figure (legends and panel titles), table, paper macro and the end-of-run summary labels through here, so
one id has one label everywhere, and two ids never share one: :func:`norm_label` is injective over the norm-name
grammar of :mod:`snnconv.convert.names` (a base, an L_p or uniform adjustment with k, mode and base, ``-v0half``,
``-calib``, ``qcfs``), because every part of a name that tells two norms apart appears in the label, numbers in
their shortest exact form. Labels are mathtext (``$L_{4}$``), which matplotlib and LaTeX both typeset.

No matplotlib import, no torch import (the summary runs in the Snakemake process): pandas only.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import pandas as pd

from ..convert.names import QCFS, format_number

# Human-readable labels (the JPEG stand-in is always labelled as such).
DATASET_LABELS: dict[str, str] = {
    "digits": "digits (scikit-learn)",
    "mnist": "MNIST",
    "fashion_mnist": "Fashion-MNIST",
    "cifar10": "CIFAR-10",
    "cifar10_jpeg": "CIFAR-10 (JPEG re-encode)",
}
ARCH_LABELS: dict[str, str] = {"mlp": "MLP", "cnn": "CNN", "vgg": "VGG", "vgg16": "VGG-16", "resnet": "ResNet"}

V0HALF_LABEL = r"$v_0=\theta/2$"
CALIB_LABEL = " + calib."
ADJUSTED = ("lp", "uniform")


def dataset_label(dataset: str) -> str:
    """The readable name of a dataset id (an unknown id is shown as it is)."""
    return DATASET_LABELS.get(dataset, dataset)


def arch_label(arch: str) -> str:
    """The readable name of an architecture id (an unknown id is shown as it is)."""
    return ARCH_LABELS.get(arch, arch)


def net_label(dataset: str, arch: str, sep: str = " / ") -> str:
    """One network (a dataset × architecture panel): ``Fashion-MNIST / CNN``."""
    return f"{dataset_label(dataset)}{sep}{arch_label(arch)}"


def number(x: Any) -> str:
    """A parameter in its shortest exact form (4.0 → "4", 0.25 → "0.25"): two values never print alike."""
    return format_number(x)


def p_label(p: Any) -> str:
    """'1', '4', '\\infty' for an exponent (mathtext, inside ``$…$``)."""
    return r"\infty" if math.isinf(float(p)) else number(p)


def base_label(base: str) -> str:
    """A base normalization alone: ``max``, ``model-based``, ``99.9th pct.``, ``QCFS``."""
    if base == QCFS:
        return "QCFS"
    if base == "model":
        return "model-based"
    if base[:1] == "p" and base[1:2].isdigit():
        return f"{number(float(base[1:]))}th pct."
    return base


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def label_of(row: Any) -> str:
    """The label of one norm from its recorded parameters (a row with family, method, base, p, k, mode, v_init).

    ``-calib`` shows as `` + calib.`` after the label of what was calibrated; ``-v0half`` as ``v0 = θ/2``
    (a QCFS base starts there by construction and says nothing more); an adjustment shows its exponent,
    k, a mode other than ``scale`` and a base other than ``max``.
    """
    base, method = str(row["base"]), str(row["method"])
    v0half = not _missing(row["v_init"]) and float(row["v_init"]) == 0.5 and base != QCFS
    calib = row["family"] == "calib"
    if method in ADJUSTED:
        parts = [f"k={number(row['k'])}"]
        if row["mode"] != "scale":
            parts.append(str(row["mode"]))
        if base != "max":
            parts.append(base)
        if v0half:
            parts.append(V0HALF_LABEL)
        head = "uniform" if method == "uniform" else rf"$L_{{{p_label(row['p'])}}}$"
        label = f"{head} ({', '.join(parts)})"
    elif v0half:
        label = f"{base}, {V0HALF_LABEL}"
    else:
        label = base_label(base)
    return label + CALIB_LABEL if calib else label


def norm_info(
    names: Iterable[str], conversion_cfg: dict[str, Any] | None = None, params: pd.DataFrame | None = None
) -> dict[str, pd.Series]:
    """Recorded parameters per norm name: rows of ``params`` (:func:`snnconv.analysis.load.norm_params` of the
    results), names missing there parsed by the same function; "ANN" is left out."""
    from ..analysis.load import norm_params

    names = [n for n in dict.fromkeys(names) if n != "ANN"]
    rows = {} if params is None else {r["norm"]: r for _, r in params.iterrows() if r["norm"] in names}
    missing = [n for n in names if n not in rows]
    if missing:
        parsed = norm_params(pd.DataFrame({"norm": missing}), conversion_cfg)
        rows.update({r["norm"]: r for _, r in parsed.iterrows()})
    return rows


def norm_label(name: str, conversion_cfg: dict[str, Any] | None = None, params: pd.DataFrame | None = None) -> str:
    """The label of a norm name (``ANN`` for the ANN), from ``params`` where recorded, else parsed."""
    return "ANN" if name == "ANN" else label_of(norm_info([name], conversion_cfg, params)[name])


def norm_labels(
    names: Iterable[str], conversion_cfg: dict[str, Any] | None = None, params: pd.DataFrame | None = None
) -> dict[str, str]:
    """:func:`norm_label` of several names at once (one parse)."""
    names = list(dict.fromkeys(names))
    info = norm_info(names, conversion_cfg, params)
    return {n: "ANN" if n == "ANN" else label_of(info[n]) for n in names}
