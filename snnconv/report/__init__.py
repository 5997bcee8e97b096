"""Figures, tables and the paper: load and tidy results (:mod:`.collect`), one style (:mod:`.style`),
one module per figure, tables (:mod:`.tables`), paper macros (:mod:`.macros`) and the LaTeX build
(:mod:`.paper`). :mod:`.synthetic` writes a fake results tree of the same shape for tests.

Figures: 1 ``accuracy_vs_T``, 2 ``variance_claim`` (+ ``variance_correlation``), 3 ``coefficient_sweep``,
4 ``firing_rates`` (+ ``firing_rates_vs_t``), 5 ``low_T_gap``.
"""
