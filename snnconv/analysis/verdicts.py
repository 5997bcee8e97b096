"""The verdict rules: did the L4 adjustment help? (docs/figures.md "Verdicts")

At one T (the paper uses the lowest report T) the L4 adjustment is compared, pair by pair (same training
seed and spike seed, pooled over every network), with each candidate control:

* ``Base``    — its own base normalization (e.g. ``max``);
* ``Uniform`` — the uniform control (same mean adjustment, no per-neuron structure);
* ``VZero``   — the v0 = θ/2 control (the other cheap low-latency fix);
* ``Plain``   — the best plain normalization of ``conversion.norms`` at that T (highest pooled mean accuracy);
* ``Calib``   — the best light calibration (Li et al. 2021) of ``conversion.norms`` at that T (``max-calib``, …);
* ``QCFS``    — the best conversion of the QCFS-trained twin (Bu et al. 2022) at that T (``qcfs``, ``qcfs-calib``).

Rule (:func:`helped`): a comparison is a win only if the paired 95 % t-interval of L4 − control lies
entirely above zero; the mean alone decides nothing and a single pair is never a win. The overall verdict
(:func:`verdict`) is decided against the STRONGEST control: the one whose interval has the lowest lower
bound (the control L4 is least clearly ahead of), so "L4 helped" means it is ahead of every control.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from .controls import calib_norms, control_names, plain_norms, qcfs_norms
from .load import norm_params
from .paired import paired_difference, paired_test

COMPARISONS = ("Base", "Uniform", "VZero", "Plain", "Calib", "QCFS")
TEST_COLS = ["comparison", "control", "mean", "ci_low", "ci_high", "p_value", "n", "helped"]


def helped(test: Mapping[str, Any]) -> bool:
    """The verdict rule: True only if the paired interval's lower bound is above zero (n ≥ 2)."""
    low = test.get("ci_low")
    return bool(int(test.get("n", 0)) >= 2 and low is not None and not pd.isna(low) and float(low) > 0)


def strongest(tests: pd.DataFrame) -> pd.Series | None:
    """The row of the strongest control: lowest interval lower bound (no interval counts as −∞), then lowest mean."""
    if tests.empty:
        return None
    key = tests["ci_low"].astype(float).fillna(-math.inf)
    order = pd.DataFrame({"low": key, "mean": tests["mean"].astype(float)}).sort_values(["low", "mean"], kind="stable")
    return tests.loc[order.index[0]]


def verdict(tests: pd.DataFrame) -> tuple[str | None, bool]:
    """(strongest comparison, whether L4 helped against it); (None, False) without any comparison."""
    row = strongest(tests)
    return (None, False) if row is None else (str(row["comparison"]), helped(row))


def best_of(df: pd.DataFrame, names: list[str], T: int) -> str | None:
    """The norm of ``names`` with the highest mean accuracy at T (pooled), None if none was simulated."""
    sub = df[(df["t"] == T) & df["norm"].isin(names)]
    if sub.empty:
        return None
    return str(sub.groupby("norm")["accuracy"].mean().idxmax())


def best_plain(df: pd.DataFrame, conversion_cfg: dict[str, Any], T: int) -> str | None:
    """The plain normalization of ``conversion.norms`` with the highest mean accuracy at T (pooled)."""
    return best_of(df, plain_norms(df, conversion_cfg), T)


def candidate_controls(df: pd.DataFrame, conversion_cfg: dict[str, Any], T: int) -> dict[str, str]:
    """comparison → control norm, for the controls that were simulated (a control listed twice counts once)."""
    ctl = control_names(df, conversion_cfg)
    if ctl["l4"] is None:
        return {}
    info = norm_params(df, conversion_cfg).set_index("norm")
    base = str(info.loc[ctl["l4"], "base"])
    names = {
        "Base": base,
        "Uniform": ctl["uniform"],
        "VZero": ctl["v0half"],
        "Plain": best_plain(df, conversion_cfg, T),
        "Calib": best_of(df, calib_norms(df, conversion_cfg), T),
        "QCFS": best_of(df, qcfs_norms(df, conversion_cfg), T),
    }
    out: dict[str, str] = {}
    have = set(df["norm"])
    for key in COMPARISONS:
        if names[key] in have and names[key] not in out.values():
            out[key] = names[key]
    return out


def l4_tests(df: pd.DataFrame, conversion_cfg: dict[str, Any], T: int) -> pd.DataFrame:
    """One row per comparison at T: control, pooled paired mean, interval, p-value, n and :func:`helped`."""
    l4 = control_names(df, conversion_cfg)["l4"]
    sub = df[df["t"] == T]
    rows = []
    for key, control in candidate_controls(df, conversion_cfg, T).items():
        diff = paired_difference(sub, [l4], control)
        test = paired_test(diff["diff"]) if len(diff) else paired_test([])
        rows.append({"comparison": key, "control": control, **test.to_dict(), "helped": helped(test)})
    return pd.DataFrame(rows, columns=TEST_COLS)


def l4_on_calibration(df: pd.DataFrame, conversion_cfg: dict[str, Any], T: int) -> dict[str, Any] | None:
    """The L4 adjustment on top of light calibration against calibration alone, paired at T (both calibrated:
    ``<l4>-calib`` vs ``<its base>-calib``); None unless both were simulated."""
    l4 = control_names(df, conversion_cfg)["l4"]
    if l4 is None:
        return None
    info = norm_params(df, conversion_cfg).set_index("norm")
    base = str(info.loc[l4, "base"]) + ("-v0half" if float(info.loc[l4, "v_init"] or 0) else "")
    names = (f"{l4}-calib", f"{base}-calib")
    if not set(names) <= set(df["norm"]):
        return None
    sub = df[df["t"] == T]
    diff = paired_difference(sub, [names[0]], names[1])
    test = paired_test(diff["diff"]) if len(diff) else paired_test([])
    return {"norm": names[0], "control": names[1], **test.to_dict(), "helped": helped(test)}
