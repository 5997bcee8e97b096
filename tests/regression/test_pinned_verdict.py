"""The paper's verdict rule on data where mean and paired interval disagree (a rule
looking only at the mean would pass on data where the two agree).

Rule (snnconv/analysis/verdicts.py, worded by snnconv/paper/prose.py): "improved" / "outperformed" only if the 95 % t-interval of the
*paired* per-replicate differences (same training seed and spike seed) lies above zero. Each case
below is built so that a rule looking only at the mean, or at unpaired intervals, gives the other
answer; every assertion names exactly one verdict.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from helpers.figure_data import config

from snnconv.analysis.paired import paired_difference, paired_test
from snnconv.paper.l4_table import l4_comparison_table
from snnconv.paper.macro_file import paper_macros
from snnconv.paper.prose import verdict_word
from snnconv.workflow import settings

L4 = "lp4_k0.5_scale_max"  # canonical names: what the l4 / uniform-l4 roles resolve to
UNIFORM = "uniform_k0.5_scale_max"
CFG = settings.paper(config())  # what rule paper_macros is given: l4 role -> lp4_k0.5_scale_max; lowest T = 5
PARAMS = {
    "max": ("max", None, None),
    L4: ("max", 0.5, "scale"),
    UNIFORM: ("max", 0.5, "scale"),
    "max-v0half": ("max", None, None),
}  # base, k, mode as conversion.json records them
T_CRIT_3 = 3.182  # t_{0.975, 3}: four replicates


def frame(
    base: list[float], l4: list[float], uniform: list[float] | None = None, v0: list[float] | None = None
) -> pd.DataFrame:
    """Accuracies at t = 5 per replicate (input seed 0..n−1) for the base, l4 and the two controls."""
    rows = []
    for norm, accs in (("max", base), (L4, l4), (UNIFORM, uniform or base), ("max-v0half", v0 or base)):
        for i, a in enumerate(accs):
            for t in (5, 20):
                base_name, k, mode = PARAMS[norm]
                rows.append(
                    {
                        "dataset": "digits",
                        "arch": "mlp",
                        "seed": 0,
                        "input_seed": i,
                        "norm": norm,
                        "t": t,
                        "accuracy": a,
                        "ann_accuracy": 0.9,
                        "base": base_name,
                        "k": k,
                        "mode": mode,
                    }
                )
    return pd.DataFrame(rows)


def paired_ci(diffs: list[float]) -> tuple[float, float]:
    """Mean and lower 95 % bound of the paired differences, computed here (n = 4)."""
    d = np.asarray(diffs)
    return float(d.mean()), float(d.mean() - T_CRIT_3 * d.std(ddof=1) / np.sqrt(len(d)))


def defs(text: str) -> dict[str, str]:
    """\\newcommand definitions of a macro file."""
    return dict(re.findall(r"\\newcommand\{\\([A-Za-z]+)\}\{(.*)\}", text))


# Positive mean, but one replicate much worse: the paired CI straddles zero → "did not improve".
NOISY_GAIN = dict(base=[0.50, 0.50, 0.50, 0.50], l4=[0.60, 0.58, 0.59, 0.30])
# Small but consistent paired gain on replicates that differ a lot: the unpaired CIs of the two norms
# overlap widely, the paired CI lies above zero → "improved".
CONSISTENT_GAIN = dict(base=[0.30, 0.50, 0.70, 0.90], l4=[0.31, 0.515, 0.71, 0.912])


def test_constructed_cases_disagree_as_intended():
    """Guard: the data really separate the rules (mean vs. paired CI vs. unpaired CI)."""
    m, lo = paired_ci(np.subtract(NOISY_GAIN["l4"], NOISY_GAIN["base"]).tolist())
    assert m > 0 and lo < 0
    m, lo = paired_ci(np.subtract(CONSISTENT_GAIN["l4"], CONSISTENT_GAIN["base"]).tolist())
    assert m > 0 and lo > 0
    l4 = np.asarray(CONSISTENT_GAIN["l4"])
    base = np.asarray(CONSISTENT_GAIN["base"])
    unpaired_half = T_CRIT_3 * np.sqrt(l4.var(ddof=1) / 4 + base.var(ddof=1) / 4)
    assert l4.mean() - base.mean() - unpaired_half < 0  # an unpaired interval would straddle zero


def test_positive_mean_with_interval_across_zero_is_not_an_improvement():
    text, _ = paper_macros(frame(**NOISY_GAIN), pd.DataFrame(columns=["predictor"]), CFG)
    d = defs(text)
    assert d["LFourVerdict"] == "did not improve"
    assert d["LFourGainLowT"].startswith("$+")  # mean (0.1 + 0.08 + 0.09 − 0.2)/4 = +1.75 pp
    lo = float(re.findall(r"[-+][\d.]+", d["LFourGainLowTCI"])[0])
    assert lo == pytest.approx(100 * paired_ci([0.1, 0.08, 0.09, -0.2])[1], abs=0.051)


def test_consistent_paired_gain_is_an_improvement():
    text, per_net = paper_macros(frame(**CONSISTENT_GAIN), pd.DataFrame(columns=["predictor"]), CFG)
    d = defs(text)
    assert d["LFourVerdict"] == "improved"
    m, lo = paired_ci([0.01, 0.015, 0.01, 0.012])
    assert float(per_net.set_index("comparison").loc["Base", "ci_low"]) == pytest.approx(lo, rel=1e-3)


@pytest.mark.parametrize("case, word", [("noisy", "did not outperform"), ("consistent", "outperformed")])
def test_control_verdicts_follow_the_paired_interval(case, word):
    data = NOISY_GAIN if case == "noisy" else CONSISTENT_GAIN
    # controls share the base's accuracies, so the same paired differences decide both control verdicts
    text, _ = paper_macros(frame(data["base"], data["l4"]), pd.DataFrame(columns=["predictor"]), CFG)
    d = defs(text)
    assert d["LFourVsUniformVerdict"] == word and d["LFourVsVZeroVerdict"] == word


def test_single_replicate_positive_gain_is_no_evidence():
    text, _ = paper_macros(frame([0.5], [0.7]), pd.DataFrame(columns=["predictor"]), CFG)
    assert defs(text)["LFourVerdict"] == "did not improve"


def test_word_rule_directly():
    df = frame(**NOISY_GAIN)
    pooled = paired_test(paired_difference(df[df["t"] == 5], [L4], "max")["diff"])
    assert pooled["mean"] > 0 and pooled["ci_low"] < 0
    assert verdict_word(pooled, "improved", "did not improve") == "did not improve"
    df = frame(**CONSISTENT_GAIN)
    pooled = paired_test(paired_difference(df[df["t"] == 5], [L4], "max")["diff"])
    assert verdict_word(pooled, "improved", "did not improve") == "improved"


def test_comparison_table_bolds_only_intervals_above_zero(tmp_path):
    _, noisy = paper_macros(frame(**NOISY_GAIN), pd.DataFrame(columns=["predictor"]), CFG)
    l4_comparison_table(noisy, str(tmp_path / "noisy"), base="max")
    assert r"\textbf" not in (tmp_path / "noisy.tex").read_text()
    _, good = paper_macros(frame(**CONSISTENT_GAIN), pd.DataFrame(columns=["predictor"]), CFG)
    l4_comparison_table(good, str(tmp_path / "good"), base="max")
    assert (tmp_path / "good.tex").read_text().count(r"\textbf") == 3  # base, uniform and v0 comparisons
