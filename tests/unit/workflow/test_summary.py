"""The end-of-run summary (snnconv/workflow/summary.py, called from the Snakefile's onsuccess/onerror)."""

from __future__ import annotations

import pandas as pd

from snnconv.workflow.summary import error_message, failed_jobs, first_error_line, headline, success_message


def _table(path):
    rows = []
    for norm, acc in (("max", 0.5), ("lp4_k0.5_scale_max", 0.7), ("lp2_k0.5_scale_max", 0.1)):
        for iseed, noise in ((0, -0.1), (1, 0.1)):
            for t in (5, 10, 20):
                rows.append(
                    {
                        "dataset": "digits",
                        "arch": "mlp",
                        "seed": 0,
                        "norm": norm,
                        "input_seed": iseed,
                        "t": t,
                        "accuracy": acc + noise * (t == 5),
                        "ann_accuracy": 0.9,
                    }
                )
    pd.DataFrame(rows).to_csv(path, index=False)


def test_headline_shows_main_norms_with_roles_at_the_T_points(tmp_path):
    _table(tmp_path / "a.csv")
    text = headline(tmp_path / "a.csv", ["max", "lp4_k0.5_scale_max"], {"l4": "lp4_k0.5_scale_max"}, [5, 20, 50])
    lines = text.splitlines()
    assert lines[0].split() == ["dataset", "arch", "ANN", "norm", "T=5", "T=20"]  # T=50 was not simulated
    assert "lp4_k0.5_scale_max (l4)" in text and "lp2" not in text  # the sweep is left out
    assert lines[1].split()[-4:] == ["90.0", "max", "50.0", "50.0"]  # mean over replicates: (0.4 + 0.6) / 2
    assert lines[2].split()[-2:] == ["70.0", "70.0"]
    assert lines[1].startswith("digits (scikit-learn)") and " MLP " in lines[1]  # readable dataset/arch labels


def test_success_message_points_to_results_and_paper(tmp_path):
    (tmp_path / "results" / "tables").mkdir(parents=True)
    _table(tmp_path / "results" / "tables" / "accuracy_all.csv")
    text = success_message(tmp_path, {"norms": ["max"], "roles": {}, "T_points": [5]})
    assert "run complete" in text and str(tmp_path / "results") in text and "snakemake --cores all paper" in text
    assert "max" in text and "50.0" in text
    assert "headline table unavailable" in success_message(tmp_path, {"norms": ["max"], "roles": {}, "T_points": "x"})


def test_error_message_names_rule_log_and_first_error_line(tmp_path):
    rule_log = tmp_path / "logs" / "convert" / "x.log"
    rule_log.parent.mkdir(parents=True)
    rule_log.write_text(
        "2026 INFO converting\n2026 ERROR snnconv.workflow.job: rule convert failed after 1.0 s: ValueError: "
        "boom\nTraceback (most recent call last):\n  File \"x\", line 1\nValueError: norm 'p101': "
        "percentile '101' must lie in (0, 100]\n"
    )
    smk_log = tmp_path / "smk.log"
    smk_log.write_text(
        "Building DAG\nError in rule convert:\n    jobid: 3\n    log: logs/convert/x.log (check log "
        "file(s) for error details)\nShutting down\n"
    )
    assert failed_jobs(smk_log) == [("convert", "logs/convert/x.log")]
    assert first_error_line(rule_log).startswith("ValueError: norm 'p101'")
    text = error_message(tmp_path, smk_log)
    assert "rule convert: log" in text and str(rule_log) in text and "ValueError: norm 'p101'" in text
    assert "see Snakemake's log" in error_message(tmp_path, tmp_path / "missing.log")


def test_failed_jobs_found_in_rule_logs_when_snakemakes_log_is_quiet(tmp_path):
    """A profile quiet about rules leaves no "Error in rule" block; the rule logs of this run name the failure."""
    import os
    import time

    snake = tmp_path / ".snakemake" / "log" / "2026-01-02T030405.000000.snakemake.log"
    snake.parent.mkdir(parents=True)
    snake.write_text("Exiting because a job execution failed.\n")
    start = time.mktime((2026, 1, 2, 3, 4, 5, 0, 0, -1))
    new, old = tmp_path / "logs" / "train_ann" / "a.log", tmp_path / "logs" / "simulate" / "b.log"
    for path, rule in ((new, "train_ann"), (old, "simulate")):
        path.parent.mkdir(parents=True)
        path.write_text(
            f"2026 ERROR snnconv.workflow.job: rule {rule} failed after 0.1 s: ValueError: x\nValueError: bad npz\n"
        )
    os.utime(new, (start + 10, start + 10))
    os.utime(old, (start - 10, start - 10))  # a failure of an earlier run
    message = error_message(tmp_path, str(snake))
    assert f"rule train_ann: log {tmp_path / 'logs/train_ann/a.log'}" in message
    assert "ValueError: bad npz" in message and "simulate" not in message
