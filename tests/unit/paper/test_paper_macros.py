"""Paper macros: every number generated, verdicts computed from data, main.tex free of typed numbers."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from helpers.figure_data import REPO, config, rendered

from snnconv.paper.macro_file import paper_macros
from snnconv.paper.numbers import Macros, camel, macro_name, number_words


def _defs(text: str) -> dict[str, str]:
    return dict(re.findall(r"\\newcommand\{\\([A-Za-z]+)\}\{(.*)\}", text))


def test_macro_names_are_letters_only():
    assert (
        number_words(25) == "TwentyFive"
        and number_words(1000) == "OneThousand"
        and number_words(110) == "OneHundredTen"
    )
    assert camel("fashion_mnist") == "FashionMnist" and camel("p99.9") == "PNineNineDotNine"
    assert camel("uniform_k-0.5_scale_max") != camel("uniform_k0.5_scale_max")
    assert macro_name("AnnAcc", "cifar10", "vgg") == "AnnAccCifarOneZeroVgg"
    with pytest.raises(ValueError):
        Macros().add("Bad1", "x")


def test_generated_macros_cover_the_text():
    out = rendered()
    defs = _defs(out["macros"].read_text())
    used = set(re.findall(r"\\([A-Za-z]+)", (REPO / "paper" / "main.tex").read_text()))
    generated_style = {n for n in used if n[0].isupper() and n not in {"Var"}}
    missing = sorted(n for n in generated_style if n not in defs and n not in {"L"})
    assert not missing, f"main.tex uses macros that are not generated: {missing}"
    assert defs["AnnAccDigitsMlp"] == f"{100 * _ann(out, 'mlp'):.1f}"
    assert defs["LowT"] == "5" and defs["Tmax"] == "60" and defs["NumReplicates"] == "2"
    assert defs["LFourVerdict"] == _expected_verdict(out)
    assert defs["BestP"].startswith("$")
    assert "AccDigitsCnnLFourTTwenty" in defs and "TWithinDigitsMlpNone" in defs


def _expected_verdict(out) -> str:
    """The base verdict recomputed from the table: paired l4 − base differences at the lowest T, 95 % t-CI > 0."""
    import math

    from scipy import stats

    from snnconv.analysis.controls import control_names
    from snnconv.convert import parse_norm

    df = pd.read_csv(out["table"], usecols=["dataset", "arch", "seed", "input_seed", "norm", "t", "accuracy"])
    conv = out["config"]["conversion"]
    l4 = control_names(df, conv)["l4"]
    base = parse_norm(l4, conv).base_name
    keys = ["dataset", "arch", "seed", "input_seed"]
    low = df[df["t"] == min(out["config"]["report"]["T_points"])]
    d = low[low["norm"] == l4].merge(low[low["norm"] == base], on=keys)
    diff = d["accuracy_x"] - d["accuracy_y"]
    lo = diff.mean() - stats.t.ppf(0.975, len(diff) - 1) * diff.std(ddof=1) / math.sqrt(len(diff))
    return "improved" if lo > 0 else "did not improve"


def _ann(out, arch):
    df = pd.read_csv(out["table"], usecols=["arch", "ann_accuracy"])
    return float(df[df["arch"] == arch]["ann_accuracy"].iloc[0])


def test_paper_text_has_no_hand_typed_results():
    body = (REPO / "paper" / "main.tex").read_text().split(r"\begin{document}")[1]
    body = "\n".join(l.split("%")[0] for l in body.splitlines())
    assert not re.findall(r"\d+\.\d+|\d+\s*\\?%", body), "numbers in main.tex must come from macros.tex"


def _verdict_frame(l4_better: bool, roles: dict[str, str]) -> pd.DataFrame:
    rows = []
    params = {
        "max": ("max", None, None),
        roles["l4"]: ("max", 0.5, "scale"),
        roles["uniform-l4"]: ("max", 0.5, "scale"),
        "max-v0half": ("max", None, None),
    }
    for norm, acc in (
        ("max", 0.5),
        (roles["l4"], 0.6 if l4_better else 0.4),
        (roles["uniform-l4"], 0.5),
        ("max-v0half", 0.55),
    ):
        base, k, mode = params[norm]
        for iseed, noise in ((0, -0.01), (1, 0.0), (2, 0.01)):
            rows.append(
                {
                    "dataset": "digits",
                    "arch": "mlp",
                    "seed": 0,
                    "input_seed": iseed,
                    "norm": norm,
                    "t": 5,
                    "accuracy": acc + noise,
                    "ann_accuracy": 0.9,
                    "base": base,
                    "k": k,
                    "mode": mode,
                }
            )
    return pd.DataFrame(rows)


@pytest.mark.parametrize("better", [True, False])
def test_verdicts_follow_the_data(better):
    from snnconv.workflow import settings

    run = settings.paper(config())
    text, per_net = paper_macros(_verdict_frame(better, run["roles"]), pd.DataFrame(columns=["predictor"]), run)
    d = _defs(text)
    assert d["LFourVerdict"] == ("improved" if better else "did not improve")
    assert d["LFourVsUniformVerdict"] == ("outperformed" if better else "did not outperform")
    assert d["LFourGainLowT"] == ("$+10.0$" if better else "$-10.0$")
    assert d["LFourK"] == "0.5" and d["LFourMode"] == "scale" and d["LFourBase"] == "max"  # from the results
    assert set(per_net["comparison"]) == {"Base", "Uniform", "VZero"}
    assert "could not be evaluated" in d["VarianceVerdict"]
