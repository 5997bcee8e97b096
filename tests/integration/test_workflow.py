"""Integration: the real workflow, run by snakemake on a tiny config, plus lint and dry runs."""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile

import pandas as pd
import pytest
import yaml
from helpers import REPO
from helpers.tiny import SNAKEMAKE, run_snakemake

pytestmark = pytest.mark.integration


def test_tiny_workflow_produces_every_stage(tiny_run):
    res = tiny_run / "results"
    assert (res / "data" / "digits.npz").exists() and (res / "data" / "digits.json").exists()
    assert (res / "models" / "digits" / "mlp" / "seed0" / "model.pt").exists()
    # tiny.yaml names the role l4 (k 0.5, scale, max): its results live under the canonical name
    assert not (res / "snn" / "digits" / "mlp" / "seed0" / "l4").exists()
    for norm in ("max", "lp4_k0.5_scale_max"):
        assert (res / "snn" / "digits" / "mlp" / "seed0" / norm / "network.pt").exists()
        frame = pd.read_csv(res / "sim" / "digits" / "mlp" / "seed0" / norm / "input0.csv")
        assert list(frame["t"]) == list(range(1, 21))
        assert frame["accuracy"].between(0, 1).all()
    assert (res / "stats" / "digits" / "mlp" / "seed0" / "max.csv").exists()
    assert not list(res.rglob("*.tmp*")), "temporary files left behind"
    for rule in ("prepare_data", "train_ann", "normalize", "simulate"):
        assert list((tiny_run / "logs" / rule).rglob("*.log")), f"no log for {rule}"
        assert list((tiny_run / "benchmarks" / rule).rglob("*.tsv")), f"no benchmark for {rule}"


def test_rerun_is_a_noop(tiny_run):
    proc = run_snakemake(tiny_run, "-n")
    assert "Nothing to be done" in proc.stdout + proc.stderr


def test_lint_is_clean():
    proc = subprocess.run(
        [*SNAKEMAKE, "--lint", "-s", str(REPO / "Snakefile")], capture_output=True, text=True, cwd=REPO, timeout=300
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("config", ["config.yaml", "paper.yaml", "paper-cpu.yaml"])
def test_dry_run(tmp_path, config):
    proc = run_snakemake(tmp_path, "-n", "--quiet", "rules", config=REPO / "config" / config)
    out = proc.stdout + proc.stderr
    assert "simulate" in out
    total = int(re.search(r"^total\s+(\d+)\s*$", out, re.MULTILINE).group(1))
    if config == "paper.yaml":  # one job per (model, norm) and per (model, base), not two per norm
        counts = dict(re.findall(r"^(\w+)\s+(\d+)\s*$", out, re.MULTILINE))
        assert total <= 2500 and counts["simulate"] == "2160" and counts["normalize"] == "162", out[-2000:]
    if config == "paper-cpu.yaml":  # MLP and CNN on the digits; six-conv VGG, VGG-16 and resnet8 on CIFAR-10
        counts = dict(re.findall(r"^(\w+)\s+(\d+)\s*$", out, re.MULTILINE))
        assert counts["train_ann"] == counts["train_qcfs"] == str(7 * 3), out[-2000:]


def test_bad_config_fails_before_any_job(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text((REPO / "tests" / "configs" / "tiny.yaml").read_text() + "\nbogus_key: 1\n")
    proc = run_snakemake(tmp_path / "w", config=bad, check=False)
    assert proc.returncode != 0
    assert "bogus_key" in proc.stdout + proc.stderr
    assert not (tmp_path / "w" / "results").exists()


def test_rule_scripts_read_no_config():
    """What changes a result reaches a job as a param: rule scripts never read snakemake.config."""
    offenders = [p.name for p in (REPO / "scripts").glob("*.py") if re.search(r"\.config\b|\bconfig\[", p.read_text())]
    assert not offenders, f"rule scripts reading the config: {offenders}"
    unbound = [p.name for p in (REPO / "scripts").glob("*.py") if "run_job(" not in p.read_text()]
    assert not unbound, f"rule scripts not bound by snnconv.workflow.job.run_job: {unbound}"


def test_dag_time_code_imports_no_torch():
    code = (
        "import sys; sys.argv = ['snakemake', '-n', '-s', sys.argv[1], '--directory', sys.argv[2], "
        "'--configfile', sys.argv[3], '--cores', '1']; import atexit; "
        "atexit.register(lambda: print('TORCH', 'torch' in sys.modules)); from snakemake.cli import main; main()"
    )
    with tempfile.TemporaryDirectory() as work:
        proc = subprocess.run(
            [sys.executable, "-c", code, str(REPO / "Snakefile"), work, str(REPO / "tests" / "configs" / "tiny.yaml")],
            capture_output=True,
            text=True,
            timeout=300,
        )
    out = proc.stdout + proc.stderr
    assert "TORCH False" in out, out[-3000:]


def test_failed_job_puts_its_traceback_in_its_log(tmp_path):
    """The rule log (where Snakemake tells the user to look) holds the exception, its message and traceback."""
    bad = tmp_path / "bad.yaml"
    cfg = yaml.safe_load((REPO / "tests" / "configs" / "tiny.yaml").read_text())
    cfg["conversion"]["norms"] = ["max"]
    bad.write_text(yaml.safe_dump(cfg))
    work = tmp_path / "w"
    run_snakemake(work, "--until", "prepare_data", config=bad)
    (work / "results" / "data" / "digits.npz").write_bytes(b"not an npz")  # corrupt the prepared data
    proc = run_snakemake(work, "--until", "train_ann", config=bad, check=False)
    assert proc.returncode != 0
    log = (work / "logs" / "train_ann" / "digits" / "mlp" / "seed0.log").read_text()
    assert "rule train_ann failed" in log and "Traceback (most recent call last)" in log and "digits.npz" in log
    assert not (work / "results" / "models" / "digits" / "mlp" / "seed0" / "model.pt").exists()
    # the end-of-run summary (onerror) names the rule, its log and the first line of the error
    out = proc.stdout + proc.stderr
    summary = out[out.index("snnconv: run FAILED.") :]
    assert "rule train_ann: log" in summary and "logs/train_ann/digits/mlp/seed0.log" in summary
    assert "digits.npz" in summary.splitlines()[2]


# Known results of tests/configs/tiny.yaml, measured on CPU (torch 2.13.0+cpu, one thread, Python 3.11):
# ANN 0.69; SNN accuracy at T = 5 / 10 / 20: max 0.68 / 0.70 / 0.67, L4 (lp4, k 0.5, scale, base max)
# 0.71 / 0.68 / 0.69. Training and spike generation are seeded and bitwise deterministic on one CPU
# thread; another CPU's float rounding (e.g. a different GEMM kernel) may flip a few borderline images.
# The test set has 100 images (0.01 each): the tolerance of 0.03 allows three flips, and a broken
# normalization, adjustment or decoder moves these numbers by far more.
TINY_ANN = 0.69
TINY_SNN = {"max": {5: 0.64, 10: 0.69, 20: 0.68}, "l4": {5: 0.68, 10: 0.66, 20: 0.69}}  # counter stream
TINY_TOL = 0.03


def _tiny_rows(table: pd.DataFrame, role: str) -> pd.DataFrame:
    """Rows of the tidy table for the role's norm, found by its parsed parameters (not by name or path)."""
    if role == "max":
        pick = (table["method"] == "max") & (table["v_init"] == 0)
    else:
        pick = (
            (table["method"] == "lp")
            & (table["p"] == 4)
            & (table["k"] == 0.5)
            & (table["mode"] == "scale")
            & (table["base"] == "max")
        )
    rows = table[pick]
    assert rows["norm"].nunique() == 1, f"{role}: {rows['norm'].unique()}"
    return rows


def test_tiny_run_reproduces_known_accuracies(tiny_run):
    table = pd.read_csv(tiny_run / "results" / "tables" / "accuracy_all.csv")
    assert table["ann_accuracy"].unique().tolist() == pytest.approx([TINY_ANN], abs=TINY_TOL)
    for role, expected in TINY_SNN.items():
        rows = _tiny_rows(table, role).set_index("t")
        got = {t: float(rows.loc[t, "accuracy"]) for t in expected}
        assert got == pytest.approx(expected, abs=TINY_TOL), (role, got)


def test_tiny_run_figures_plot_the_table_numbers(tiny_run):
    from helpers.figures_check import check_figures_against_table

    res = tiny_run / "results"
    checked = check_figures_against_table(res / "figures", res / "tables")
    assert {"accuracy_vs_T.csv", "low_T_gap.csv", "coefficient_sweep.csv", "accuracy_main.csv"} <= set(checked)


def test_an_error_while_a_script_imports_lands_in_its_rule_log(tmp_path):
    """A broken install (a module the script imports is missing) is reported in the rule log, with traceback."""
    script = tmp_path / "broken.py"
    text = (
        (REPO / "scripts" / "tables.py")
        .read_text()
        .replace("import logging\n", "import logging\nimport no_such_module_xyz\n", 1)
    )
    script.write_text(text)
    log = tmp_path / "logs" / "tables.log"
    code = (
        "import runpy, sys, types; sm = types.SimpleNamespace(log=[sys.argv[2]], rule='tables'); "
        "runpy.run_path(sys.argv[1], init_globals={'snakemake': sm}, run_name='__main__')"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(script), str(log)], capture_output=True, text=True, timeout=120, cwd=REPO
    )
    assert proc.returncode != 0
    content = log.read_text()
    assert "rule tables failed" in content and "no_such_module_xyz" in content and "Traceback" in content


def test_dataset_archs_and_epochs_by_dataset_choose_each_datasets_models(tmp_path):
    """`dataset_archs` replaces `archs` per dataset (a CNN for MNIST only), `epochs_by_dataset` its epochs."""
    cfg = yaml.safe_load((REPO / "tests" / "configs" / "tiny.yaml").read_text())
    cfg.update(datasets=["digits", "mnist"], archs=["mlp"], dataset_archs={"mnist": ["cnn"]})
    cfg["training"]["epochs_by_dataset"] = {"mnist": 2}
    path = tmp_path / "pairs.yaml"
    path.write_text(yaml.safe_dump(cfg))
    proc = run_snakemake(tmp_path, "-n", "-p", "--quiet", "rules", config=path)
    out = proc.stdout + proc.stderr
    counts = dict(re.findall(r"^(\w+)\s+(\d+)\s*$", out, re.MULTILINE))
    assert counts["train_ann"] == "2", out[-2000:]  # digits/mlp and mnist/cnn, not the 2 x 1 cross product + cnn
    from snnconv.workflow import settings
    from snnconv.workflow.config import model_pairs, validate_config

    cfg = validate_config(cfg)
    assert model_pairs(cfg) == [("digits", "mlp"), ("mnist", "cnn")]
    assert settings.training(cfg, "mnist")["epochs"] == 2 and settings.training(cfg, "digits")["epochs"] == 3
