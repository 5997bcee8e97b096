"""LaTeX macros for the paper: every number and every result-dependent phrase comes from here.

``results/paper/macros.tex`` holds ``\\newcommand`` definitions of

* the setup, from the config (datasets, architectures, seeds, T, the L4 parameters, the sweep …);
* per dataset × arch × norm: ANN accuracy, SNN accuracy at every report T, timesteps to reach the
  ANN within ``report.within`` (e.g. ``\\AnnAccDigitsMlp``, ``\\AccDigitsMlpLFourTTen``);
* the pooled verdicts at the lowest report T (``\\LowT``), computed by :mod:`snnconv.analysis.verdicts`: the
  L4 adjustment against its base, the uniform and v0 = θ/2 controls, the best plain normalization and the
  strongest of them, as numbers with intervals and as words ("helped" / "did not help", "improved" /
  "did not improve", "outperformed" / "did not outperform");
* the variance claim: correlation of the measured membrane std with ‖w‖_p per p and with the exact
  prediction, the best p, and a sentence saying whether it is p = 4.

Macro names only use letters: digits become words (``cifar10`` → ``CifarOneZero``, ``T=25`` →
``TTwentyFive``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from ..analysis.controls import control_names
from ..analysis.correlations import EXACT, P_VALUES, best_predictor
from ..analysis.intervals import ann_reference, mean_ci, timesteps_to_within
from ..analysis.load import norm_params
from ..analysis.paired import paired_difference
from ..analysis.verdicts import COMPARISONS, TEST_COLS, helped, l4_on_calibration, l4_tests, verdict
from .labels import arch_label, dataset_label
from .tables import bold, latex_escape, write_table

_DIGITS = ["Zero", "One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine"]
_ONES = [
    "",
    "One",
    "Two",
    "Three",
    "Four",
    "Five",
    "Six",
    "Seven",
    "Eight",
    "Nine",
    "Ten",
    "Eleven",
    "Twelve",
    "Thirteen",
    "Fourteen",
    "Fifteen",
    "Sixteen",
    "Seventeen",
    "Eighteen",
    "Nineteen",
]
_TENS = ["", "", "Twenty", "Thirty", "Forty", "Fifty", "Sixty", "Seventy", "Eighty", "Ninety"]


def number_words(n: int) -> str:
    """CamelCase English words of a non-negative integer (< 10⁶): 25 → 'TwentyFive', 1000 → 'OneThousand'."""
    if n == 0:
        return "Zero"
    if n >= 1000:
        return number_words(n // 1000) + "Thousand" + (number_words(n % 1000) if n % 1000 else "")
    if n >= 100:
        return _ONES[n // 100] + "Hundred" + (number_words(n % 100) if n % 100 else "")
    if n >= 20:
        return _TENS[n // 10] + _ONES[n % 10]
    return _ONES[n]


def camel(text: Any) -> str:
    """Letters-only CamelCase of a name: 'fashion_mnist' → 'FashionMnist', 'p99.9' → 'PNineNineDotNine', 'k-0.5' → 'KMinusZeroDotFive'."""
    out = []
    text = re.sub(r"-(?=[\d.])", " Minus ", str(text))  # k-0.5 and k0.5 must not collide
    for part in re.split(r"[^A-Za-z0-9.]+", text):
        for tok in re.findall(r"[A-Za-z]+|\d|\.", part):
            out.append("Dot" if tok == "." else (_DIGITS[int(tok)] if tok.isdigit() else tok[0].upper() + tok[1:]))
    return "".join(out) or "X"


def macro_name(*parts: Any) -> str:
    """A valid LaTeX macro name from parts; integers become words."""
    return "".join(number_words(p) if isinstance(p, (int, np.integer)) and p >= 0 else camel(p) for p in parts)


def tex_escape(text: Any) -> str:
    """Escape text for use inside a macro body."""
    return latex_escape(text)


def pct(x: float, digits: int = 1, sign: bool = False, latex: bool = True) -> str:
    """A fraction as a percentage string ('97.3'; '$+1.2$' with ``sign``, a true minus in LaTeX; 'n/a' if NaN)."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    if not sign:
        return f"{100 * x:.{digits}f}"
    text = f"{100 * x:+.{digits}f}"
    return f"${text}$" if latex else text.replace("-", "\u2212")


def fmt_ci(row: pd.Series, digits: int = 1, latex: bool = True) -> str:
    """'[a, b]' in percentage points, or 'n/a' (single replicate)."""
    if pd.isna(row.get("ci_low")):
        return "n/a"
    return f"[{pct(row['ci_low'], digits, True, latex)}, {pct(row['ci_high'], digits, True, latex)}]"


def human_list(items: Iterable[Any]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    items = [str(i) for i in items]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


class Macros:
    """An ordered collection of ``\\newcommand`` definitions."""

    def __init__(self) -> None:
        self.defs: dict[str, str] = {}

    def add(self, name: str, value: Any) -> None:
        """Define ``\\name`` (later definitions of the same name win)."""
        if not re.fullmatch(r"[A-Za-z]+", name):
            raise ValueError(f"invalid macro name {name!r}")
        self.defs[name] = str(value)

    def render(self, header: str = "") -> str:
        """The macro file's text."""
        lines = ["% Generated by snnconv.report.macros -- do not edit; every number in the paper comes from here."]
        if header:
            lines.append(f"% {header}")
        lines += [f"\\newcommand{{\\{k}}}{{{v}}}" for k, v in self.defs.items()]
        return "\n".join(lines) + "\n"


def setup_macros(m: Macros, run: dict[str, Any]) -> None:
    """Macros describing the run, from the paper rule's params (settings.paper): what every job was given."""
    sim, st, tr, conv = run["simulation"], run["stats"], run["training"], run["conversion"]
    m.add("DatasetList", human_list(tex_escape(dataset_label(d)) for d in run["datasets"]))
    m.add("ArchList", human_list(tex_escape(arch_label(a)) for a in run["archs"]))
    m.add("NumDatasets", len(run["datasets"]))
    m.add("NumArchs", len(run["archs"]))
    m.add("NumSeeds", len(run["seeds"]))
    m.add("SeedList", human_list(run["seeds"]))
    m.add("NumInputSeeds", len(run["input_seeds"]))
    m.add("NumReplicates", len(run["seeds"]) * len(run["input_seeds"]))
    m.add("Tmax", sim["T"])
    m.add("TPointList", human_list(run["T_points"]))
    m.add("LowT", min(run["T_points"]))
    m.add("WithinPct", f"{100 * run['within']:g}")
    m.add("Encoding", tex_escape(sim["encoding"]))
    m.add("MaxRate", f"{sim['max_rate']:g}")
    m.add("ResetMode", tex_escape(sim["reset"]))
    m.add("DecodeMode", tex_escape(sim["decode"]))
    m.add("TestSubset", sim["test_subset"] if sim["test_subset"] else "all")
    m.add("Epochs", tr["epochs"])
    m.add("Optimizer", tex_escape(tr["optimizer"]))
    m.add("NormSetSize", conv["norm_set_size"])
    m.add("NormList", human_list(r"\texttt{" + tex_escape(n) + "}" for n in run["norms"]))
    m.add("NumNorms", len(run["norms"]))
    sweep = run["sweep"]
    m.add("NumSweepNorms", run["n_sweep_norms"])
    m.add("NumConvertedNorms", run["n_converted_norms"])
    m.add(
        "SweepPList",
        human_list(r"$\infty$" if str(p) == "inf" else f"{float(p):g}" for p in sweep["p"]) or "none",
    )
    m.add("SweepKList", human_list(f"{float(k):g}" for k in sweep["k"]) or "none")
    m.add("SweepModeList", human_list(tex_escape(x) for x in sweep["mode"]) or "none")
    m.add("StatsNormList", human_list(r"\texttt{" + tex_escape(n) + "}" for n in run["stats_norms"]))
    m.add("StatsT", st["T"])
    m.add("StatsNeurons", st["neurons_per_layer"])
    m.add("StatsSamples", st["samples"])
    m.add("CILevel", "95")
    m.add("VarPList", human_list(r"$\infty$" if math.isinf(p) else f"{p:g}" for p in P_VALUES))


def l4_setting_macros(m: Macros, df: pd.DataFrame, l4: str | None) -> None:
    """k, mode and base of the L4 setting, as its conversion recorded them (columns of accuracy_all.csv)."""
    rows = df[df["norm"] == l4] if l4 else df.iloc[:0]
    if len(rows):
        r = rows.iloc[0]
        m.add("LFourK", f"{float(r['k']):g}")
        m.add("LFourMode", tex_escape(str(r["mode"])))
        m.add("LFourBase", tex_escape(str(r["base"])))
    else:
        for name in ("LFourK", "LFourMode", "LFourBase"):
            m.add(name, "n/a")


def accuracy_macros(m: Macros, df: pd.DataFrame, config: dict[str, Any]) -> None:
    """Per dataset × arch (× norm × T) accuracy, ANN accuracy and timesteps to within."""
    ann = ann_reference(df)
    for r in ann.itertuples(index=False):
        m.add(macro_name("AnnAcc", r.dataset, r.arch), pct(r.mean))
    m.add("AnnAccMean", pct(float(ann["mean"].mean())) if len(ann) else "n/a")
    Ts = [t for t in config["T_points"] if t <= int(df["t"].max())]
    acc = mean_ci(df[df["t"].isin(Ts)], ["dataset", "arch", "norm", "t"])
    for r in acc.itertuples(index=False):
        for name in _macro_norms(r.norm, config):
            m.add(macro_name("Acc", r.dataset, r.arch, name, "T", int(r.t)), pct(r.mean))
    within = timesteps_to_within(df, config["within"])
    for r in within.itertuples(index=False):
        for name in _macro_norms(r.norm, config):
            m.add(macro_name("TWithin", r.dataset, r.arch, name), r.label.replace(">", "$>$"))


def _macro_norms(norm: str, config: dict[str, Any]) -> list[str]:
    """The names a norm's macros go under: its canonical name and every role it plays (``l4`` → ``\\…LFour…``)."""
    return [norm] + [role for role, canon in (config.get("roles") or {}).items() if canon == norm]


_WORDS = {
    "Base": ("improved", "did not improve"),
    "Uniform": ("outperformed", "did not outperform"),
    "VZero": ("outperformed", "did not outperform"),
    "Plain": ("outperformed", "did not outperform"),
    "Calib": ("outperformed", "did not outperform"),
    "QCFS": ("outperformed", "did not outperform"),
}
_CONTROL_TEXT = {
    "Base": "its base normalization",
    "Uniform": "the uniform control",
    "VZero": r"the $v_0=\theta/2$ control",
    "Plain": "the best plain normalization",
    "Calib": "the best light calibration",
    "QCFS": "the best QCFS conversion",
}
# The published baselines join the verdict sentence and the table only where the run simulated them.
OPTIONAL = ("Calib", "QCFS")


def _word(test: pd.Series | None, yes: str, no: str) -> str:
    """``yes`` only when :func:`snnconv.analysis.verdicts.helped` says so; no pair at all: "could not be evaluated"."""
    if test is None or int(test["n"]) == 0:
        return "could not be evaluated"
    return yes if helped(test) else no


def _texttt(name: Any) -> str:
    """A norm name in typewriter type."""
    return r"\texttt{" + tex_escape(name) + "}"


def verdict_macros(m: Macros, df: pd.DataFrame, config: dict[str, Any]) -> pd.DataFrame:
    """The L4 adjustment at \\LowT against every control and the strongest one; returns the per-network table."""
    low_T = min(config["T_points"])
    ctl = control_names(df, config)
    l4 = ctl["l4"]
    info = norm_params(df, config).set_index("norm") if len(df) else None
    base = str(info.loc[l4, "base"]) if l4 else "max"
    l4_setting_macros(m, df, l4)
    tests = l4_tests(df, config, low_T) if l4 else pd.DataFrame(columns=TEST_COLS)
    by_key = {r["comparison"]: r for _, r in tests.iterrows()}
    sub = df[df["t"] == low_T]
    rows = []
    m.add("LFourBaseName", _texttt(base))
    for key in COMPARISONS:
        test = by_key.get(key)
        prefix = "LFour" if key == "Base" else f"LFourVs{key}"
        m.add(f"{prefix}GainLowT", pct(test["mean"], sign=True) if test is not None else "n/a")
        m.add(f"{prefix}GainLowTCI", fmt_ci(test) if test is not None else "n/a")
        m.add(f"{prefix}Verdict", _word(test, *_WORDS[key]))
        diff = paired_difference(sub, [l4], test["control"]) if test is not None else pd.DataFrame()
        if len(diff):
            per = mean_ci(diff, ["dataset", "arch"], "diff")
            per["comparison"], per["control"] = key, test["control"]
            rows.append(per)
            m.add(f"{prefix}NetsBetter", int((per["mean"] > 0).sum()))
        else:
            m.add(f"{prefix}NetsBetter", 0)
    plain = by_key.get("Plain")
    m.add("PlainBestName", _texttt(plain["control"]) if plain is not None else _texttt(base))
    m.add("NumNets", int(df[["dataset", "arch"]].drop_duplicates().shape[0]))
    m.add("UniformControlName", _texttt(ctl["uniform"] or "uniform-l4"))
    m.add("VZeroControlName", _texttt(ctl["v0half"] or "max-v0half"))
    strongest_key, won = verdict(tests)
    top = by_key.get(strongest_key) if strongest_key else None
    m.add(
        "LFourStrongestControl",
        (
            f"{_CONTROL_TEXT[strongest_key]} ({_texttt(top['control'])})"
            if top is not None
            else "none (no control was simulated)"
        ),
    )
    m.add("LFourVsStrongestGainLowT", pct(top["mean"], sign=True) if top is not None else "n/a")
    m.add("LFourVsStrongestGainLowTCI", fmt_ci(top) if top is not None else "n/a")
    m.add("LFourVsStrongestN", int(top["n"]) if top is not None else 0)
    m.add("LFourHelped", _word(top, "helped", "did not help"))
    # accuracy of l4 / base at low T, averaged over networks (for the abstract)
    for name, norm in (("LFour", l4), ("Base", base)):
        s = sub[sub["norm"] == norm]
        m.add(f"{name}AccLowT", pct(float(s["accuracy"].mean())) if len(s) else "n/a")
    gap = sub[sub["norm"] == l4]
    m.add("LFourGapLowT", pct(float((gap["accuracy"] - gap["ann_accuracy"]).mean()), sign=True) if len(gap) else "n/a")
    d = m.defs
    m.add(
        "LFourVerdictSentence",
        f"At $T={low_T}$, judged against the strongest control, {d['LFourStrongestControl']}, the $L_4$ "
        f"adjustment {d['LFourHelped']} ({d['LFourVsStrongestGainLowT']} percentage points, paired 95\\,\\% "
        f"t-interval {d['LFourVsStrongestGainLowTCI']}, $n={d['LFourVsStrongestN']}$ pairs). It "
        f"{d['LFourVerdict']} accuracy over its base normalization ({d['LFourGainLowT']} pp), "
        f"{d['LFourVsUniformVerdict']} the uniform control ({d['LFourVsUniformGainLowT']} pp), "
        f"{d['LFourVsVZeroVerdict']} the $v_0=\\theta/2$ control ({d['LFourVsVZeroGainLowT']} pp) and "
        f"{d['LFourVsPlainVerdict']} the best plain normalization ({d['LFourVsPlainGainLowT']} pp)"
        + "".join(
            f"; it {d[f'LFourVs{key}Verdict']} {_CONTROL_TEXT[key]}, {_texttt(by_key[key]['control'])} "
            f"({d[f'LFourVs{key}GainLowT']} pp)"
            for key in OPTIONAL
            if key in by_key
        ),
    )
    for key in OPTIONAL:
        m.add(f"{key}BestName", _texttt(by_key[key]["control"]) if key in by_key else "n/a")
    on_calib = l4_on_calibration(df, config, low_T) if l4 else None
    m.add("LFourOnCalibGainLowT", pct(on_calib["mean"], sign=True) if on_calib else "n/a")
    m.add("LFourOnCalibGainLowTCI", fmt_ci(on_calib) if on_calib else "n/a")
    m.add(
        "LFourOnCalibVerdict", _word(on_calib, "improved", "did not improve") if on_calib else "could not be evaluated"
    )
    m.add("LFourOnCalibBaseName", _texttt(on_calib["control"]) if on_calib else "n/a")
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()


def variance_macros(m: Macros, corr: pd.DataFrame) -> None:
    """Correlations of measured std with ‖w‖_p (mean over layers) and the best p."""
    summary = best_predictor(corr)
    for r in summary.itertuples(index=False):
        name = "LInf" if r.predictor == "Linf" else macro_name(r.predictor)
        m.add(name + "Spearman", f"{r.mean:.2f}")
        m.add(name + "Wins", int(r.wins))
    exact = corr[corr["predictor"] == EXACT] if len(corr) else corr
    m.add("ExactSpearman", f"{exact['spearman'].mean():.2f}" if len(exact) else "n/a")
    m.add("ExactPearson", f"{exact['pearson'].mean():.2f}" if len(exact) else "n/a")
    n_layers = int(summary["n_layers"].max()) if len(summary) else 0
    m.add("NumStatsLayers", n_layers)
    for name in ("LOne", "LTwo", "LThree", "LFour", "LInf"):
        m.defs.setdefault(name + "Spearman", "n/a")
    if summary.empty:
        m.add("BestP", "n/a")
        m.add("VarianceVerdict", "could not be evaluated (no membrane statistics)")
        m.add("LFourRank", "n/a")
        return
    best = summary["predictor"].iloc[0]
    p_text = r"\infty" if best == "Linf" else best[1:]
    m.add("BestP", f"${p_text}$")
    m.add("BestPSpearman", f"{summary['mean'].iloc[0]:.2f}")
    ranks = {p: i + 1 for i, p in enumerate(summary["predictor"])}
    m.add("LFourRank", ranks.get("L4", "n/a"))
    m.add("NumP", len(summary))
    # ties at the printed precision count as "among the best"
    top = round(float(summary["mean"].iloc[0]), 2)
    l4_mean = summary.set_index("predictor")["mean"].get("L4", math.nan)
    if best == "L4":
        verdict = r"the $L_4$ norm was the best of the $L_p$ predictors"
    elif not math.isnan(l4_mean) and round(float(l4_mean), 2) >= top:
        verdict = rf"the $L_4$ norm tied with $p={p_text}$ as the best $L_p$ predictor"
    else:
        verdict = rf"the $L_4$ norm was not the best $L_p$ predictor (best: $p={p_text}$)"
    m.add("VarianceVerdict", verdict)


TABLE_HEADS = {
    "Base": "vs. base",
    "Uniform": "vs. uniform control",
    "VZero": r"vs. $v_0=\theta/2$ control",
    "Plain": "vs. best plain",
    "Calib": "vs. best calibration",
    "QCFS": "vs. best QCFS",
}


def l4_comparison_table(per_net: pd.DataFrame, stem: str, base: str = "base") -> pd.DataFrame:
    """Per network: the paired L4 − control difference at \\LowT (pp, interval) for every control; wins in bold."""
    rows: dict[bool, list[dict[str, str]]] = {True: [], False: []}
    if len(per_net):
        for (dataset, arch), g in per_net.groupby(["dataset", "arch"], sort=False):
            g = g.set_index("comparison")
            for latex in (True, False):
                row = (
                    {"dataset": latex_escape(dataset_label(dataset)), "arch": latex_escape(arch_label(arch))}
                    if latex
                    else {"dataset": dataset, "arch": arch}
                )
                for key, label in TABLE_HEADS.items():
                    if key in ("Plain", *OPTIONAL) and key not in g.index:
                        continue  # the best plain normalization is the base itself; a baseline not simulated
                    head = label.replace("base", f"base ({base})") if key == "Base" else label
                    if key in ("Plain", *OPTIONAL):
                        head = f"{label} ({g.loc[key, 'control']})"
                    if not latex:
                        head = head.replace(r"$v_0=\theta/2$", "v0=θ/2")
                    elif key in ("Base", "Plain", *OPTIONAL):
                        head = latex_escape(head)
                    if key not in g.index:
                        row[head] = "--"
                        continue
                    r = g.loc[key]
                    text = pct(r["mean"], sign=True, latex=latex) + (
                        "" if pd.isna(r["ci_low"]) else " " + fmt_ci(r, latex=latex)
                    )
                    row[head] = bold(text, latex) if helped(r) else text  # the verdict rule, per network
                rows[latex].append(row)
    tex, md = pd.DataFrame(rows[True]), pd.DataFrame(rows[False])
    write_table(per_net, tex, md, stem, column_format="ll" + "r" * max(0, tex.shape[1] - 2))
    return per_net


def paper_macros(df: pd.DataFrame, corr: pd.DataFrame, config: dict[str, Any]) -> tuple[str, pd.DataFrame]:
    """The full macro file text and the per-network verdict table."""
    m = Macros()
    setup_macros(m, config)
    accuracy_macros(m, df, config)
    per_net = verdict_macros(m, df, config)
    variance_macros(m, corr)
    return m.render(), per_net
