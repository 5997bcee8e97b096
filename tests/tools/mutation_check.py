"""Mutation check: plant small, plausible bugs one at a time and report which the tests catch.

Usage::

    .venv/bin/python tests/tools/mutation_check.py           # every mutant (~10-20 min on 2 shared cores)
    .venv/bin/python tests/tools/mutation_check.py --only rho_no_sqrt verdict_mean_only
    .venv/bin/python tests/tools/mutation_check.py --list    # the mutants, their class and tests
    .venv/bin/python tests/tools/mutation_check.py --json results/bench/mutation.json

The working tree is never touched: the repository (without .git, .venv and results) is copied once
into a temporary folder; each mutant text-patches one file of that copy, runs the tests that should
notice it there (``python -m pytest`` with the copy first on ``sys.path``), and restores the file.
A mutant is *caught* when at least one of its tests fails or errors. Not part of ``make test``:
it runs the suite dozens of times.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]  # tests/tools/ -> the repository
IGNORE = shutil.ignore_patterns(
    ".git",
    ".venv",
    "results",
    ".snakemake",
    "__pycache__",
    ".pytest_cache",
    ".hypothesis",
    "logs",
    "benchmarks",
    "*.egg-info",
)
# slow or environment-bound tests that no mutant below needs (the paper's LaTeX build and its snakemake dry run
# now live in tests/integration/test_commands.py, outside the files listed below, so none is left to deselect)
DESELECT: list[str] = []

LAMBDA = [
    "tests/regression/test_pinned_lambdas.py",
    "tests/unit/convert/test_convert_norms.py",
    "tests/unit/convert/test_convert_percentile.py",
]
ADJUST = ["tests/regression/test_pinned_adjust.py", "tests/unit/convert/test_convert_adjust.py"]
BN = ["tests/regression/test_pinned_bn_stats.py", "tests/unit/convert/test_convert_layers.py"]
STATS = ["tests/regression/test_pinned_bn_stats.py", "tests/unit/simulate/test_simulate_stats.py"]
VERDICT = [
    "tests/regression/test_pinned_verdict.py",
    "tests/unit/paper/test_paper_macros.py",
    "tests/unit/paper/test_prose.py",
]
FIGURES = [
    "tests/regression/test_pinned_figures.py",
    "tests/unit/report/test_figures_collect.py",
    "tests/unit/report/test_figures_plots.py",
]
TRAIN = ["tests/regression/test_pinned_training.py", "tests/unit/train/test_training.py"]
# The analysis layer and the paper's macros: what a table or a sentence of the paper says about the data.
ANALYSIS = [
    "tests/regression/test_pinned_macros.py",
    "tests/regression/test_pinned_analysis.py",
    "tests/regression/test_pinned_verdict.py",
    "tests/unit/analysis/test_analysis_verdicts.py",
    "tests/unit/analysis/test_analysis_best.py",
    "tests/unit/report/test_figures_collect.py",
    "tests/unit/report/test_figures_variance.py",
    "tests/unit/report/test_tables.py",
    "tests/unit/paper/test_paper_macros.py",
    "tests/unit/paper/test_prose.py",
]


@dataclass
class Mutant:
    """One planted bug: replace ``old`` (must occur exactly once) by ``new`` in ``path``."""

    id: str
    cls: str
    path: str
    old: str
    new: str
    tests: list[str]
    what: str
    caught: bool | None = None
    caught_by: list[str] = field(default_factory=list)
    seconds: float = 0.0


MUTANTS = [
    # 1. λ that only function preservation would accept
    Mutant(
        "model_lambda_ignores_previous",
        "1 lambda",
        "snnconv/convert/norms.py",
        "w = layer.weight.double() * input_scale(layer, prev).double()",
        "w = layer.weight.double()",
        LAMBDA,
        "model-based λ ignores λ_{l−1}",
    ),
    Mutant(
        "percentile_fallback_to_one",
        "1 lambda",
        "snnconv/convert/norms.py",
        "return [_positive(l, m) for l, m in zip(lams, activation_max(net, images, per_channel))]",
        "return [_positive(l) for l in lams]",
        LAMBDA,
        "sparse percentile falls back to 1, not the layer max",
    ),
    Mutant(
        "model_lambda_abs_weights",
        "1 lambda",
        "snnconv/convert/norms.py",
        "bound = w.clamp(min=0).flatten(1).sum(1)",
        "bound = w.abs().flatten(1).sum(1)",
        LAMBDA,
        "model λ sums |W| instead of positive weights",
    ),
    Mutant(
        "model_lambda_ignores_bias",
        "1 lambda",
        "snnconv/convert/norms.py",
        "bound = bound + layer.bias.double().clamp(min=0)",
        "bound = bound",
        LAMBDA,
        "model λ forgets the positive bias",
    ),
    Mutant(
        "model_lambda_never_per_channel",
        "1 lambda",
        "snnconv/convert/norms.py",
        "prev = _positive(bound if per_channel[i] else bound.max().view(1))",
        "prev = _positive(bound.max().view(1))",
        LAMBDA,
        "per-channel model λ taken layer-wise",
    ),
    Mutant(
        "max_lambda_never_per_channel",
        "1 lambda",
        "snnconv/convert/activations.py",
        "m = grouped(outs[i], per_channel[i]).amax(dim=1)",
        "m = grouped(outs[i], False).amax(dim=1)",
        LAMBDA,
        "per-channel max λ taken layer-wise",
    ),
    Mutant(
        "max_lambda_from_clamped_rates",
        "1 lambda",
        "snnconv/convert/activations.py",
        "net: SpikingNetwork, images: torch.Tensor, clamp: bool = False, batch_size: int = BATCH",
        "net: SpikingNetwork, images: torch.Tensor, clamp: bool = True, batch_size: int = BATCH",
        LAMBDA,
        "λ statistics gathered on the clamped (θ = 1) model: λ ≤ 1",
    ),
    Mutant(
        "flatten_expansion_order",
        "1 lambda",
        "snnconv/convert/norms.py",
        "return lam.repeat_interleave(n_in // lam.numel()).view(1, -1)",
        "return lam.repeat(n_in // lam.numel()).view(1, -1)",
        LAMBDA,
        "per-channel λ expanded through flatten in the wrong order",
    ),
    Mutant(
        "v0half_ignored",
        "1 lambda",
        "snnconv/convert/pipeline.py",
        "raw.input_shape, v_init=spec.v_init)",
        "raw.input_shape, v_init=0.0)",
        LAMBDA,
        "<base>-v0half starts the membrane at 0",
    ),
    # 2. adjustment expectations computed by the code under test
    Mutant(
        "rho_no_sqrt",
        "2 adjust",
        "snnconv/convert/adjust.py",
        "return math.sqrt(layer.input_weight_rows().shape[1] * input_rates_sq_mean)",
        "return layer.input_weight_rows().shape[1] * input_rates_sq_mean",
        ADJUST,
        "ρ without the square root",
    ),
    Mutant(
        "hidden_stats_from_output",
        "2 adjust",
        "snnconv/convert/activations.py",
        "r = layer.apply_pre_ops(x if i == 0 else outs[i - 1]).double()",
        "r = (layer.apply_pre_ops(x) if i == 0 else outs[i]).double()",
        ADJUST,
        "hidden layer's rate statistics from its own output instead of its input",
    ),
    Mutant(
        "stats_unclamped",
        "2 adjust",
        "snnconv/convert/activations.py",
        "outs = net.rate_forward(x, clamp=True)",
        "outs = net.rate_forward(x, clamp=False)",
        ADJUST,
        "rate statistics from the unclamped rate model",
    ),
    Mutant(
        "sigma_l2_norm",
        "2 adjust",
        "snnconv/convert/adjust.py",
        "s4 = lp_norms(rows, 4).double()",
        "s4 = lp_norms(rows, 2).double()",
        ADJUST,
        "σ̂ with ‖w‖₂ instead of ‖w‖₄",
    ),
    Mutant(
        "fan_in_channels_only",
        "2 adjust",
        "snnconv/convert/adjust.py",
        "return math.sqrt(layer.input_weight_rows().shape[1] * input_rates_sq_mean)",
        "return math.sqrt(layer.weight.shape[1] * input_rates_sq_mean)",
        ADJUST,
        "fan-in of a conv = input channels (kernel area forgotten)",
    ),
    Mutant(
        "bias_mode_sign",
        "2 adjust",
        "snnconv/convert/adjust.py",
        "shift = -k * sigma * theta",
        "shift = k * sigma * theta",
        ADJUST,
        "bias mode shifts the wrong way",
    ),
    Mutant(
        "uniform_uses_max",
        "2 adjust",
        "snnconv/convert/adjust.py",
        "return torch.full_like(s4, float(s4.mean()))",
        "return torch.full_like(s4, float(s4.max()))",
        ADJUST,
        "uniform control uses the layer max of σ̂",
    ),
    Mutant(
        "lp_ablation_not_normalized",
        "2 adjust",
        "snnconv/convert/adjust.py",
        "return norms / mean * float(s4.mean()) if mean > 0",
        "return norms * float(s4.mean()) if mean > 0",
        ADJUST,
        "Lp ablation (p ≠ 4) without dividing by the layer mean of ‖w‖_p",
    ),
    Mutant(
        "readout_adjusted",
        "2 adjust",
        "snnconv/convert/adjust.py",
        "        if not layer.spiking:\n            layers.append(layer)\n            continue",
        "        if False:\n            layers.append(layer)\n            continue",
        ADJUST,
        "the non-spiking readout gets a threshold adjustment too",
    ),
    Mutant(
        "scale_overwrites_theta",
        "2 adjust",
        "snnconv/convert/adjust.py",
        "theta = theta * factor",
        "theta = factor",
        ADJUST,
        "scale mode sets θ = exp(kσ̂) instead of θ·exp(kσ̂) (equivalent inside convert, where θ = 1)",
    ),
    Mutant(
        "percentile_rank_off_by_one",
        "1 lambda",
        "snnconv/convert/activations.py",
        "h = (n - 1) * (q / 100.0)",
        "h = n * (q / 100.0)",
        LAMBDA,
        "percentile rank n·q instead of (n − 1)·q",
    ),
    # 3. constants that could never show
    Mutant(
        "bn_eps_ignored",
        "3 constants",
        "snnconv/convert/layers.py",
        "scale = gamma / torch.sqrt(var + bn.eps)",
        "scale = gamma / torch.sqrt(var + 1e-12)",
        BN,
        "batch-norm folding ignores ε",
    ),
    Mutant(
        "bn_mean_not_subtracted",
        "3 constants",
        "snnconv/convert/layers.py",
        "((b - mean) * scale + beta)",
        "(b * scale + beta)",
        BN,
        "batch-norm folding forgets the running mean",
    ),
    Mutant(
        "membrane_var_divides_by_T",
        "3 constants",
        "snnconv/simulate/stats.py",
        'self.rows["var"][l].append(((q - s * s / T) / max(T - 1, 1)).clamp(min=0))',
        'self.rows["var"][l].append(((q - s * s / T) / T).clamp(min=0))',
        STATS,
        "measured current variance divides by T instead of T − 1",
    ),
    Mutant(
        "input_var_divides_by_T",
        "3 constants",
        "snnconv/simulate/stats.py",
        'v_in = (acc["xq"][l] - acc["xs"][l] ** 2 / T) / max(T - 1, 1)',
        'v_in = (acc["xq"][l] - acc["xs"][l] ** 2 / T) / T',
        STATS,
        "hidden-layer input variance (prediction) divides by T",
    ),
    Mutant(
        "prediction_unsquared_weights",
        "3 constants",
        "snnconv/simulate/stats.py",
        "weight=layer.weight**2, bias=False)",
        "weight=layer.weight.abs(), bias=False)",
        STATS,
        "variance prediction with |w| instead of w²",
    ),
    Mutant(
        "first_layer_var_r",
        "3 constants",
        "snnconv/simulate/stats.py",
        "first_var = independent_variance(net64.layers[0], r * (1 - r))",
        "first_var = independent_variance(net64.layers[0], r)",
        STATS,
        "first-layer Bernoulli variance r instead of r(1 − r)",
    ),
    Mutant(
        "prediction_unclamped_v_in",
        "3 constants",
        "snnconv/simulate/stats.py",
        "pred = layer.apply_op(v_in.clamp(min=0), ",
        "pred = layer.apply_op(v_in, ",
        STATS,
        "negative rounding residue of the input variance not clamped (expected equivalent: v_in ≥ 0 up to ~1e-16)",
    ),
    # 4. verdict rules
    Mutant(
        "verdict_mean_only",
        "4 verdict",
        "snnconv/analysis/verdicts.py",
        'low = test.get("ci_low")',
        'low = test.get("mean")',
        VERDICT,
        "verdict looks only at the mean",
    ),
    Mutant(
        "verdict_ci_high",
        "4 verdict",
        "snnconv/analysis/verdicts.py",
        'low = test.get("ci_low")',
        'low = test.get("ci_high")',
        VERDICT,
        "verdict asks only that the interval reaches above zero",
    ),
    Mutant(
        "verdict_single_replicate_mean",
        "4 verdict",
        "snnconv/analysis/verdicts.py",
        'return bool(int(test.get("n", 0)) >= 2 and',
        'return bool((int(test.get("n", 0)) == 1 and float(test.get("mean", 0)) > 0)) or bool(int(test.get("n", 0)) >= 2 and',
        VERDICT,
        "one replicate with a positive mean counts as evidence",
    ),
    Mutant(
        "verdict_unpaired",
        "4 verdict",
        "snnconv/analysis/paired.py",
        'PAIR_KEYS = ("dataset", "arch", "seed", "input_seed", "t")',
        'PAIR_KEYS = ("dataset", "arch", "seed", "t")',
        VERDICT,
        "differences not paired by spike seed (every replicate against every other)",
    ),
    Mutant(
        "table_bold_mean_only",
        "4 verdict",
        "snnconv/paper/l4_table.py",
        "row[head] = bold(text, latex) if helped(r) else text",
        'row[head] = bold(text, latex) if r["mean"] > 0 else text',
        VERDICT,
        "comparison table bolds any positive mean",
    ),
    # 5. end-to-end numbers
    Mutant(
        "ci_population_std",
        "5 end-to-end",
        "snnconv/analysis/intervals.py",
        'out = g.agg(mean="mean", std="std", n="count")',
        'out = g.agg(mean="mean", std=lambda v: v.std(ddof=0), n="count")',
        FIGURES,
        "plotted intervals from the population std",
    ),
    Mutant(
        "gap_sign",
        "5 end-to-end",
        "snnconv/analysis/summaries.py",
        'sub["gap"] = sub["accuracy"] - sub["ann_accuracy"]',
        'sub["gap"] = sub["ann_accuracy"] - sub["accuracy"]',
        FIGURES,
        "low-T gap plotted with the wrong sign",
    ),
    Mutant(
        "t_critical_df_off_by_one",
        "5 end-to-end",
        "snnconv/analysis/intervals.py",
        'dof = (out["n"] - 1).to_numpy(dtype=float)',
        'dof = (out["n"]).to_numpy(dtype=float)',
        FIGURES,
        "plotted intervals use n instead of n − 1 degrees of freedom",
    ),
    Mutant(
        "within_sign",
        "5 end-to-end",
        "snnconv/analysis/intervals.py",
        'target = float(g["ann_accuracy"].iloc[0]) - within',
        'target = float(g["ann_accuracy"].iloc[0]) + within',
        FIGURES + ["tests/unit/report/test_tables.py"],
        "timesteps-to-within uses ANN + within",
    ),
    Mutant(
        "firing_rates_first_step",
        "5 end-to-end",
        "snnconv/analysis/summaries.py",
        'last = df.groupby(["dataset", "arch"])["t"].transform("max")',
        'last = df.groupby(["dataset", "arch"])["t"].transform("min")',
        FIGURES,
        "firing-rate bars at t = 1 instead of T",
    ),
    # 6. the analysis layer and the paper's macros: signs, names, ties, boundaries and row order
    Mutant(
        "quoted_gap_sign",
        "6 analysis",
        "snnconv/paper/numbers.py",
        'pct(float((gap["accuracy"] - gap["ann_accuracy"]).mean()), sign=True)',
        'pct(float((gap["ann_accuracy"] - gap["accuracy"]).mean()), sign=True)',
        ANALYSIS,
        "the SNN − ANN gap the paper quotes printed as ANN − SNN",
    ),
    Mutant(
        "spearman_macros_hold_pearson",
        "6 analysis",
        "snnconv/paper/numbers.py",
        "summary = best_predictor(corr)",
        'summary = best_predictor(corr, "pearson")',
        ANALYSIS,
        "the \\L<p>Spearman macros hold the Pearson means",
    ),
    Mutant(
        "exact_spearman_holds_pearson",
        "6 analysis",
        "snnconv/paper/numbers.py",
        'm.add("ExactSpearman", f"{exact[\'spearman\'].mean():.2f}"',
        'm.add("ExactSpearman", f"{exact[\'pearson\'].mean():.2f}"',
        ANALYSIS,
        "\\ExactSpearman holds the Pearson mean",
    ),
    Mutant(
        "zero_difference_counted_better",
        "6 analysis",
        "snnconv/paper/numbers.py",
        'int((per["mean"] > 0).sum())',
        'int((per["mean"] >= 0).sum())',
        ANALYSIS,
        "networks with a mean difference of exactly zero counted as better",
    ),
    Mutant(
        "verdict_zero_lower_bound_wins",
        "6 analysis",
        "snnconv/analysis/verdicts.py",
        "and float(low) > 0)",
        "and float(low) >= 0)",
        ANALYSIS,
        "an interval whose lower bound is exactly zero counts as a win (identical scores 'improved')",
    ),
    Mutant(
        "best_lead_zero_lower_bound_clear",
        "6 analysis",
        "snnconv/analysis/summaries.py",
        'clear=bool(int(test["n"]) >= 2 and float(test["ci_low"]) > 0)',
        'clear=bool(int(test["n"]) >= 2 and float(test["ci_low"]) >= 0)',
        ANALYSIS,
        "best_method calls a lead clear when its interval's lower bound is exactly zero",
    ),
    Mutant(
        "variance_tie_unrounded",
        "6 analysis",
        "snnconv/analysis/correlations.py",
        "printed = values.astype(float).round(decimals)",
        "printed = values.astype(float)",
        ANALYSIS,
        "the variance verdict's 'tied at printed precision' compares unrounded means",
    ),
    Mutant(
        "variance_tie_branch_dropped",
        "6 analysis",
        "snnconv/paper/prose.py",
        'if "L4" in winners:',
        "if False:",
        ANALYSIS,
        "the variance verdict never says 'tied'",
    ),
    Mutant(
        "uniform_matched_without_mode",
        "6 analysis",
        "snnconv/analysis/controls.py",
        'and row["mode"] == ref["mode"]',
        "and True",
        ANALYSIS,
        "the uniform control is matched without its mode (scale vs bias)",
    ),
    Mutant(
        "uniform_matched_without_base",
        "6 analysis",
        "snnconv/analysis/controls.py",
        'and row["base"] == ref["base"]',
        "and True",
        ANALYSIS,
        "the uniform control is matched without its base normalization",
    ),
    Mutant(
        "layer_win_to_worst_p",
        "6 analysis",
        "snnconv/analysis/correlations.py",
        'transform("max")\n    lp = lp.assign(win=(lp[metric] >= top - 1e-12)',
        'transform("min")\n    lp = lp.assign(win=(lp[metric] <= top + 1e-12)',
        ANALYSIS,
        "a layer's win goes to the worst-correlating p",
    ),
    Mutant(
        "best_p_ranked_ascending",
        "6 analysis",
        "snnconv/analysis/correlations.py",
        "ascending=[False, True], ignore_index=True",
        "ascending=[True, True], ignore_index=True",
        ANALYSIS,
        "predictors ranked worst first (best p = the worst)",
    ),
    Mutant(
        "lfour_rank_from_zero",
        "6 analysis",
        "snnconv/paper/numbers.py",
        'ranks = {p: i + 1 for i, p in enumerate(summary["predictor"])}',
        'ranks = {p: i for i, p in enumerate(summary["predictor"])}',
        ANALYSIS,
        "\\LFourRank counted from 0",
    ),
    Mutant(
        "strongest_is_weakest",
        "6 analysis",
        "snnconv/analysis/verdicts.py",
        '.sort_values(["low", "mean"], kind="stable")',
        '.sort_values(["low", "mean"], ascending=False, kind="stable")',
        ANALYSIS,
        "the verdict is judged against the weakest control",
    ),
    Mutant(
        "best_plain_is_worst",
        "6 analysis",
        "snnconv/analysis/verdicts.py",
        'return str(sub.groupby("norm")["accuracy"].mean().idxmax())',
        'return str(sub.groupby("norm")["accuracy"].mean().idxmin())',
        ANALYSIS,
        "the 'best plain normalization' is the worst one",
    ),
    Mutant(
        "within_strict",
        "6 analysis",
        "snnconv/analysis/intervals.py",
        'hit = g[g["mean"] >= target - 1e-12]',
        'hit = g[g["mean"] > target]',
        ANALYSIS,
        "a curve that reaches ANN − within exactly is not counted as within",
    ),
    Mutant(
        "replicates_added",
        "6 analysis",
        "snnconv/paper/numbers.py",
        'len(run["seeds"]) * len(run["input_seeds"])',
        'len(run["seeds"]) + len(run["input_seeds"])',
        ANALYSIS,
        "\\NumReplicates adds seeds and input seeds",
    ),
    Mutant(
        "ann_mean_is_max",
        "6 analysis",
        "snnconv/paper/numbers.py",
        'pct(float(ann["mean"].mean())) if len(ann)',
        'pct(float(ann["mean"].max())) if len(ann)',
        ANALYSIS,
        "\\AnnAccMean holds the best network's ANN accuracy",
    ),
    Mutant(
        "l4_table_rows_sorted",
        "6 analysis",
        "snnconv/paper/l4_table.py",
        'per_net.groupby(["dataset", "arch"], sort=False)',
        'per_net.groupby(["dataset", "arch"], sort=True)',
        ANALYSIS,
        "l4_comparison rows in alphabetical instead of run order",
    ),
    Mutant(
        "accuracy_table_rows_sorted",
        "6 analysis",
        "snnconv/report/tables.py",
        'for norm in [n for n in norm_order if n in set(acc["norm"])]:',
        'for norm in sorted(n for n in norm_order if n in set(acc["norm"])):',
        ANALYSIS,
        "accuracy table rows in alphabetical instead of config order",
    ),
    Mutant(
        "accuracy_table_blocks_sorted",
        "6 analysis",
        "snnconv/report/tables.py",
        'tidy.groupby(["dataset", "arch"], sort=False)',
        'tidy.groupby(["dataset", "arch"], sort=True)',
        ANALYSIS,
        "accuracy table blocks in alphabetical instead of run order",
    ),
]


def copy_repo(dest: Path) -> Path:
    """Copy the working tree (code, tests, workflow; not .git/.venv/results) into ``dest``."""
    root = dest / "repo"
    shutil.copytree(REPO, root, ignore=IGNORE)
    return root


def run_tests(root: Path, tests: list[str], timeout: int) -> tuple[int, list[str], str]:
    """pytest on the copy; returns (returncode, failed/errored test ids, output tail)."""
    env = {**os.environ, "PYTHONPATH": str(root), "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1"}
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-rfE",
        "--tb=no",
        "-p",
        "no:cacheprovider",
        *[a for d in DESELECT for a in ("--deselect", d)],
        *tests,
    ]
    try:
        proc = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return -1, ["(timeout)"], ""
    out = proc.stdout + proc.stderr
    failed = sorted(set(re.findall(r"^(?:FAILED|ERROR) (\S+?)(?: - .*)?$", out, re.M)))
    return proc.returncode, failed, out[-2000:]


def check_canary(root: Path) -> None:
    """The copy, not the working tree, must be what the tests import."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    out = subprocess.run(
        [sys.executable, "-c", "import snnconv; print(snnconv.__file__)"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if not Path(out).resolve().is_relative_to(root.resolve()):
        raise SystemExit(f"the copy is not imported first (snnconv from {out}); refusing to run")


def main(argv: list[str] | None = None) -> int:
    """Plant every selected mutant, print one line each and the score."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="*", help="mutant ids to run (default: all)")
    ap.add_argument("--list", action="store_true", help="list the mutants and exit")
    ap.add_argument("--json", help="also write the results as JSON here")
    ap.add_argument("--timeout", type=int, default=900, help="seconds per test run")
    args = ap.parse_args(argv)
    mutants = [m for m in MUTANTS if not args.only or m.id in args.only]
    if args.only and len(mutants) != len(set(args.only)):
        raise SystemExit(f"unknown mutant id(s): {sorted(set(args.only) - {m.id for m in MUTANTS})}")
    if args.list:
        for m in mutants:
            print(f"{m.id:34s} {m.cls:14s} {m.path}: {m.what}  [{' '.join(Path(t).name for t in m.tests)}]")
        return 0
    with tempfile.TemporaryDirectory(prefix="snnconv_mutants_") as tmp:
        root = copy_repo(Path(tmp))
        check_canary(root)
        for m in mutants:  # every patch must apply to the current code, or the list is stale
            absent = [t for t in m.tests if not (root / t).is_file()]
            if absent:  # pytest would fail on the missing path, and the mutant would count as caught
                raise SystemExit(f"mutant {m.id}: test file(s) {absent} do not exist")
            text = (root / m.path).read_text()
            if text.count(m.old) != 1:
                raise SystemExit(f"mutant {m.id}: pattern found {text.count(m.old)} times in {m.path}: {m.old!r}")
        baseline = sorted({t for m in mutants for t in m.tests})
        rc, failed, tail = run_tests(root, baseline, args.timeout)
        if rc != 0:
            raise SystemExit(f"baseline tests fail on the unmutated copy (rc {rc}): {failed}\n{tail}")
        print(f"baseline: {len(baseline)} test files pass on the unmutated copy", flush=True)
        for m in mutants:
            path = root / m.path
            original = path.read_text()
            path.write_text(original.replace(m.old, m.new))
            start = time.perf_counter()
            try:
                rc, failed, _ = run_tests(root, m.tests, args.timeout)
            finally:
                path.write_text(original)
            m.seconds = round(time.perf_counter() - start, 1)
            m.caught, m.caught_by = rc != 0, failed
            files = sorted({f.split("::")[0].split("/")[-1] for f in failed})
            print(
                f"{'CAUGHT ' if m.caught else 'SURVIVED'} {m.id:34s} ({m.cls}; {m.seconds:.0f}s) "
                f"{', '.join(files) if files else ''}",
                flush=True,
            )
    caught = [m for m in mutants if m.caught]
    by_pinned = [m for m in caught if any("test_pinned_" in f for f in m.caught_by)]
    print(
        f"\nplanted {len(mutants)}, caught {len(caught)}, survivors {len(mutants) - len(caught)}; "
        f"caught by the pinned tests (tests/regression/test_pinned_*.py) {len(by_pinned)}"
    )
    for m in mutants:
        if not m.caught:
            print(f"  survivor {m.id}: {m.what}")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps([asdict(m) for m in mutants], indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
