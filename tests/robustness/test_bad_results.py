r"""Bad or incomplete results are refused by the jobs that read them, naming the file (and line or simulation), and
nothing is written.

* Validate at the first consumer: ``aggregate`` (scripts/aggregate.py → snnconv.analysis.load) checks every
  simulation CSV and ANN summary where it enters. A non-number, NaN or out-of-range accuracy, a missing column, a
  bad ``t`` or rate, or a bad ANN accuracy fails naming the file and the line, and nothing is written under
  ``accuracy_all.csv``.
* Reports refuse results that do not cover what they claim (snnconv.analysis.load.check_coverage). The aggregating
  job checks that every simulation CSV holds t = 1, …, simulation.T; the table and figure jobs that print
  report.T_points check that every simulation has a row at each; the paper's macros check both, since the paper
  prints \Tmax. Each refusal names the CSV (and the simulation). Through snakemake: a finished run whose
  simulation.T is raised and marked up to date with ``--touch`` is refused by the report, where the tables used to
  drop the new T column silently while the paper printed the new T."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from helpers.figure_data import config, rendered
from helpers.workflow import assert_nothing_written, load_script, run_snakemake, tiny_config, write_config

from snnconv.workflow import settings
from snnconv.workflow.config import ConfigError, validate_config

# === Bad results refused by aggregate ===============================================================================


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


# === Results that do not cover what a report prints =================================================================


ROWS = [{"t": t, "accuracy": 0.5 + 0.01 * t} for t in range(1, 21)]


def test_aggregate_refuses_a_csv_that_does_not_end_at_T(tmp_path):
    sim, summ = write_inputs(tmp_path, ROWS)
    conv = tmp_path / "results" / "snn" / "digits" / "mlp" / "seed0" / "max" / "conversion.json"
    out = tmp_path / "results" / "tables" / "accuracy_all.csv"
    script = load_script("aggregate")
    with pytest.raises(ValueError) as err:
        script.main([str(sim)], [str(summ)], [str(conv)], str(out), T=30)
    assert str(sim) in str(err.value) and "simulated to t = 20, but simulation.T = 30" in str(err.value)
    assert_nothing_written([out], tmp_path)
    assert script.main([str(sim)], [str(summ)], [str(conv)], str(out), T=20) == 20


@pytest.mark.parametrize(
    "ts, line, want",
    [
        ([1, 2, 4, 5], 4, "t = 4, expected 3"),
        ([1, 2, 2, 3], 4, "t = 2, expected 3"),
        ([2, 1, 3], 2, "t = 2, expected 1"),
    ],
)
def test_aggregate_refuses_gaps_repeats_and_disorder(tmp_path, ts, line, want):
    sim, summ = write_inputs(tmp_path, [{"t": t, "accuracy": 0.5} for t in ts])
    conv = tmp_path / "results" / "snn" / "digits" / "mlp" / "seed0" / "max" / "conversion.json"
    out = tmp_path / "results" / "tables" / "accuracy_all.csv"
    with pytest.raises(ValueError) as err:
        load_script("aggregate").main([str(sim)], [str(summ)], [str(conv)], str(out))
    assert f"{sim}: line {line}: {want}" in str(err.value)
    assert_nothing_written([out], tmp_path)


def short_results(tmp_path: Path, T: int) -> tuple[Path, dict]:
    """accuracy_all.csv of the synthetic results cut at t = T, and the settings of the paper config."""
    df = pd.read_csv(rendered()["table"])
    table = tmp_path / "results" / "tables" / "accuracy_all.csv"
    table.parent.mkdir(parents=True)
    df[df["t"] <= T].to_csv(table, index=False)
    return table, config()


def test_tables_refuse_results_lacking_a_T_point(tmp_path):
    table, cfg = short_results(tmp_path, 10)
    report = settings.report(cfg)
    stems = [tmp_path / "results" / "tables" / f"{n}.csv" for n in ("accuracy_main", "accuracy_full", "best_method")]
    with pytest.raises(ValueError) as err:
        load_script("tables").main(str(table), report, [5, 10, 60], report["within"], *map(str, stems))
    msg = str(err.value)
    assert msg.startswith(f"{table}: the simulation ") and "has no row at t = 60" in msg and "ends at t = 10" in msg
    assert "results/sim/" in msg and "/input" in msg  # the simulation's own CSV is named
    assert_nothing_written([s.with_suffix(e) for s in stems for e in (".csv", ".tex", ".md")])


@pytest.mark.parametrize("stem", ["low_T_gap", "accuracy_vs_T", "coefficient_sweep"])
def test_figures_with_T_points_refuse_results_lacking_one(tmp_path, stem):
    table, cfg = short_results(tmp_path, 10)
    pdf = tmp_path / "results" / "figures" / f"{stem}.pdf"
    conv = settings.report_norms(cfg)
    with pytest.raises(ValueError, match=r"has no row at t = 60"):
        if stem == "coefficient_sweep":
            load_script("fig_coefficient_sweep").main(str(table), conv, [5, 10, 60], str(pdf))
        else:  # a chart: the generic figure rule's script
            load_script("figure").main(str(table), stem, conv, [5, 10, 60], str(pdf))
    assert not pdf.parent.exists() or not list(pdf.parent.iterdir())


def test_paper_macros_refuse_results_that_end_before_T(tmp_path):
    T = int(pd.read_csv(rendered()["table"])["t"].max())
    table, cfg = short_results(tmp_path, T - 1)
    run = settings.paper(cfg)
    run["T_points"] = [t for t in run["T_points"] if t < T]  # every T point is there: only \Tmax is wrong
    corr = tmp_path / "corr.csv"
    pd.DataFrame(columns=["predictor", "spearman", "pearson"]).to_csv(corr, index=False)
    macros, l4_csv = tmp_path / "macros.tex", tmp_path / "l4_comparison.csv"
    with pytest.raises(ValueError) as err:
        load_script("paper_macros").main(str(table), str(corr), run, str(macros), str(l4_csv))
    assert f"ends at t = {T - 1}, but simulation.T = {T}" in str(err.value) and str(table) in str(err.value)
    assert_nothing_written([macros, l4_csv])


def test_check_coverage_names_the_first_simulation_lacking_a_point():
    from snnconv.analysis.load import check_coverage

    rows = [
        {"dataset": "digits", "arch": "mlp", "seed": s, "norm": n, "input_seed": 0, "t": t}
        for s in (0, 1)
        for n in ("max", "l4")
        for t in range(1, 11 if (s, n) != (1, "l4") else 6)
    ]
    df = pd.DataFrame(rows)
    check_coverage(df, "x.csv", [5], T=None)
    with pytest.raises(ValueError) as err:
        check_coverage(df, "x.csv", [5, 10])
    msg = str(err.value)
    assert "digits/mlp seed 1, norm l4, input seed 0" in msg and "results/sim/digits/mlp/seed1/l4/input0.csv" in msg
    assert "no row at t = 10" in msg and "1 of 4 simulations" in msg
    with pytest.raises(ValueError, match=r"ends at t = 5, but simulation.T = 10 \(1 of 4"):
        check_coverage(df, "x.csv", T=10)


@pytest.mark.parametrize("within", [1, 1.0, 1.5, 100])
def test_report_within_must_be_a_fraction_below_one(within):
    cfg = tiny_config()
    cfg["report"]["within"] = within
    with pytest.raises(ConfigError, match=rf"config error at 'report.within': {within} is greater than or equal"):
        validate_config(cfg)


@pytest.mark.integration
def test_touched_run_with_a_new_T_is_refused_by_the_report(tiny_run, tmp_path):
    """simulation.T raised to 30 and every output marked up to date (``--touch``): each report job that runs
    refuses the results of T = 20, naming the CSV, instead of printing \\Tmax{30} over them."""
    work = tmp_path / "run"
    for part in ("results", ".snakemake"):
        shutil.copytree(tiny_run / part, work / part, symlinks=True)
    cfg = tiny_config()
    cfg["simulation"]["T"] = 30
    cfg["report"]["T_points"] = [5, 10, 30]
    config_file = write_config(tmp_path / "T30.yaml", cfg)
    run_snakemake(work, config_file, "--touch", timeout=300)
    sim = "results/sim/digits/mlp/seed0/max/input0.csv"
    for target, log, want in (
        ("paper_macros", "paper/paper_macros.log", "ends at t = 20, but simulation.T = 30"),
        ("tables", "figures/tables.log", "has no row at t = 30"),
        ("aggregate", "figures/aggregate.log", "simulated to t = 20, but simulation.T = 30"),
    ):
        proc = run_snakemake(work, config_file, target, "--forcerun", target, check=False, timeout=300)
        assert proc.returncode != 0, f"{target} accepted results of T = 20 under T = 30"
        text = (work / "logs" / log).read_text()
        assert want in text and sim in text, text[-2000:]
    assert not (work / "results" / "paper" / "macros.tex").exists()
