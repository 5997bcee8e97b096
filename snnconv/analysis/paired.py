"""Paired comparisons: accuracy(norm) − accuracy(reference) on the same replicate (docs/figures.md "Statistics").

Two norms simulated with the same training seed and the same input (spike) seed form a pair; the
difference removes the variability they share. :func:`paired_test` is the one-sample t-test of the
differences (:func:`scipy.stats.ttest_1samp`, identical to :func:`scipy.stats.ttest_rel` on the pairs)
and its t-interval.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
from scipy import stats

log = logging.getLogger(__name__)

PAIR_KEYS = ("dataset", "arch", "seed", "input_seed", "t")


def paired_difference(
    df: pd.DataFrame, norms: Iterable[str], reference: dict[str, str] | str, keys: Sequence[str] = PAIR_KEYS
) -> pd.DataFrame:
    """accuracy(norm) − accuracy(reference norm) per replicate and t (same spike seed: a paired comparison).

    ``reference`` is one norm name or a {norm: reference} map. Norms whose reference was not simulated
    are dropped (with a log message). Returns keys + norm + reference + accuracy + ref_accuracy + diff.
    """
    keys = list(keys)
    ref_of = reference if isinstance(reference, dict) else {n: reference for n in norms}
    have = set(df["norm"].unique())
    rows = []
    for norm in norms:
        ref = ref_of.get(norm)
        if norm not in have:
            continue
        if ref not in have:
            log.warning("norm %s: reference %s was not simulated; no difference computed", norm, ref)
            continue
        a = df[df["norm"] == norm][keys + ["accuracy"]]
        b = df[df["norm"] == ref][keys + ["accuracy"]].rename(columns={"accuracy": "ref_accuracy"})
        m = a.merge(b, on=keys, how="inner")
        m["norm"], m["reference"] = norm, ref
        m["diff"] = m["accuracy"] - m["ref_accuracy"]
        rows.append(m)
    if not rows:
        return pd.DataFrame(columns=keys + ["norm", "reference", "accuracy", "ref_accuracy", "diff"])
    return pd.concat(rows, ignore_index=True)


def paired_test(diff: Iterable[float], level: float = 0.95) -> pd.Series:
    """mean, ci_low, ci_high, p_value and n of paired differences (one-sample t-test against 0, scipy).

    Fewer than two differences: the interval and the p-value are NaN (one pair is no evidence either way).
    """
    x = np.asarray(list(diff), dtype=np.float64)
    x = x[np.isfinite(x)]
    out = {
        "mean": float(x.mean()) if len(x) else math.nan,
        "ci_low": math.nan,
        "ci_high": math.nan,
        "p_value": math.nan,
        "n": int(len(x)),
    }
    if len(x) >= 2:
        if np.ptp(x) == 0:  # no spread: the interval is the point itself
            out.update(ci_low=out["mean"], ci_high=out["mean"], p_value=0.0 if out["mean"] else 1.0)
        else:
            res = stats.ttest_1samp(x, 0.0)
            ci = res.confidence_interval(level)
            out.update(ci_low=float(ci.low), ci_high=float(ci.high), p_value=float(res.pvalue))
    return pd.Series(out)
