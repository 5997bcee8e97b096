"""Which simulated norms play the L4 adjustment and its controls, from the recorded parameters.

``conversion["roles"]`` (settings.report_norms) maps the roles ``l4`` and ``uniform-l4`` to canonical
names. Without roles, or when a role's name was not simulated, a norm with the same recorded
parameters stands in (the sweep may have produced it under its canonical name).
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from .load import norm_params

PLAIN_FAMILIES = ("none", "max", "percentile", "model")  # normalizations without adjustment or v_init
ADJUSTED = ("lp", "uniform")  # methods of an adjustment (an L4 on top of calibration is not a calibration control)


def _same_setting(row: pd.Series, ref: pd.Series) -> bool:
    """Same coefficient k, mode, base normalization and initial membrane (an adjustment may carry -v0half)."""
    return bool(
        math.isclose(float(row["k"]), float(ref["k"]))
        and row["mode"] == ref["mode"]
        and row["base"] == ref["base"]
        and math.isclose(float(row.get("v_init", 0.0) or 0.0), float(ref.get("v_init", 0.0) or 0.0))
    )


def control_names(df: pd.DataFrame, conversion_cfg: dict[str, Any]) -> dict[str, str | None]:
    """The simulated norms acting as l4, its uniform control and its v0 = θ/2 control (None if absent)."""
    info = norm_params(df, conversion_cfg).set_index("norm", drop=False)
    roles = conversion_cfg.get("roles") or {}
    out: dict[str, str | None] = {"l4": None, "uniform": None, "v0half": None}
    l4 = next((n for n in (roles.get("l4"), "l4") if n in info.index), None)
    if l4 is None:
        fam = info[info["family"] == "l4"]
        want = conversion_cfg.get("l4") or {}
        if want:
            fam = fam[
                [
                    math.isclose(float(r.k), float(want.get("k", r.k)))
                    and r.mode == want.get("mode", r.mode)
                    and r.base == want.get("base", r.base)
                    for r in fam.itertuples()
                ]
            ]
        l4 = fam["norm"].iloc[0] if len(fam) else None
    out["l4"] = l4
    if l4 is None:
        return out
    ref = info.loc[l4]
    uniform = next((n for n in (roles.get("uniform-l4"), "uniform-l4") if n in info.index), None)
    if uniform is None:
        uni = info[(info["family"] == "uniform")]
        uniform = next((r.norm for _, r in uni.iterrows() if _same_setting(r, ref)), None)
    out["uniform"] = uniform
    v0 = info[(info["family"] == "v0half")]
    same_base = v0[v0["base"] == ref["base"]]
    out["v0half"] = (
        (same_base if len(same_base) else v0[v0["base"] == "max"])["norm"].iloc[0]
        if len(same_base) or (v0["base"] == "max").any()
        else None
    )
    return out


def plain_norms(df: pd.DataFrame, conversion_cfg: dict[str, Any]) -> list[str]:
    """The main norms (``conversion["norms"]``) that are plain normalizations (:data:`PLAIN_FAMILIES`)."""
    info = norm_params(df, conversion_cfg)
    plain = set(info.loc[info["family"].isin(PLAIN_FAMILIES), "norm"])
    return [n for n in conversion_cfg["norms"] if n in plain]


def calib_norms(df: pd.DataFrame, conversion_cfg: dict[str, Any]) -> list[str]:
    """The main norms that are light calibrations of a ReLU net without an adjustment (``max-calib``,
    ``p99.9-calib``, ``max-v0half-calib``): the calibration controls of the L4 verdict."""
    info = norm_params(df, conversion_cfg)
    keep = (info["family"] == "calib") & ~info["method"].isin(ADJUSTED) & (info["base"] != "qcfs")
    return [n for n in conversion_cfg["norms"] if n in set(info.loc[keep, "norm"])]


def qcfs_norms(df: pd.DataFrame, conversion_cfg: dict[str, Any]) -> list[str]:
    """The main norms that convert the QCFS-trained twin without an adjustment (``qcfs``, ``qcfs-calib``)."""
    info = norm_params(df, conversion_cfg)
    keep = (info["base"] == "qcfs") & ~info["method"].isin(ADJUSTED)
    return [n for n in conversion_cfg["norms"] if n in set(info.loc[keep, "norm"])]
