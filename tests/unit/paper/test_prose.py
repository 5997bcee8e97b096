"""The paper's prose on empty, single and several inputs (snnconv/paper/prose.py): no "{none}", no "(s)", no
"0 sweep variants", layers counted once, and every verdict word taken from the rule the tables use."""

from __future__ import annotations

import copy
import math
import re

import pandas as pd
from helpers.figure_data import REPO, config

from snnconv.paper import numbers, prose
from snnconv.paper.macro_file import paper_macros
from snnconv.workflow import settings

RUN = settings.paper(config())  # l4 role -> lp4_k0.5_scale_max; lowest report T = 5
L4, UNIFORM = RUN["roles"]["l4"], RUN["roles"]["uniform-l4"]
PARAMS = {"max": ("max", None, None), L4: ("max", 0.5, "scale"), UNIFORM: ("max", 0.5, "scale")}
PARAMS["max-v0half"] = ("max", None, None)
PARAMS["p99.9"] = ("p99.9", None, None)


def run_with(**changes) -> dict:
    """The paper params with some keys replaced."""
    return copy.deepcopy(RUN) | changes


def setup(**changes) -> dict[str, str]:
    """The setup macros (numbers, then prose) of the paper params with ``changes``."""
    m = numbers.Macros()
    run = run_with(**changes)
    numbers.setup_macros(m, run)
    prose.setup_prose(m, run)
    return m.defs


def frame(acc: dict[str, list[float]], nets: tuple[str, ...] = ("mlp",)) -> pd.DataFrame:
    """Accuracy rows at t = 5 of network digits/<arch>: one input seed (replicate) per entry of each norm's list."""
    rows = [
        {"dataset": "digits", "arch": arch, "seed": 0, "input_seed": i, "norm": norm, "t": 5, "accuracy": a}
        | {"ann_accuracy": 0.9}
        | dict(zip(("base", "k", "mode"), PARAMS[norm]))
        for arch in nets
        for norm, accs in acc.items()
        for i, a in enumerate(accs)
    ]
    return pd.DataFrame(rows)


def macros(df: pd.DataFrame, corr: pd.DataFrame | None = None) -> dict[str, str]:
    """Every macro of the paper for a results frame (and a correlation table: none by default)."""
    text, _ = paper_macros(df, pd.DataFrame(columns=["predictor"]) if corr is None else corr, RUN)
    return dict(re.findall(r"\\newcommand\{\\([A-Za-z]+)\}\{(.*)\}", text))


def no_template_leaks(text: str) -> None:
    """Nothing of the published symptoms: a set of none, a count of nothing, a bracketed plural, 'n/a' in prose."""
    for bad in (r"\{none", r"\{\}", "(s)", "0 sweep variants", "n/a", "1 networks", "1 seeds", "1 pairs"):
        assert bad not in text, f"{bad!r} in {text!r}"


# ------------------------------------------------------------------------------------------------------- setup


def test_setup_counts_are_pluralised_properly():
    one = setup(seeds=[7], input_seeds=[0])
    assert one["TrainingSeeds"] == "1 training seed (7)" and one["InputSeeds"] == "1 input seed"
    three = setup(seeds=[0, 1, 2], input_seeds=[0, 1, 2])
    assert three["TrainingSeeds"] == "3 training seeds (0, 1 and 2)" and three["InputSeeds"] == "3 input seeds"
    assert setup(within=0.01)["WithinPoints"] == "1 percentage point"
    assert setup(within=0.005)["WithinPoints"] == "0.5 percentage points"
    assert setup(T_points=[5])["TPointSet"] == r"\{5\}" and setup(T_points=[5, 20])["TPointSet"] == r"\{5, 20\}"


def test_no_sweep_says_so_instead_of_an_empty_set():
    for sweep in ({}, {"p": [], "k": [], "mode": []}, {"p": [4], "k": []}):
        d = setup(sweep=sweep, n_sweep_norms=0)
        assert d["SweepSentence"] == r"No $L_p$ sweep was run in this configuration."
        assert d["ConvertedNorms"].endswith("(no coefficient sweep was run)")
        no_template_leaks(d["SweepSentence"] + d["ConvertedNorms"])


def test_a_sweep_of_one_value_and_of_several():
    one = setup(sweep={"p": [4], "k": [0.5], "mode": ["scale"]}, n_sweep_norms=1)
    assert r"$p\in\{4\}$ and $k\in\{0.5\}$ (mode scale)." in one["SweepSentence"]
    assert "plus 1 sweep variant (" in one["ConvertedNorms"]
    many = setup()  # p ∈ {1, 4, inf}, k ∈ {−0.5, 0.5}, 8 sweep norms
    assert r"$p\in\{1, 4, \infty\}$ and $k\in\{-0.5, 0.5\}$" in many["SweepSentence"]
    assert "plus 8 sweep variants (13 distinct conversions in total)" in many["ConvertedNorms"]


def test_one_norm_choice_and_no_membrane_statistics():
    d = setup(norms=["max"], stats_norms=[])
    assert d["ConvertedNorms"].startswith(r"the norm choice \texttt{max} plus")
    assert d["StatsSetupSentence"] == "No membrane statistics were recorded."
    stats = setup()["StatsSetupSentence"]
    assert stats.startswith(r"Membrane statistics were recorded for \texttt{max} networks over ")


# ------------------------------------------------------------------------------------------ the L4 adjustment

GOOD = {"max": [0.5, 0.51, 0.49], L4: [0.6, 0.62, 0.61], UNIFORM: [0.5, 0.5, 0.51], "max-v0half": [0.55, 0.56, 0.54]}


def test_the_verdict_sentence_with_every_control():
    d = macros(frame(GOOD))
    sentence = d["LFourVerdictSentence"]
    assert sentence.startswith(r"At $T=5$, judged against the strongest control, the $v_0=\theta/2$ control")
    assert r"$n=3$ pairs). It improved accuracy over its base normalization (" in sentence
    # max is also the best plain normalization (no p99.9 simulated): said once, not "could not be evaluated"
    assert "; it is also the best plain normalization)" in sentence and "the best plain normalization (" not in sentence
    assert d["LFourVerdictSummary"].startswith("Judged against the strongest control,")
    assert "in 1 of 1 network," in d["LFourNetsSentence"]
    assert d["CalibBestName"] == d["QCFSBestName"] == "none converted in this run"  # no baseline in this frame
    no_template_leaks(sentence + d["LFourVerdictSummary"] + d["LFourNetsSentence"])


def test_the_verdict_words_follow_the_table_rule():
    """The words come from analysis.verdicts.helped, the rule that bolds the l4_comparison table."""
    from snnconv.analysis.verdicts import helped

    d = macros(frame(GOOD))
    test = {"n": 3, "ci_low": 0.01}
    assert prose.verdict_word(test, "yes", "no") == ("yes" if helped(test) else "no")
    assert prose.verdict_word({"n": 1, "ci_low": math.nan}, "yes", "no") == "no"  # one pair is never a win
    assert prose.verdict_word(None, "yes", "no") == "could not be evaluated"
    assert d["LFourHelped"] in {"helped", "did not help"} and d["LFourHelped"] in d["LFourVerdictSentence"]


def test_a_single_pair_has_no_interval_and_says_so():
    d = macros(frame({k: v[:1] for k, v in GOOD.items()}))
    assert "did not help (" in d["LFourVerdictSentence"]  # one pair is never a win, whatever its sign
    assert "percentage points from 1 pair, too few for an interval)" in d["LFourVerdictSentence"]
    no_template_leaks(d["LFourVerdictSentence"] + d["LFourNetsSentence"])


def test_no_control_and_no_l4_are_said_plainly():
    alone = macros(frame({L4: [0.6, 0.61]}))
    assert alone["LFourVerdictSentence"] == (
        r"At $T=5$ no control of the $L_4$ adjustment was simulated, so it could not be judged"
    )
    assert alone["LFourVerdictSummary"] == alone["LFourVerdictSentence"]
    assert "per network" not in alone["LFourNetsSentence"]
    none = macros(frame({"max": [0.5, 0.51]}))
    assert none["LFourVerdictSentence"].startswith(r"No $L_4$-adjusted network was simulated")
    assert none["LFourNetsSentence"] == "" and none["LFourOnCalibSentence"] == ""
    # the Method still states the setting the config defines (conversion.l4), not "k = n/a, mode n/a"
    setting = RUN["l4_setting"]
    assert (none["LFourK"], none["LFourMode"], none["LFourBase"]) == (
        f"{setting['k']:g}",
        setting["mode"],
        setting["base"],
    )
    no_template_leaks(none["LFourK"] + none["LFourMode"] + none["LFourBase"])


def test_several_networks_are_counted_in_the_plural():
    d = macros(frame(GOOD, nets=("mlp", "cnn")))
    assert d["NumNets"] == "2" and "in 2 of 2 networks," in d["LFourNetsSentence"]


# ------------------------------------------------------------------------------------------ the variance claim


def correlations(nets: dict[str, int], seeds: int, norms: int, l4: float = 0.9) -> pd.DataFrame:
    """variance_correlation.csv rows: per network (arch → number of layers), seed and norm, every predictor."""
    values = {"L1": 0.5, "L2": 0.7, "L3": 0.8, "L4": l4, "Linf": 0.1, "exact": 0.95}
    p_of = {"L1": 1.0, "L2": 2.0, "L3": 3.0, "L4": 4.0, "Linf": math.inf, "exact": math.nan}
    return pd.DataFrame(
        [
            {"dataset": "digits", "arch": arch, "seed": s, "norm": f"n{n}", "layer_index": i, "layer": f"fc{i}"}
            | {"predictor": name, "p": p_of[name], "spearman": v, "pearson": v}
            for arch, layers in nets.items()
            for s in range(seeds)
            for n in range(norms)
            for i in range(layers)
            for name, v in values.items()
        ]
    )


def test_layers_are_counted_once_and_the_measurements_say_what_they_are():
    """3 + 4 layers, 3 seeds, 2 norms: 7 distinct layers, 42 measurements averaged (the paper once printed 126
    'layers' for 21 layers measured under 3 seeds × 2 norms)."""
    d = macros(frame(GOOD), correlations({"mlp": 3, "cnn": 4}, seeds=3, norms=2))
    assert d["NumStatsLayers"] == "7" and d["NumStatsMeasurements"] == "42" and d["NumStatsNets"] == "2"
    assert d["StatsLayers"] == (
        "42 layer measurements (7 distinct layers of 2 networks, measured for 3 training seeds and 2 norm choices)"
    )
    assert d["StatsLayers"] in d["VarianceAbstractSentence"] and d["StatsLayers"] in d["VarianceResultsSentence"]


def test_one_layer_of_one_network():
    d = macros(frame(GOOD), correlations({"mlp": 1}, seeds=1, norms=1))
    assert d["StatsLayers"] == "1 layer of 1 network" and d["NumStatsLayers"] == "1"
    assert d["VarianceVerdict"] == r"the $L_4$ norm was the best of the $L_p$ predictors"


def test_no_membrane_statistics_say_the_claim_was_not_tested():
    d = macros(frame(GOOD))
    text = "No membrane statistics were recorded, so the variance claim could not be tested."
    assert d["VarianceAbstractSentence"] == d["VarianceResultsSentence"] == text
    assert d["NumStatsLayers"] == "0"


def test_variance_verdict_uses_the_correlation_tables_rule(tmp_path):
    """L3 and L4 both print 0.80: the verdict says tied and the table's mean row bolds both."""
    from snnconv.report.variance_claim import correlation_table

    corr = correlations({"mlp": 1}, seeds=1, norms=1, l4=0.8)
    assert macros(frame(GOOD), corr)["VarianceVerdict"] == r"the $L_4$ norm tied with $p=3$ as the best $L_p$ predictor"
    correlation_table(corr, tmp_path / "var")
    mean_row = (tmp_path / "var.md").read_text().splitlines()[-1]
    assert mean_row.count("**") == 4 and mean_row.rstrip(" |").endswith("3, 4")


# ------------------------------------------------------------------------------------------------- main.tex


def test_main_tex_prints_the_verdict_sentence_once_and_no_bracketed_plural():
    body = (REPO / "paper" / "main.tex").read_text().split(r"\begin{document}")[1]
    assert body.count(r"\LFourVerdictSentence") == 1 and body.count(r"\LFourVerdictSummary") == 1
    assert "(s)" not in body and r"\SweepPList" not in body
