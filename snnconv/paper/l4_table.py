"""The paper's per-network table of the L4 adjustment: paired L4 − control differences at \\LowT, wins in bold.

A cell is bold by :func:`snnconv.analysis.verdicts.helped`, the rule the verdict words of :mod:`.prose` use.
"""

from __future__ import annotations

import pandas as pd

from ..analysis.verdicts import helped
from ..report.labels import arch_label, dataset_label
from ..report.tables import bold, latex_escape, write_table
from .numbers import OPTIONAL, fmt_ci, pct

TABLE_HEADS = {
    "Base": "vs. base",
    "Uniform": "vs. uniform control",
    "VZero": r"vs. $v_0=\theta/2$ control",
    "Plain": "vs. best plain",
    "Calib": "vs. best calibration",
    "QCFS": "vs. best QCFS",
}


def l4_comparison_table(per_net: pd.DataFrame, stem: str, base: str = "base") -> pd.DataFrame:
    """Per network: the paired L4 − control difference at \\LowT (pp, interval) for every control; wins in bold."""
    rows: dict[bool, list[dict[str, str]]] = {True: [], False: []}
    if len(per_net):
        for (dataset, arch), g in per_net.groupby(["dataset", "arch"], sort=False):
            g = g.set_index("comparison")
            for latex in (True, False):
                rows[latex].append(_row(dataset, arch, g, base, latex))
    tex, md = pd.DataFrame(rows[True]), pd.DataFrame(rows[False])
    write_table(per_net, tex, md, stem, column_format="ll" + "r" * max(0, tex.shape[1] - 2))
    return per_net


def _row(dataset: str, arch: str, g: pd.DataFrame, base: str, latex: bool) -> dict[str, str]:
    """One network's row (LaTeX or Markdown); ``g`` holds its comparisons, indexed by comparison."""
    row = (
        {"dataset": latex_escape(dataset_label(dataset)), "arch": latex_escape(arch_label(arch))}
        if latex
        else {"dataset": dataset, "arch": arch}
    )
    for key, label in TABLE_HEADS.items():
        if key in ("Plain", *OPTIONAL) and key not in g.index:
            continue  # the best plain normalization is the base itself; a baseline not simulated
        head = label.replace("base", f"base ({base})") if key == "Base" else label
        if key in ("Plain", *OPTIONAL):
            head = f"{label} ({g.loc[key, 'control']})"
        if not latex:
            head = head.replace(r"$v_0=\theta/2$", "v0=θ/2")
        elif key in ("Base", "Plain", *OPTIONAL):
            head = latex_escape(head)
        if key not in g.index:
            row[head] = "--"
            continue
        r = g.loc[key]
        text = pct(r["mean"], sign=True, latex=latex) + ("" if pd.isna(r["ci_low"]) else " " + fmt_ci(r, latex=latex))
        row[head] = bold(text, latex) if helped(r) else text  # the verdict rule, per network
    return row
