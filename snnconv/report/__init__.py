"""Figures, tables and the paper, drawn and formatted from what :mod:`snnconv.analysis` computed.

One style (:mod:`.style`), one module per figure, tables (:mod:`.tables`), paper macros (:mod:`.macros`)
and the LaTeX build (:mod:`.paper`). No statistic is computed here.

Which figures and tables exist, which rule writes each and which the paper shows: the artefact catalogue,
:mod:`snnconv.workflow.artefacts`. Every readable label (norms, datasets, architectures): :mod:`.labels`.
"""
