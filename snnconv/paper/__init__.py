"""The reproduction report: every number and result-dependent sentence of ``paper/main.tex``, and its build.

* :mod:`.numbers` — values as LaTeX macros (accuracies, paired gains and intervals, correlations, counts);
* :mod:`.prose` — verdict words and sentences built from those values by the tables' own rules;
* :mod:`.wording` — counts and lists in English (``count_noun``, ``human_list``, ``format_set``);
* :mod:`.macro_file` — both in ``results/paper/macros.tex`` (rule ``paper_macros``);
* :mod:`.l4_table` — the per-network L4 comparison table;
* :mod:`.build` — the LaTeX build (rule ``paper``).

No statistic is computed here: the verdicts come from :mod:`snnconv.analysis`.
"""
