"""Accuracy tables: numbers, bold best entries, Markdown, and LaTeX that compiles (booktabs)."""

from __future__ import annotations

import math
import re

import pandas as pd
import pytest
from helpers.figure_data import rendered

from snnconv.analysis.summaries import accuracy_summary
from snnconv.report.tables import accuracy_tables, fmt_pct, latex_escape, to_markdown


def _frame() -> pd.DataFrame:
    """Two norms × two replicates × T = 4; 'good' reaches the ANN (0.9) within 0.01 at t = 3, 'bad' never."""
    rows = []
    curves = {"good": [0.5, 0.8, 0.895, 0.9], "bad": [0.1, 0.2, 0.3, 0.4]}
    for norm, curve in curves.items():
        for iseed, shift in ((0, -0.01), (1, 0.01)):
            for t, a in enumerate(curve, 1):
                rows.append(
                    {
                        "dataset": "digits",
                        "arch": "mlp",
                        "seed": 0,
                        "input_seed": iseed,
                        "norm": norm,
                        "t": t,
                        "accuracy": a + shift if t < 3 else a,
                        "ann_accuracy": 0.9,
                    }
                )
    return pd.DataFrame(rows)


def test_accuracy_summary_numbers():
    tidy = accuracy_summary(_frame(), [1, 4, 99], within=0.01)
    acc = tidy[tidy["quantity"] == "accuracy"].set_index(["norm", "T"])
    assert acc.loc[("good", 1), "mean"] == pytest.approx(0.5) and acc.loc[("good", 1), "std"] == pytest.approx(
        0.01414, abs=1e-4
    )
    assert acc.loc[("good", 1), "n"] == 2
    assert 99 not in tidy["T"].dropna().tolist()  # T points beyond the simulation are dropped
    ann = tidy[tidy["quantity"] == "ann_accuracy"].iloc[0]
    assert ann["norm"] == "ANN" and ann["mean"] == pytest.approx(0.9)
    w = tidy[tidy["quantity"] == "t_within"].set_index("norm")
    assert w.loc["good", "mean"] == 3 and w.loc["good", "label"] == "3"
    assert math.isnan(w.loc["bad", "mean"]) and w.loc["bad", "label"] == "> 4"


def test_accuracy_tables_bold_best(tmp_path):
    accuracy_tables(_frame(), [1, 4], 0.01, tmp_path / "acc")
    md = [re.sub(r" +", " ", line) for line in (tmp_path / "acc.md").read_text().splitlines()]  # cells are padded
    good = next(l for l in md if "| good |" in l)
    bad = next(l for l in md if "| bad |" in l)
    assert "**50.0 ± 1.4**" in good and "**3**" in good and "**" not in bad and "> 4" in bad
    assert md[2].startswith("| digits | mlp | ANN | 90.0")
    tex = (tmp_path / "acc.tex").read_text()
    assert r"\toprule" in tex and r"\midrule" in tex and r"\bottomrule" in tex and r"\textbf{50.0 $\pm$ 1.4}" in tex
    assert list(pd.read_csv(tmp_path / "acc.csv").columns)[:5] == ["dataset", "arch", "norm", "quantity", "T"]


def test_formatting_helpers():
    assert fmt_pct(0.9731, 0.004) == "97.3 ± 0.4"
    assert fmt_pct(0.9731, float("nan")) == "97.3"  # one replicate: no spread
    assert latex_escape("uniform_k0.5 & 50%") == r"uniform\_k0.5 \& 50\%"
    md = to_markdown(pd.DataFrame({"a": ["x|y"], "b": ["1"]}))  # pipe escaped; "1" stays a left-aligned string
    assert md == "| a    | b   |\n|------|-----|\n| x\\|y | 1   |\n"


def test_synthetic_tables_cover_every_norm():
    out = rendered()
    full = pd.read_csv(out["tables"] / "accuracy_full.csv")
    main = pd.read_csv(out["tables"] / "accuracy_main.csv")
    conv = out["config"]["conversion"]
    from snnconv.convert import resolve_norms

    resolved = resolve_norms(conv)
    assert set(full["norm"]) == set(resolved.names) | {"ANN"}
    assert set(main["norm"]) == set(resolved.main) | {"ANN"}
    assert not full[["mean"]].isna().all(axis=1)[full["quantity"] != "t_within"].any()
    tex = (out["tables"] / "accuracy_main.tex").read_text()
    assert r"$L_{4}$ (k=0.5)" in tex  # the main table uses legend labels
