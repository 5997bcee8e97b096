"""Figures and tables, drawn and formatted from what :mod:`snnconv.analysis` computed.

One style (:mod:`.style`), one module per figure and tables (:mod:`.tables`). No statistic is computed here.
The paper's macros and its LaTeX build are :mod:`snnconv.paper`.

Which figures and tables exist, which rule writes each and which the paper shows: the artefact catalogue,
:mod:`snnconv.workflow.artefacts`. Every readable label (norms, datasets, architectures): :mod:`.labels`.
"""
