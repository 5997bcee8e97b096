"""Validate at the first consumer (issue 12, item 6): ``aggregate`` (scripts/aggregate.py →
snnconv.analysis.load) checks every simulation CSV and ANN summary where it enters. A non-number, NaN or
out-of-range accuracy, a missing column, a bad ``t`` or rate, or a bad ANN accuracy fails naming the file and
the line, and nothing is written under ``accuracy_all.csv``."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from test_reliability_support import assert_nothing_written, load_script

GOOD_ROWS = [{"t": t, "accuracy": 0.1 * t, "rate_fc1": 0.05 * t} for t in range(1, 6)]


def write_inputs(root: Path, rows: list[dict] | str, summary: dict | None = None) -> tuple[Path, Path]:
    """One simulation CSV (rows as dicts, or raw text) and one ANN summary in the pipeline's layout."""
    sim = root / "results" / "sim" / "digits" / "mlp" / "seed0" / "max" / "input0.csv"
    sim.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(rows, str):
        sim.write_text(rows)
    else:
        cols = list(dict.fromkeys(k for r in rows for k in r))
        sim.write_text(",".join(cols) + "\n" + "".join(",".join(str(r.get(c, "")) for c in cols) + "\n" for r in rows))
    summ = root / "results" / "models" / "digits" / "mlp" / "seed0" / "summary.json"
    summ.parent.mkdir(parents=True, exist_ok=True)
    summ.write_text(
        json.dumps(
            summary if summary is not None else {"dataset": "digits", "arch": "mlp", "seed": 0, "test_accuracy": 0.9}
        )
    )
    conv = root / "results" / "snn" / "digits" / "mlp" / "seed0" / "max" / "conversion.json"
    conv.parent.mkdir(parents=True, exist_ok=True)
    conv.write_text(json.dumps({"norm": "max", "method": "max", "params": {"base": "max", "v_init": 0.0}}))
    return sim, summ


def _row(i: int, **change) -> list[dict]:
    rows = [dict(r) for r in GOOD_ROWS]
    rows[i].update(change)
    return rows


# case -> (rows or raw CSV text, summary or None, which file is named, substrings of the message)
CASES: dict[str, tuple] = {
    "accuracy-not-a-number": (
        _row(1, accuracy="high"),
        None,
        "sim",
        ("line 3 (data row 2)", "accuracy = 'high'", "not a finite number in [0, 1]"),
    ),
    "accuracy-nan": (_row(3, accuracy="nan"), None, "sim", ("line 5 (data row 4)", "accuracy = nan")),
    "accuracy-empty-cell": (_row(0, accuracy=""), None, "sim", ("line 2 (data row 1)", "accuracy = nan")),
    "accuracy-above-one": (_row(4, accuracy=1.5), None, "sim", ("line 6 (data row 5)", "accuracy = 1.5", "[0, 1]")),
    "accuracy-negative": (_row(2, accuracy=-0.1), None, "sim", ("line 4", "accuracy = -0.1")),
    "accuracy-inf": (_row(2, accuracy="inf"), None, "sim", ("line 4", "accuracy = inf")),
    "missing-accuracy-column": ("t,rate_fc1\n1,0.1\n", None, "sim", ("lacks column(s) ['accuracy']",)),
    "header-only": ("t,accuracy\n", None, "sim", ("header but no rows",)),
    "t-not-an-integer": (_row(1, t="2.5"), None, "sim", ("line 3", "t = 2.5", "is not an integer")),
    "t-text": (_row(1, t="two"), None, "sim", ("line 3", "t = 'two'")),
    "rate-negative": (_row(0, rate_fc1=-1), None, "sim", ("line 2", "rate_fc1 = -1")),
    "rate-text": (_row(0, rate_fc1="fast"), None, "sim", ("line 2", "rate_fc1 = 'fast'")),
    "summary-accuracy-text": (
        GOOD_ROWS,
        {"dataset": "digits", "arch": "mlp", "seed": 0, "test_accuracy": "0.9"},
        "summary",
        ("test_accuracy = '0.9'", "not a number in [0, 1]"),
    ),
    "summary-accuracy-out-of-range": (
        GOOD_ROWS,
        {"dataset": "digits", "arch": "mlp", "seed": 0, "test_accuracy": 90.0},
        "summary",
        ("test_accuracy = 90.0",),
    ),
}


def run_aggregate(tmp_path: Path, sim: Path, summ: Path) -> tuple[Callable[[], int], Path]:
    out = tmp_path / "results" / "tables" / "accuracy_all.csv"
    conv = tmp_path / "results" / "snn" / "digits" / "mlp" / "seed0" / "max" / "conversion.json"
    return (lambda: load_script("aggregate").main([str(sim)], [str(summ)], [str(conv)], str(out))), out


@pytest.mark.parametrize("case", list(CASES))
def test_bad_results_are_refused_by_aggregate(tmp_path, case):
    rows, summary, named, needles = CASES[case]
    sim, summ = write_inputs(tmp_path, rows, summary)
    run, out = run_aggregate(tmp_path, sim, summ)
    with pytest.raises(ValueError) as err:
        run()
    message = str(err.value)
    assert str(sim if named == "sim" else summ) in message, message
    for needle in needles:
        assert needle in message, f"{needle!r} not in {message!r}"
    assert_nothing_written([out], tmp_path)


def test_good_results_are_aggregated(tmp_path):
    sim, summ = write_inputs(tmp_path, GOOD_ROWS)
    run, out = run_aggregate(tmp_path, sim, summ)
    assert run() == len(GOOD_ROWS)
    text = out.read_text().splitlines()
    assert text[0].startswith("dataset,arch,seed,norm,input_seed,t,accuracy,ann_accuracy") and len(text) == 6


def test_long_bad_cell_is_shown_bounded(tmp_path):
    sim, summ = write_inputs(tmp_path, _row(1, accuracy="x" * 100_000))
    run, _ = run_aggregate(tmp_path, sim, summ)
    with pytest.raises(ValueError) as err:
        run()
    assert "line 3" in str(err.value) and len(str(err.value)) < 600
