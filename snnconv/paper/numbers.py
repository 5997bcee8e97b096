"""The paper's numbers as LaTeX macros: every value in ``results/paper/macros.tex`` that is a number, a name or a list.

``results/paper/macros.tex`` holds ``\\newcommand`` definitions of

* the setup, from the paper rule's params (datasets, architectures, seeds, T, the L4 parameters …);
* per dataset × arch × norm: ANN accuracy, SNN accuracy at every report T, timesteps to reach the
  ANN within ``report.within`` (e.g. ``\\AnnAccDigitsMlp``, ``\\AccDigitsMlpLFourTTen``);
* the paired L4 − control differences at the lowest report T (``\\LowT``) with their intervals, from
  :mod:`snnconv.analysis.verdicts` (collected once in :class:`L4Evidence`, which :mod:`.prose` words);
* the variance claim's correlations of the measured membrane std with ‖w‖_p per p and with the exact prediction.

Sentences and verdict words are :mod:`.prose`'s; :mod:`.macro_file` writes both. Macro names only use letters:
digits become words (``cifar10`` → ``CifarOneZero``, ``T=25`` → ``TTwentyFive``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..analysis.controls import control_names
from ..analysis.correlations import EXACT, P_VALUES, best_predictor
from ..analysis.intervals import ann_reference, mean_ci, timesteps_to_within
from ..analysis.load import norm_params
from ..analysis.paired import paired_difference
from ..analysis.verdicts import COMPARISONS, TEST_COLS, best_plain, l4_on_calibration, l4_tests, verdict
from ..report.labels import arch_label, dataset_label
from ..report.tables import latex_escape
from .wording import format_set, human_list

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
# The published baselines join the verdict sentence and the table only where the run simulated them.
OPTIONAL = ("Calib", "QCFS")


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


def texttt(name: Any) -> str:
    """A norm name in typewriter type."""
    return r"\texttt{" + tex_escape(name) + "}"


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
        lines = ["% Generated by snnconv.paper -- do not edit; every number in the paper comes from here."]
        if header:
            lines.append(f"% {header}")
        lines += [f"\\newcommand{{\\{k}}}{{{v}}}" for k, v in self.defs.items()]
        return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------------------------------- setup


def sweep_values(run: dict[str, Any]) -> dict[str, list[str]]:
    """The sweep's p and k values as printed in math mode (p = inf as ``\\infty``) and its modes as text;
    empty lists: no sweep."""
    sweep = run.get("sweep") or {}
    return {
        "p": [r"\infty" if str(p) == "inf" else f"{float(p):g}" for p in sweep.get("p") or []],
        "k": [f"{float(k):g}" for k in sweep.get("k") or []],
        "mode": [tex_escape(x) for x in sweep.get("mode") or []],
    }


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
    m.add("TPointSet", format_set(run["T_points"]))  # math mode: $T\in\TPointSet$
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
    m.add("NormList", human_list(texttt(n) for n in run["norms"]))
    m.add("NumNorms", len(run["norms"]))
    m.add("NumSweepNorms", run["n_sweep_norms"])
    m.add("NumConvertedNorms", run["n_converted_norms"])
    m.add("StatsNormList", human_list(texttt(n) for n in run["stats_norms"]))
    m.add("StatsT", st["T"])
    m.add("StatsNeurons", st["neurons_per_layer"])
    m.add("StatsSamples", st["samples"])
    m.add("CILevel", "95")
    m.add("VarPList", human_list(r"$\infty$" if math.isinf(p) else f"{p:g}" for p in P_VALUES))


# ---------------------------------------------------------------------------------------------------- accuracy


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


# ------------------------------------------------------------------------------------------ the L4 adjustment


@dataclass
class L4Evidence:
    """Everything the paper says about the L4 adjustment at \\LowT, computed once by the verdict rules of
    :mod:`snnconv.analysis.verdicts`, so the numbers, the words and the table cannot disagree."""

    low_T: int
    l4: str | None  # the canonical name of the l4 role; None: no L4-adjusted network was simulated
    base: str  # its base normalization
    tests: pd.DataFrame  # one row per comparison (l4_tests): control, mean, interval, n, helped
    plain_is_base: bool  # the best plain normalization is the base itself (no separate Plain comparison)
    strongest_key: str | None  # the comparison the verdict is decided against (analysis.verdicts.verdict)
    on_calib: dict[str, Any] | None  # L4 on top of calibration vs calibration alone; None if not simulated
    at_low_T: pd.DataFrame  # the accuracy rows at low_T
    n_nets: int
    nets_better: dict[str, int] = field(default_factory=dict)  # comparison → networks with a positive mean
    per_net: pd.DataFrame = field(default_factory=pd.DataFrame)  # per network × comparison: mean and interval

    @property
    def by_key(self) -> dict[str, pd.Series]:
        """comparison → its test row."""
        return {r["comparison"]: r for _, r in self.tests.iterrows()}

    @property
    def top(self) -> pd.Series | None:
        """The test row of the strongest control, None without any comparison."""
        return self.by_key.get(self.strongest_key) if self.strongest_key else None


def l4_evidence(df: pd.DataFrame, config: dict[str, Any]) -> L4Evidence:
    """The pooled and per-network paired comparisons of the L4 adjustment at the lowest report T."""
    low_T = min(config["T_points"])
    l4 = control_names(df, config)["l4"]
    base = str(norm_params(df, config).set_index("norm").loc[l4, "base"]) if l4 else "max"
    tests = l4_tests(df, config, low_T) if l4 else pd.DataFrame(columns=TEST_COLS)
    sub = df[df["t"] == low_T]
    rows, better = [], {}
    for _, test in tests.iterrows():
        diff = paired_difference(sub, [l4], test["control"])
        if len(diff):
            per = mean_ci(diff, ["dataset", "arch"], "diff")
            per["comparison"], per["control"] = test["comparison"], test["control"]
            rows.append(per)
            better[test["comparison"]] = int((per["mean"] > 0).sum())
    return L4Evidence(
        low_T=low_T,
        l4=l4,
        base=base,
        tests=tests,
        plain_is_base=bool(l4) and best_plain(df, config, low_T) == base,
        strongest_key=verdict(tests)[0],
        on_calib=l4_on_calibration(df, config, low_T) if l4 else None,
        at_low_T=sub,
        n_nets=int(df[["dataset", "arch"]].drop_duplicates().shape[0]),
        nets_better=better,
        per_net=pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(),
    )


def l4_setting_macros(m: Macros, df: pd.DataFrame, l4: str | None, configured: Mapping[str, Any]) -> None:
    """k, mode and base of the L4 setting: as its conversion recorded them (columns of accuracy_all.csv), else, when
    the run simulated no L4 norm, as the config sets them (``conversion.l4``), so the Method still states the
    setting it defines instead of "n/a"."""
    rows = df[df["norm"] == l4] if l4 else df.iloc[:0]
    r = rows.iloc[0] if len(rows) else configured
    m.add("LFourK", f"{float(r['k']):g}")
    m.add("LFourMode", tex_escape(str(r["mode"])))
    m.add("LFourBase", tex_escape(str(r["base"])))


def comparison_prefix(key: str) -> str:
    """The macro prefix of a comparison: ``LFour`` for the base, ``LFourVs<key>`` for every control."""
    return "LFour" if key == "Base" else f"LFourVs{key}"


def l4_macros(m: Macros, df: pd.DataFrame, config: dict[str, Any], ev: L4Evidence) -> None:
    """Gains with intervals against every control and the strongest one, the control names, mean accuracies."""
    l4_setting_macros(m, df, ev.l4, config["l4_setting"])
    by_key, top = ev.by_key, ev.top
    m.add("LFourBaseName", texttt(ev.base))
    for key in COMPARISONS:
        test = by_key.get(key)
        m.add(f"{comparison_prefix(key)}GainLowT", pct(test["mean"], sign=True) if test is not None else "n/a")
        m.add(f"{comparison_prefix(key)}GainLowTCI", fmt_ci(test) if test is not None else "n/a")
        m.add(f"{comparison_prefix(key)}NetsBetter", ev.nets_better.get(key, 0))
    ctl = control_names(df, config)
    m.add("PlainBestName", texttt(by_key["Plain"]["control"]) if "Plain" in by_key else texttt(ev.base))
    m.add("NumNets", ev.n_nets)
    m.add("UniformControlName", texttt(ctl["uniform"] or "uniform-l4"))
    m.add("VZeroControlName", texttt(ctl["v0half"] or "max-v0half"))
    m.add("LFourVsStrongestGainLowT", pct(top["mean"], sign=True) if top is not None else "n/a")
    m.add("LFourVsStrongestGainLowTCI", fmt_ci(top) if top is not None else "n/a")
    m.add("LFourVsStrongestN", int(top["n"]) if top is not None else 0)
    # accuracy of l4 / base at low T, averaged over networks (for the abstract)
    sub = ev.at_low_T
    for name, norm in (("LFour", ev.l4), ("Base", ev.base)):
        s = sub[sub["norm"] == norm]
        m.add(f"{name}AccLowT", pct(float(s["accuracy"].mean())) if len(s) else "n/a")
    gap = sub[sub["norm"] == ev.l4]
    m.add("LFourGapLowT", pct(float((gap["accuracy"] - gap["ann_accuracy"]).mean()), sign=True) if len(gap) else "n/a")
    on_calib = ev.on_calib
    m.add("LFourOnCalibGainLowT", pct(on_calib["mean"], sign=True) if on_calib else "n/a")
    m.add("LFourOnCalibGainLowTCI", fmt_ci(on_calib) if on_calib else "n/a")
    m.add("LFourOnCalibBaseName", texttt(on_calib["control"]) if on_calib else "n/a")


# ------------------------------------------------------------------------------------------ the variance claim


@dataclass(frozen=True)
class StatsCoverage:
    """What the variance claim's mean correlations average over: each layer of each network is measured once per
    training seed and norm choice, so ``measurements`` = layers × seeds × norms when every one was recorded."""

    layers: int  # distinct layers: (dataset, arch, layer index)
    networks: int  # distinct (dataset, arch)
    seeds: int  # distinct training seeds
    norms: int  # distinct norm choices
    measurements: int  # layer × seed × norm rows with a correlation: what a mean over layers averages


def stats_coverage(corr: pd.DataFrame) -> StatsCoverage:
    """Count distinct layers, networks, seeds and norms of the L_p correlations, and the measurements averaged."""
    lp = corr[corr["predictor"] != EXACT].dropna(subset=["spearman"]) if len(corr) else corr
    if not len(lp):
        return StatsCoverage(0, 0, 0, 0, 0)

    def distinct(cols: list[str]) -> int:
        have = [c for c in cols if c in lp.columns]
        return int(lp[have].drop_duplicates().shape[0]) if have else 1

    per_predictor = best_predictor(corr)["n_layers"]
    return StatsCoverage(
        layers=distinct(["dataset", "arch", "layer_index"]),
        networks=distinct(["dataset", "arch"]),
        seeds=distinct(["seed"]),
        norms=distinct(["norm"]),
        measurements=int(per_predictor.max()) if len(per_predictor) else 0,
    )


def variance_macros(m: Macros, corr: pd.DataFrame) -> None:
    """Correlations of measured std with ‖w‖_p (mean over layer measurements), the best p and L4's rank."""
    summary = best_predictor(corr)
    for r in summary.itertuples(index=False):
        name = "LInf" if r.predictor == "Linf" else macro_name(r.predictor)
        m.add(name + "Spearman", f"{r.mean:.2f}")
        m.add(name + "Wins", int(r.wins))
    exact = corr[corr["predictor"] == EXACT] if len(corr) else corr
    m.add("ExactSpearman", f"{exact['spearman'].mean():.2f}" if len(exact) else "n/a")
    m.add("ExactPearson", f"{exact['pearson'].mean():.2f}" if len(exact) else "n/a")
    cover = stats_coverage(corr)
    m.add("NumStatsLayers", cover.layers)
    m.add("NumStatsNets", cover.networks)
    m.add("NumStatsMeasurements", cover.measurements)
    for name in ("LOne", "LTwo", "LThree", "LFour", "LInf"):
        m.defs.setdefault(name + "Spearman", "n/a")
    if summary.empty:
        m.add("BestP", "n/a")
        m.add("LFourRank", "n/a")
        return
    best = summary["predictor"].iloc[0]
    m.add("BestP", "$" + p_text(best) + "$")
    m.add("BestPSpearman", f"{summary['mean'].iloc[0]:.2f}")
    ranks = {p: i + 1 for i, p in enumerate(summary["predictor"])}
    m.add("LFourRank", ranks.get("L4", "n/a"))
    m.add("NumP", len(summary))


def p_text(predictor: str) -> str:
    """The exponent of an L_p predictor in math mode: 'L3' → '3', 'Linf' → '\\infty'."""
    return r"\infty" if predictor == "Linf" else predictor[1:]
