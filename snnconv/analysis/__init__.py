"""The numbers and the verdicts, apart from any drawing (this package imports no plotting library).

* :mod:`.load` — read and tidy the results (accuracy_all.csv and what it is built from);
* :mod:`.intervals` — means over replicates with Student-t intervals (scipy);
* :mod:`.paired` — paired differences and the paired t-test (scipy);
* :mod:`.correlations` — the variance claim: ‖w‖_p and Pearson/Spearman correlations (scipy);
* :mod:`.summaries` — the tidy numbers behind each figure and table;
* :mod:`.controls` — which norms play the L4 adjustment and its controls;
* :mod:`.verdicts` — the verdict rules ("did the L4 adjustment help?").

docs/figures.md writes out every statistic.
"""
