"""The paper's result-dependent prose as LaTeX macros: verdict words, verdict sentences, setup phrases.

Every phrase here is built from :mod:`.numbers`' values and decided by the rules the tables use:

* a comparison of the L4 adjustment is a win only by :func:`snnconv.analysis.verdicts.helped` (the rule that
  bolds ``l4_comparison``), and the overall verdict is against the control
  :func:`snnconv.analysis.verdicts.verdict` picks;
* the best L_p predictor is :func:`snnconv.analysis.correlations.best_at_precision` (the rule that bolds the
  correlation table).

Counts and lists go through :mod:`.wording`, and every sentence has a form for what was not run (no sweep, no
control, no membrane statistics, a single pair): it says so instead of printing an empty list or 'n/a'. The
full verdict sentence is printed once, in the results; the abstract takes the one-line summary.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..analysis.correlations import best_at_precision, best_predictor
from ..analysis.verdicts import COMPARISONS, helped
from .numbers import (
    OPTIONAL,
    L4Evidence,
    Macros,
    comparison_prefix,
    p_text,
    stats_coverage,
    sweep_values,
    texttt,
)
from .wording import count_noun, format_set, human_list, plural

# Verdict words per comparison: (win, no win), decided by analysis.verdicts.helped.
WORDS = {
    "Base": ("improved", "did not improve"),
    "Uniform": ("outperformed", "did not outperform"),
    "VZero": ("outperformed", "did not outperform"),
    "Plain": ("outperformed", "did not outperform"),
    "Calib": ("outperformed", "did not outperform"),
    "QCFS": ("outperformed", "did not outperform"),
}
CONTROL_TEXT = {
    "Base": "its base normalization",
    "Uniform": "the uniform control",
    "VZero": r"the $v_0=\theta/2$ control",
    "Plain": "the best plain normalization",
    "Calib": "the best light calibration",
    "QCFS": "the best QCFS conversion",
}
NOT_EVALUATED = "could not be evaluated"


# ------------------------------------------------------------------------------------------------------- setup


def setup_prose(m: Macros, run: dict[str, Any]) -> None:
    """Phrases of the setup section: seeds, norm choices, the sweep, the tolerance and the membrane statistics."""
    d = m.defs
    n_seeds, n_norms, n_sweep = len(run["seeds"]), len(run["norms"]), int(run["n_sweep_norms"])
    m.add("TrainingSeeds", count_noun(n_seeds, "training seed") + (f" ({d['SeedList']})" if n_seeds else ""))
    m.add("InputSeeds", count_noun(len(run["input_seeds"]), "input seed"))
    m.add("WithinPoints", count_noun(d["WithinPct"], "percentage point"))
    norms = f"the {plural('norm choice', n_norms)} {d['NormList']}"
    m.add(
        "ConvertedNorms",
        norms
        + (
            f" plus {count_noun(n_sweep, 'sweep variant')} ({d['NumConvertedNorms']} distinct conversions in total)"
            if n_sweep
            else " (no coefficient sweep was run)"
        ),
    )
    m.add("SweepSentence", sweep_sentence(run))
    m.add("StatsSetupSentence", stats_setup_sentence(run, d["StatsNormList"]))


def sweep_sentence(run: dict[str, Any]) -> str:
    """What the L_p sweep varied, or that none was run (an empty p or k list, or no sweep variant converted)."""
    values = sweep_values(run)
    if not (values["p"] and values["k"]) or not int(run["n_sweep_norms"]):
        return r"No $L_p$ sweep was run in this configuration."
    modes = values["mode"]
    mode_text = f" ({plural('mode', len(modes))} {human_list(modes)})" if modes else ""
    return (
        r"An \emph{$L_p$ sweep} replaces $\|w_j\|_4$ by $\|w_j\|_p$ rescaled to the same layer mean, for "
        f"$p\\in{format_set(values['p'])}$ and $k\\in{format_set(values['k'])}${mode_text}."
    )


def stats_setup_sentence(run: dict[str, Any], norm_list: str) -> str:
    """Which networks the membrane statistics were recorded for and how many of what, or that none were."""
    st = run["stats"]
    if not run["stats_norms"]:
        return "No membrane statistics were recorded."
    return (
        f"Membrane statistics were recorded for {norm_list} networks over {count_noun(st['T'], 'timestep')}, "
        f"{count_noun(st['neurons_per_layer'], 'neuron')} per layer and {count_noun(st['samples'], 'test image')}."
    )


# ------------------------------------------------------------------------------------------ the L4 adjustment


def verdict_word(test: pd.Series | dict[str, Any] | None, yes: str, no: str) -> str:
    """``yes`` only when :func:`snnconv.analysis.verdicts.helped` says so; no pair at all: 'could not be evaluated'."""
    if test is None or int(test["n"]) == 0:
        return NOT_EVALUATED
    return yes if helped(test) else no


def gain_text(gain: str, ci: str, n: int, unit: str = "pp") -> str:
    """'$+2.3$ pp, paired 95 % t-interval [a, b], $n=4$ pairs'; a single pair has no interval and says so."""
    if ci == "n/a":
        return f"{gain} {unit} from {count_noun(n, 'pair')}, too few for an interval"
    return f"{gain} {unit}, paired 95\\,\\% t-interval {ci}, $n={n}$ {plural('pair', n)}"


def verdict_prose(m: Macros, ev: L4Evidence) -> None:
    """The verdict words of every comparison, the verdict sentence (results), its summary (abstract), the
    per-network count and the L4-on-calibration sentence; needs :func:`.numbers.l4_macros` first."""
    d, by_key, top = m.defs, ev.by_key, ev.top
    for key in COMPARISONS:
        m.add(f"{comparison_prefix(key)}Verdict", verdict_word(by_key.get(key), *WORDS[key]))
    m.add(
        "LFourStrongestControl",
        (
            f"{CONTROL_TEXT[ev.strongest_key]} ({texttt(top['control'])})"
            if top is not None
            else "none (no control was simulated)"
        ),
    )
    m.add("LFourHelped", verdict_word(top, "helped", "did not help"))
    for key in OPTIONAL:  # the methods paragraph names them whether or not the run converted them
        m.add(f"{key}BestName", texttt(by_key[key]["control"]) if key in by_key else "none converted in this run")
    headline = verdict_headline(ev, d)
    clauses = [comparison_clause(key, by_key[key], d, ev.plain_is_base) for key in COMPARISONS if key in by_key]
    m.add("LFourVerdictSentence", headline + (". It " + human_list(clauses) if clauses else ""))
    m.add("LFourVerdictSummary", verdict_summary(ev, d, headline))
    m.add("LFourNetsSentence", nets_sentence(ev, d))
    on_calib = ev.on_calib
    m.add("LFourOnCalibVerdict", verdict_word(on_calib, "improved", "did not improve"))
    m.add("LFourOnCalibSentence", on_calib_sentence(on_calib, d))


def verdict_headline(ev: L4Evidence, d: dict[str, str]) -> str:
    """The verdict against the strongest control, with its numbers; or why there is none."""
    if ev.l4 is None:
        return r"No $L_4$-adjusted network was simulated, so the adjustment could not be judged"
    top = ev.top
    if top is None:
        return f"At $T={ev.low_T}$ no control of the $L_4$ adjustment was simulated, so it could not be judged"
    lead = (
        f"At $T={ev.low_T}$, judged against the strongest control, {d['LFourStrongestControl']}, the $L_4$ adjustment"
    )
    n = int(top["n"])
    if n == 0:
        return f"{lead} {NOT_EVALUATED}: no replicate was simulated under both"
    gain = gain_text(d["LFourVsStrongestGainLowT"], d["LFourVsStrongestGainLowTCI"], n, "percentage points")
    return f"{lead} {d['LFourHelped']} ({gain})"


def comparison_clause(key: str, test: pd.Series, d: dict[str, str], plain_is_base: bool) -> str:
    """One comparison of the verdict sentence: 'improved accuracy over its base normalization ($+2.3$ pp)'."""
    prefix = comparison_prefix(key)
    target = CONTROL_TEXT[key]
    if int(test["n"]) == 0:
        return f"could not be compared with {target} (no paired replicates)"
    gain = f"{d[prefix + 'GainLowT']} pp"
    if key in OPTIONAL:
        gain = f"{texttt(test['control'])}, {gain}"
    if key == "Base":
        note = "; it is also the best plain normalization" if plain_is_base else ""
        return f"{d[prefix + 'Verdict']} accuracy over {target} ({gain}{note})"
    return f"{d[prefix + 'Verdict']} {target} ({gain})"


def verdict_summary(ev: L4Evidence, d: dict[str, str], headline: str) -> str:
    """The verdict in one clause for the abstract (the full sentence is printed once, in the results)."""
    top = ev.top
    if top is None or int(top["n"]) == 0:
        return headline
    return (
        f"Judged against the strongest control, {d['LFourStrongestControl']}, the $L_4$ adjustment "
        f"{d['LFourHelped']} at $T={ev.low_T}$ ({d['LFourVsStrongestGainLowT']} percentage points)"
    )


def nets_sentence(ev: L4Evidence, d: dict[str, str]) -> str:
    """Mean accuracy of the L4 networks at low T and in how many networks its mean paired difference was
    positive against its base and the two controls (a count of means, not a verdict); '' without L4 results."""
    if ev.l4 is None or d["LFourAccLowT"] == "n/a":
        return ""
    text = (
        f"At $T={ev.low_T}$ the $L_4$ networks reached {d['LFourAccLowT']}\\,\\% on average "
        f"({d['LFourBaseName']}: {d['BaseAccLowT']}\\,\\%; gap to the ANN {d['LFourGapLowT']} points)"
    )
    parts = [
        f"against {CONTROL_TEXT[key]} in {ev.nets_better.get(key, 0)}"
        for key in ("Base", "Uniform", "VZero")
        if key in ev.by_key
    ]
    if parts:
        parts[0] += f" of {count_noun(ev.n_nets, 'network')}"
        text += "; per network, its mean paired difference was positive " + human_list(parts)
    return text + "."


def on_calib_sentence(on_calib: dict[str, Any] | None, d: dict[str, str]) -> str:
    """The L4 adjustment on top of light calibration against calibration alone; '' if not simulated."""
    if not on_calib:
        return ""
    if int(on_calib["n"]) == 0:
        return (
            r"On top of light calibration, the $L_4$ adjustment could not be compared with calibration alone "
            f"({d['LFourOnCalibBaseName']}): no replicate was simulated under both."
        )
    gain = gain_text(d["LFourOnCalibGainLowT"], d["LFourOnCalibGainLowTCI"], int(on_calib["n"]))
    return (
        f"On top of light calibration, the $L_4$ adjustment {d['LFourOnCalibVerdict']} accuracy over calibration "
        f"alone ({d['LFourOnCalibBaseName']}: {gain})."
    )


# ------------------------------------------------------------------------------------------ the variance claim


def variance_verdict(summary: pd.DataFrame) -> str:
    """Whether p = 4 was the best L_p predictor by mean Spearman, ties at the printed precision shared."""
    if summary.empty:
        return f"the variance claim {NOT_EVALUATED} (no membrane statistics)"
    winners = best_at_precision(summary.set_index("predictor")["mean"])
    if winners == ["L4"]:
        return r"the $L_4$ norm was the best of the $L_p$ predictors"
    if "L4" in winners:
        others = human_list(f"$p={p_text(w)}$" for w in winners if w != "L4")
        return rf"the $L_4$ norm tied with {others} as the best $L_p$ predictor"
    best = human_list(f"$p={p_text(w)}$" for w in winners)
    return rf"the $L_4$ norm was not the best $L_p$ predictor (best: {best})"


def stats_layers(corr: pd.DataFrame) -> str:
    """What a mean over layers averages: '2 layers of 1 network', or, when layers were measured under several
    seeds or norms, '126 layer measurements (21 distinct layers of 4 networks, …)'."""
    c = stats_coverage(corr)
    layers = f"{count_noun(c.layers, 'layer')} of {count_noun(c.networks, 'network')}"
    if c.measurements == c.layers:
        return layers
    return (
        f"{count_noun(c.measurements, 'layer measurement')} ({count_noun(c.layers, 'distinct layer')} of "
        f"{count_noun(c.networks, 'network')}, measured for {count_noun(c.seeds, 'training seed')} and "
        f"{count_noun(c.norms, 'norm choice')})"
    )


def variance_prose(m: Macros, corr: pd.DataFrame) -> None:
    """The variance verdict, what its means average over, and its sentences for the abstract and the results;
    needs :func:`.numbers.variance_macros` first."""
    d = m.defs
    summary = best_predictor(corr)
    m.add("VarianceVerdict", variance_verdict(summary))
    if summary.empty:
        m.add("StatsLayers", "no layers")
        none = "No membrane statistics were recorded, so the variance claim could not be tested."
        m.add("VarianceAbstractSentence", none)
        m.add("VarianceResultsSentence", none)
        return
    m.add("StatsLayers", stats_layers(corr))
    m.add(
        "VarianceAbstractSentence",
        r"The measured membrane-increment standard deviation correlated with $\|w_j\|_4$ with a mean Spearman "
        f"coefficient of {d['LFourSpearman']} over {d['StatsLayers']}; among the exponents tested, "
        f"{d['VarianceVerdict']}.",
    )
    m.add(
        "VarianceResultsSentence",
        f"Averaged over {d['StatsLayers']}, the Spearman coefficients were {d['LOneSpearman']} ($p=1$), "
        f"{d['LTwoSpearman']} ($p=2$), {d['LFourSpearman']} ($p=4$) and {d['LInfSpearman']} ($p=\\infty$), "
        f"against {d['ExactSpearman']} for the exact prediction: {d['VarianceVerdict']}.",
    )
