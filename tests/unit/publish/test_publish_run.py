"""Inspecting a finished run (snnconv.publish.run): which rule a benchmark file belongs to, which files are foreign."""

from __future__ import annotations

from snnconv.publish.run import foreign, rule_of


def test_benchmark_templates_cover_every_rule_that_declares_one():
    """The snapshot maps a benchmark file to its rule with the rules' own template (snnconv.workflow.artefacts)."""
    assert rule_of("benchmarks/figures/low_T_gap.tsv") == "fig_low_T_gap"
    assert rule_of("benchmarks/figures/tables.tsv") == "tables"
    assert rule_of("benchmarks/paper/paper_macros.tsv") == "paper_macros"
    assert rule_of("benchmarks/paper/paper.tsv") == "paper"
    assert rule_of("benchmarks/simulate/mnist/vgg/seed3/lp4_k-0.25_scale_max.tsv") == "simulate"
    assert rule_of("benchmarks/normalize/mnist/vgg/seed3/p99.9.tsv") == "normalize"
    assert rule_of("benchmarks/train_qcfs/mnist/vgg/seed3.tsv") == "train_qcfs"
    assert rule_of("benchmarks/gone/x.tsv") == "gone"  # a rule that no longer exists: its folder


def test_without_a_config_nothing_is_foreign():
    """Given no config (no sweep to compare with), every file counts as part of the run."""
    assert not foreign("benchmarks/train_ann/digits/cnn/seed7.tsv", None)
