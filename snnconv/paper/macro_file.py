"""``results/paper/macros.tex``: the paper's numbers (:mod:`.numbers`) and its prose (:mod:`.prose`) in one file.

Each section adds its numbers first and then the sentences built from them, so a sentence quotes exactly the
value its number macro prints.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from . import numbers, prose


def paper_macros(df: pd.DataFrame, corr: pd.DataFrame, config: dict[str, Any]) -> tuple[str, pd.DataFrame]:
    """The full macro file text and the per-network L4 comparison frame (for :mod:`.l4_table`)."""
    m = numbers.Macros()
    numbers.setup_macros(m, config)
    prose.setup_prose(m, config)
    numbers.accuracy_macros(m, df, config)
    evidence = numbers.l4_evidence(df, config)
    numbers.l4_macros(m, df, config, evidence)
    prose.verdict_prose(m, evidence)
    numbers.variance_macros(m, corr)
    prose.variance_prose(m, corr)
    return m.render(), evidence.per_net
