"""Every figure's plotted numbers (its ``.csv``) equal what the tidy table says (a figure that
plots other numbers than the table would otherwise go unnoticed).

:func:`check_figures_against_table` recomputes each figure's numbers from ``results/tables/accuracy_all.csv``
with plain pandas/scipy (group means over replicates, paired differences per replicate, 95 % t-intervals)
and compares them row by row; the workflow test applies it to a real tiny run, the test here to the
synthetic results tree (several replicates, so the intervals are non-trivial).
"""

from __future__ import annotations

import pandas as pd
from helpers.figure_data import rendered
from helpers.figures_check import check_figures_against_table


def test_synthetic_figures_plot_the_table_numbers():
    out = rendered()
    checked = check_figures_against_table(out["figures"], out["tables"])
    assert set(checked) == {
        "accuracy_vs_T.csv",
        "low_T_gap.csv",
        "firing_rates.csv",
        "firing_rates_vs_t.csv",
        "coefficient_sweep.csv",
        "accuracy_main.csv",
    }
    table = pd.read_csv(out["table"])
    assert table.groupby(["dataset", "arch", "norm", "t"]).size().max() > 1  # replicates: intervals are non-trivial
