"""Figures, tables and the paper, drawn and formatted from what :mod:`snnconv.analysis` computed.

One style (:mod:`.style`), one module per figure, tables (:mod:`.tables`), paper macros (:mod:`.macros`)
and the LaTeX build (:mod:`.paper`). No statistic is computed here.

Figures: 1 ``accuracy_vs_T``, 2 ``variance_claim`` (+ ``variance_correlation``), 3 ``coefficient_sweep``,
4 ``firing_rates`` (+ ``firing_rates_vs_t``), 5 ``low_T_gap``.
"""
