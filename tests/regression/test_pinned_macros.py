"""Every macro of the paper, by value, on a small results frame whose answers are worked out by hand below.

Two networks (mnist/mlp first, then digits/mlp: run order, not alphabetical), one training seed, two spike seeds,
t = 1..5, report T points 1 and 5, ``within`` = 0.125. All accuracies are multiples of 1/64, so every mean is exact
in binary and every rounding below is decided by hand. At t = 1 (\\LowT), per network, spike seeds 0 and 1:

=====================  ====================  ====================
norm                   mnist/mlp (ANN 0.75)  digits/mlp (ANN 0.625)
=====================  ====================  ====================
max (the base)         0.5,      0.53125     0.375,    0.40625
l4 (lp4_k0.5_scale_max) 0.515625, 0.5625     0.390625, 0.4375
uniform-l4             = l4 (identical)      = l4
max-v0half             0.59375,  0.625       0.46875,  0.5
p99.9                  0.546875, 0.578125    0.421875, 0.453125
=====================  ====================  ====================

and every curve rises by 1/32 per step. Paired differences of l4 at t = 1, pooled (n = 4):

* vs max:        +1/64, +1/32, +1/64, +1/32 → mean 3/128 = +2.34 pp; s = (1/128)·√(4/3), half-width
  t(0.975, 3)·s/2 = 3.182446 × 0.00451055 = 0.01435 → [+0.91, +3.78] pp: above zero, "improved";
* vs uniform:    0, 0, 0, 0 → mean 0, interval [0, 0]: its lower bound is exactly zero, so NOT a win;
* vs max-v0half: −5/64, −1/16, −5/64, −1/16 → −7.03 pp, [−8.47, −5.60]: the lowest lower bound, the strongest;
* vs p99.9 (the best plain norm: pooled means max 0.453125 < p99.9 0.5): −2.34 pp, [−3.78, −0.91].

Timesteps to ANN − 0.125 (mnist 0.625, digits 0.5): max 5, l4 4, v0half 2, p99.9 3 on both networks; p99.9 reaches
its target *exactly* at t = 3 (mean 0.625 and 0.5), which counts.

Membrane-statistics correlations, two layers (Spearman / Pearson): L1 .5/.9 and .6/.7, L2 .7/.8 and .8/.6,
L3 .8/.7 and .9/.5, L4 .9/.6 and .7/.4, L∞ .1/.5 and .2/.3, exact .95/.97 and .85/.91. Mean Spearman: L3 .85 >
L4 .80 > L2 .75 > L1 .55 > L∞ .15, so p = 3 is best and L4 ranks 2nd (not tied at two decimals); layer 0 is won by
L4 (.9), layer 1 by L3 (.9). Exact: Spearman .90, Pearson .94.
"""

from __future__ import annotations

import re

import pandas as pd
import pytest
from helpers.pinned_run import RUN, results

from snnconv.paper.l4_table import l4_comparison_table
from snnconv.paper.macro_file import paper_macros
from snnconv.paper.numbers import Macros, variance_macros
from snnconv.paper.prose import variance_prose

CORR = {  # layer -> predictor -> (spearman, pearson)
    0: {
        "L1": (0.5, 0.9),
        "L2": (0.7, 0.8),
        "L3": (0.8, 0.7),
        "L4": (0.9, 0.6),
        "Linf": (0.1, 0.5),
        "exact": (0.95, 0.97),
    },
    1: {
        "L1": (0.6, 0.7),
        "L2": (0.8, 0.6),
        "L3": (0.9, 0.5),
        "L4": (0.7, 0.4),
        "Linf": (0.2, 0.3),
        "exact": (0.85, 0.91),
    },
}


def correlations(table: dict = CORR) -> pd.DataFrame:
    """variance_correlation.csv rows of the layers above."""
    p_of = {"L1": 1.0, "L2": 2.0, "L3": 3.0, "L4": 4.0, "Linf": float("inf"), "exact": float("nan")}
    return pd.DataFrame(
        [
            {"dataset": "mnist", "arch": "mlp", "seed": 0, "norm": "max", "layer_index": layer, "layer": f"fc{layer}"}
            | {"predictor": name, "p": p_of[name], "spearman": sp, "pearson": pe}
            for layer, values in table.items()
            for name, (sp, pe) in values.items()
        ]
    )


def defs(text: str) -> dict[str, str]:
    """The \\newcommand definitions of a macro file, in order."""
    return dict(re.findall(r"\\newcommand\{\\([A-Za-z]+)\}\{(.*)\}", text))


SETUP = {
    "DatasetList": "MNIST and digits (scikit-learn)",
    "ArchList": "MLP",
    "NumDatasets": "2",
    "NumArchs": "1",
    "NumSeeds": "1",
    "SeedList": "0",
    "NumInputSeeds": "2",
    "NumReplicates": "2",  # 1 training seed × 2 spike seeds
    "Tmax": "5",
    "TPointSet": r"\{1, 5\}",  # a set, not "{1 and 5}"
    "LowT": "1",
    "WithinPct": "12.5",
    "Encoding": "poisson",
    "MaxRate": "1",
    "ResetMode": "subtract",
    "DecodeMode": "membrane",
    "TestSubset": "all",
    "Epochs": "20",  # the schema's defaults from here to StatsSamples
    "Optimizer": "adam",
    "NormSetSize": "1000",
    "NormList": r"\texttt{max}, \texttt{p99.9}, \texttt{max-v0half}, \texttt{lp4\_k0.5\_scale\_max} and "
    r"\texttt{uniform\_k0.5\_scale\_max}",
    "NumNorms": "5",
    "NumSweepNorms": "3",  # lp4_k0.5_scale_max, lpinf_k0.5_scale_max, uniform_k0.5_scale_max
    "NumConvertedNorms": "6",  # the five main norms and lpinf_k0.5_scale_max
    # the sweep (p ∈ {4, inf}, k ∈ {0.5}, mode scale) as a sentence; an empty sweep says none was run
    "SweepSentence": r"An \emph{$L_p$ sweep} replaces $\|w_j\|_4$ by $\|w_j\|_p$ rescaled to the same layer mean, "
    r"for $p\in\{4, \infty\}$ and $k\in\{0.5\}$ (mode scale).",
    "ConvertedNorms": r"the norm choices \texttt{max}, \texttt{p99.9}, \texttt{max-v0half}, \texttt{lp4\_k0.5\_scale\_max} "
    r"and \texttt{uniform\_k0.5\_scale\_max} plus 3 sweep variants (6 distinct conversions in total)",
    "TrainingSeeds": "1 training seed (0)",  # singular: one seed
    "InputSeeds": "2 input seeds",
    "WithinPoints": "12.5 percentage points",
    "StatsNormList": r"\texttt{max}",
    "StatsT": "200",
    "StatsNeurons": "64",
    "StatsSamples": "100",
    "StatsSetupSentence": r"Membrane statistics were recorded for \texttt{max} networks over 200 timesteps, 64 neurons "
    "per layer and 100 test images.",
    "CILevel": "95",
    "VarPList": r"1, 2, 3, 4 and $\infty$",
}
# Means over the two spike seeds, in percent with one decimal (exact binary halves round to even: 56.25 → 56.2).
ACCURACY = {
    "AnnAccMnistMlp": "75.0",
    "AnnAccDigitsMlp": "62.5",
    "AnnAccMean": "68.8",  # (75 + 62.5) / 2 = 68.75
    # mnist/mlp at t = 1 and t = 5 (+ 4/32 = 12.5 points)
    "AccMnistMlpMaxTOne": "51.6",
    "AccMnistMlpMaxTFive": "64.1",
    "AccMnistMlpLpFourKZeroDotFiveScaleMaxTOne": "53.9",
    "AccMnistMlpLFourTOne": "53.9",
    "AccMnistMlpLpFourKZeroDotFiveScaleMaxTFive": "66.4",
    "AccMnistMlpLFourTFive": "66.4",
    "AccMnistMlpUniformKZeroDotFiveScaleMaxTOne": "53.9",
    "AccMnistMlpUniformLFourTOne": "53.9",
    "AccMnistMlpUniformKZeroDotFiveScaleMaxTFive": "66.4",
    "AccMnistMlpUniformLFourTFive": "66.4",
    "AccMnistMlpMaxVZeroHalfTOne": "60.9",
    "AccMnistMlpMaxVZeroHalfTFive": "73.4",
    "AccMnistMlpPNineNineDotNineTOne": "56.2",
    "AccMnistMlpPNineNineDotNineTFive": "68.8",
    # digits/mlp
    "AccDigitsMlpMaxTOne": "39.1",
    "AccDigitsMlpMaxTFive": "51.6",
    "AccDigitsMlpLpFourKZeroDotFiveScaleMaxTOne": "41.4",
    "AccDigitsMlpLFourTOne": "41.4",
    "AccDigitsMlpLpFourKZeroDotFiveScaleMaxTFive": "53.9",
    "AccDigitsMlpLFourTFive": "53.9",
    "AccDigitsMlpUniformKZeroDotFiveScaleMaxTOne": "41.4",
    "AccDigitsMlpUniformLFourTOne": "41.4",
    "AccDigitsMlpUniformKZeroDotFiveScaleMaxTFive": "53.9",
    "AccDigitsMlpUniformLFourTFive": "53.9",
    "AccDigitsMlpMaxVZeroHalfTOne": "48.4",
    "AccDigitsMlpMaxVZeroHalfTFive": "60.9",
    "AccDigitsMlpPNineNineDotNineTOne": "43.8",
    "AccDigitsMlpPNineNineDotNineTFive": "56.2",
    # first t with mean accuracy >= ANN - 0.125
    **{
        f"TWithin{net}Mlp{norm}": t
        for net in ("Mnist", "Digits")
        for norm, t in (
            ("Max", "5"),
            ("LpFourKZeroDotFiveScaleMax", "4"),
            ("LFour", "4"),
            ("UniformKZeroDotFiveScaleMax", "4"),
            ("UniformLFour", "4"),
            ("MaxVZeroHalf", "2"),
            ("PNineNineDotNine", "3"),  # reaches the target exactly
        )
    },
}
VERDICTS = {
    "LFourK": "0.5",
    "LFourMode": "scale",
    "LFourBase": "max",
    "LFourBaseName": r"\texttt{max}",
    "LFourGainLowT": "$+2.3$",
    "LFourGainLowTCI": "[$+0.9$, $+3.8$]",
    "LFourVerdict": "improved",
    "LFourNetsBetter": "2",
    "LFourVsUniformGainLowT": "$+0.0$",
    "LFourVsUniformGainLowTCI": "[$+0.0$, $+0.0$]",
    "LFourVsUniformVerdict": "did not outperform",  # identical scores: lower bound exactly 0 is no win
    "LFourVsUniformNetsBetter": "0",  # a mean difference of exactly 0 is not "better"
    "LFourVsVZeroGainLowT": "$-7.0$",
    "LFourVsVZeroGainLowTCI": "[$-8.5$, $-5.6$]",
    "LFourVsVZeroVerdict": "did not outperform",
    "LFourVsVZeroNetsBetter": "0",
    "LFourVsPlainGainLowT": "$-2.3$",
    "LFourVsPlainGainLowTCI": "[$-3.8$, $-0.9$]",
    "LFourVsPlainVerdict": "did not outperform",
    "LFourVsPlainNetsBetter": "0",
    "PlainBestName": r"\texttt{p99.9}",
    # no calibrated or QCFS norm in this run: the baselines' macros say so and the sentence leaves them out
    **{
        f"LFourVs{key}{what}": value
        for key in ("Calib", "QCFS")
        for what, value in (
            ("GainLowT", "n/a"),
            ("GainLowTCI", "n/a"),
            ("Verdict", "could not be evaluated"),
            ("NetsBetter", "0"),
        )
    },
    "CalibBestName": "none converted in this run",
    "QCFSBestName": "none converted in this run",
    "LFourOnCalibGainLowT": "n/a",
    "LFourOnCalibGainLowTCI": "n/a",
    "LFourOnCalibVerdict": "could not be evaluated",
    "LFourOnCalibBaseName": "n/a",
    "NumNets": "2",
    "UniformControlName": r"\texttt{uniform\_k0.5\_scale\_max}",
    "VZeroControlName": r"\texttt{max-v0half}",
    "LFourStrongestControl": r"the $v_0=\theta/2$ control (\texttt{max-v0half})",
    "LFourVsStrongestGainLowT": "$-7.0$",
    "LFourVsStrongestGainLowTCI": "[$-8.5$, $-5.6$]",
    "LFourVsStrongestN": "4",
    "LFourHelped": "did not help",
    "LFourAccLowT": "47.7",  # (0.515625 + 0.5625 + 0.390625 + 0.4375) / 4 = 0.4765625
    "BaseAccLowT": "45.3",  # 0.453125
    "LFourGapLowT": "$-21.1$",  # SNN − ANN: (−0.234375 − 0.1875 − 0.234375 − 0.1875) / 4 = −0.2109375
    "LFourVerdictSentence": r"At $T=1$, judged against the strongest control, the $v_0=\theta/2$ control "
    r"(\texttt{max-v0half}), the $L_4$ adjustment did not help ($-7.0$ percentage points, paired 95\,\% "
    r"t-interval [$-8.5$, $-5.6$], $n=4$ pairs). It improved accuracy over its base normalization ($+2.3$ pp), "
    r"did not outperform the uniform control ($+0.0$ pp), did not outperform the $v_0=\theta/2$ control "
    r"($-7.0$ pp) and did not outperform the best plain normalization ($-2.3$ pp)",
    # the abstract's one clause (the sentence above is printed once, in the results)
    "LFourVerdictSummary": r"Judged against the strongest control, the $v_0=\theta/2$ control (\texttt{max-v0half}), "
    r"the $L_4$ adjustment did not help at $T=1$ ($-7.0$ percentage points)",
    "LFourNetsSentence": r"At $T=1$ the $L_4$ networks reached 47.7\,\% on average (\texttt{max}: 45.3\,\%; gap to "
    r"the ANN $-21.1$ points); per network, its mean paired difference was positive against its base normalization "
    r"in 2 of 2 networks, against the uniform control in 0 and against the $v_0=\theta/2$ control in 0.",
    "LFourOnCalibSentence": "",  # no calibrated L4 in this run: the sentence is left out
}
VARIANCE = {
    "LThreeSpearman": "0.85",
    "LThreeWins": "1",
    "LFourSpearman": "0.80",
    "LFourWins": "1",
    "LTwoSpearman": "0.75",
    "LTwoWins": "0",
    "LOneSpearman": "0.55",
    "LOneWins": "0",
    "LInfSpearman": "0.15",
    "LInfWins": "0",
    "ExactSpearman": "0.90",
    "ExactPearson": "0.94",
    "NumStatsLayers": "2",  # distinct (dataset, arch, layer): fc0 and fc1 of mnist/mlp
    "NumStatsNets": "1",
    "NumStatsMeasurements": "2",  # one seed and one norm: each layer measured once
    "StatsLayers": "2 layers of 1 network",
    "BestP": "$3$",
    "BestPSpearman": "0.85",
    "LFourRank": "2",
    "NumP": "5",
    "VarianceVerdict": r"the $L_4$ norm was not the best $L_p$ predictor (best: $p=3$)",
    "VarianceAbstractSentence": r"The measured membrane-increment standard deviation correlated with $\|w_j\|_4$ with "
    r"a mean Spearman coefficient of 0.80 over 2 layers of 1 network; among the exponents tested, the $L_4$ norm was "
    r"not the best $L_p$ predictor (best: $p=3$).",
    "VarianceResultsSentence": r"Averaged over 2 layers of 1 network, the Spearman coefficients were 0.55 ($p=1$), "
    r"0.75 ($p=2$), 0.80 ($p=4$) and 0.15 ($p=\infty$), against 0.90 for the exact prediction: the $L_4$ norm was "
    r"not the best $L_p$ predictor (best: $p=3$).",
}


@pytest.fixture(scope="module")
def made() -> tuple[dict[str, str], pd.DataFrame]:
    """The macro definitions and the per-network table for the frame above."""
    text, per_net = paper_macros(results(), correlations(), RUN)
    return defs(text), per_net


@pytest.mark.parametrize("group", ["SETUP", "ACCURACY", "VERDICTS", "VARIANCE"])
def test_every_macro_has_its_hand_computed_value(made, group):
    want = globals()[group]
    got = {k: made[0][k] for k in want if k in made[0]}
    assert got == want


def test_no_macro_is_left_unchecked(made):
    assert set(made[0]) == set(SETUP) | set(ACCURACY) | set(VERDICTS) | set(VARIANCE)


def test_comparison_table_keeps_run_order_and_the_verdict_rule(made, tmp_path):
    per_net = made[1]
    assert list(dict.fromkeys(zip(per_net["dataset"], per_net["arch"]))) == [("mnist", "mlp"), ("digits", "mlp")]
    l4_comparison_table(per_net, str(tmp_path / "l4"), base="max")
    md = [line.replace(" ", "") for line in (tmp_path / "l4.md").read_text().splitlines()[2:]]
    assert [line.split("|")[1:3] for line in md] == [["mnist", "mlp"], ["digits", "mlp"]]
    # per network (n = 2): l4 − max = +1/64, +1/32 → +2.3 pp, t(0.975, 1) = 12.706 → [−7.6, +12.3]: no bold;
    # l4 − uniform = 0, 0 → [+0.0, +0.0]: a lower bound of exactly zero is no win either
    assert md[0].split("|")[3:] == ["+2.3[−7.6,+12.3]", "+0.0[+0.0,+0.0]", "−7.0[−17.0,+2.9]", "−2.3[−12.3,+7.6]", ""]


def variance_defs(table: dict) -> dict[str, str]:
    """The variance macros alone, for a correlation table."""
    m = Macros()
    variance_macros(m, correlations(table))
    variance_prose(m, correlations(table))
    return m.defs


def _layer(l3: float, l4: float) -> dict:
    """One layer where only L3 and L4 matter (the other predictors correlate less)."""
    return {"L1": (0.1, 0.1), "L2": (0.2, 0.2), "L3": (l3, 0.0), "L4": (l4, 0.0), "Linf": (0.0, 0.0), "exact": (1, 1)}


def test_variance_verdict_ties_at_printed_precision():
    """Mean Spearman L3 0.8449 and L4 0.8401: both print as 0.84, so L4 is tied for best, not beaten."""
    got = variance_defs({0: _layer(0.8449, 0.8401)})
    assert got["BestP"] == "$3$" and got["LThreeSpearman"] == got["LFourSpearman"] == "0.84"
    assert got["VarianceVerdict"] == r"the $L_4$ norm tied with $p=3$ as the best $L_p$ predictor"
    assert got["LFourRank"] == "2" and got["LThreeWins"] == "1" and got["LFourWins"] == "0"


def test_variance_verdict_when_L4_is_best_and_when_it_is_beaten_at_print_precision():
    best = variance_defs({0: _layer(0.8349, 0.8449)})  # 0.83 vs 0.84 once printed
    assert best["BestP"] == "$4$" and best["LFourRank"] == "1"
    assert best["VarianceVerdict"] == r"the $L_4$ norm was the best of the $L_p$ predictors"
    # L4 leads unrounded (0.8449 > 0.8401) but both print as 0.84: a tie, as the correlation table bolds both
    ahead = variance_defs({0: _layer(0.8401, 0.8449)})
    assert ahead["BestP"] == "$4$" and ahead["LFourRank"] == "1"
    assert ahead["VarianceVerdict"] == r"the $L_4$ norm tied with $p=3$ as the best $L_p$ predictor"
    beaten = variance_defs({0: _layer(0.8451, 0.8449)})  # 0.85 vs 0.84 once printed
    assert beaten["VarianceVerdict"] == r"the $L_4$ norm was not the best $L_p$ predictor (best: $p=3$)"
