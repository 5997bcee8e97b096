"""Tables: tidy CSV + LaTeX (booktabs, via pandas ``to_latex``, best per column in bold) + Markdown.

:func:`accuracy_tables` — SNN accuracy at the report T points for every dataset × arch × norm
(mean ± std over replicates), the ANN baseline as the first row of every block, and the timesteps
needed to come within ``report.within`` of the ANN (first t where the mean accuracy ≥ ANN − within,
else "> T"). :func:`write_table` is the shared writer (also used for the variance-correlation table).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ..analysis.load import norm_params, order_norms
from ..analysis.summaries import accuracy_summary, best_methods
from ..atomic import write_csv, write_text
from .labels import arch_label, dataset_label, norm_label

_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}


def latex_escape(text: Any) -> str:
    """Escape LaTeX special characters of a plain-text cell."""
    return "".join(_LATEX_SPECIAL.get(ch, ch) for ch in str(text))


def fmt_pct(mean: float, std: float | None = None, digits: int = 1, latex: bool = False) -> str:
    """'97.3 ± 0.4' (percent) from fractions; std omitted when NaN (single replicate)."""
    if mean is None or (isinstance(mean, float) and math.isnan(mean)):
        return "--" if latex else "–"
    out = f"{100 * mean:.{digits}f}"
    if std is not None and not (isinstance(std, float) and math.isnan(std)):
        out += (r" $\pm$ " if latex else " ± ") + f"{100 * std:.{digits}f}"
    return out


def bold(text: str, latex: bool) -> str:
    """Bold a formatted cell."""
    return rf"\textbf{{{text}}}" if latex else f"**{text}**"


def to_markdown(frame: pd.DataFrame) -> str:
    """A GitHub-flavoured Markdown table of a frame of strings (``DataFrame.to_markdown``; ``|`` escaped)."""
    cells = frame.astype(str).apply(lambda col: col.str.replace("|", r"\|", regex=False))
    return cells.to_markdown(index=False, tablefmt="github", disable_numparse=True) + "\n"


def to_latex(
    frame: pd.DataFrame,
    column_format: str | None = None,
    caption: str | None = None,
    label: str | None = None,
    midrules_after: Sequence[int] = (),
) -> str:
    """booktabs tabular (pandas ``to_latex``) of already-escaped strings; optional rules between blocks."""
    text = frame.to_latex(index=False, escape=False, column_format=column_format or "l" * frame.shape[1])
    if midrules_after:
        lines = text.splitlines()
        body_start = next(i for i, l in enumerate(lines) if l.strip() == r"\midrule") + 1
        for k in sorted(set(midrules_after), reverse=True):
            if 0 < k < len(frame):
                lines.insert(body_start + k, r"\midrule")
        text = "\n".join(lines) + "\n"
    if caption or label:
        inner = (rf"\caption{{{caption}}}" + "\n" if caption else "") + (rf"\label{{{label}}}" + "\n" if label else "")
        text = "\\begin{table}[t]\n\\centering\n\\small\n" + inner + text + "\\end{table}\n"
    return text


def write_table(
    tidy: pd.DataFrame,
    latex: pd.DataFrame,
    markdown: pd.DataFrame,
    stem: str | Path,
    column_format: str | None = None,
    midrules_after: Sequence[int] = (),
) -> list[Path]:
    """Write ``stem.csv`` (tidy numbers), ``stem.tex`` (booktabs tabular) and ``stem.md``."""
    stem = Path(stem)
    paths = [stem.with_name(stem.name + ext) for ext in (".csv", ".tex", ".md")]
    write_csv(paths[0], tidy)
    write_text(paths[1], to_latex(latex, column_format, midrules_after=midrules_after))
    write_text(paths[2], to_markdown(markdown))
    return paths


# ------------------------------------------------------------------------------------------ accuracy table


def _best(values: pd.Series, larger: bool, decimals: int | None = None) -> pd.Series:
    """Mask of the best entries, ignoring NaN; entries that tie once rounded as printed are all bold."""
    v = values.astype(float)
    if decimals is not None:
        v = v.round(decimals)
    if v.notna().sum() == 0:
        return pd.Series(False, index=values.index)
    target = v.max() if larger else v.min()
    return (v - target).abs() <= 1e-12


def accuracy_tables(
    df: pd.DataFrame,
    T_points: Sequence[int],
    within: float,
    stem: str | Path,
    norms: Sequence[str] | None = None,
    conversion_cfg: dict[str, Any] | None = None,
    label_norms: bool = False,
) -> pd.DataFrame:
    """Write the accuracy table (csv/tex/md) for ``norms`` (all simulated norms if None); returns the tidy frame.

    Bold: per dataset × arch block, the best mean in every T column and the fewest timesteps to reach
    the ANN within ``within``. ``label_norms``: the LaTeX table shows the readable labels of :mod:`.labels`
    (norms, datasets, architectures) instead of ids; the CSV and Markdown keep the ids.
    """
    tidy = accuracy_summary(df, T_points, within, norms)
    params = norm_params(df, conversion_cfg) if label_norms and len(df) else None
    T_max = int(df["t"].max()) if len(df) else 0
    T_cols = [str(t) for t in T_points if t <= T_max]
    within_col = f"within {100 * within:g}%"
    norm_order = order_norms([n for n in tidy["norm"].unique() if n != "ANN"], list(norms or []))
    rows_tex, rows_md, block_ends = [], [], []
    for (dataset, arch), block in tidy.groupby(["dataset", "arch"], sort=False):
        ann = block[block["quantity"] == "ann_accuracy"].iloc[0]
        acc = block[block["quantity"] == "accuracy"].assign(T=lambda f: f["T"].astype(str))
        wit = block[block["quantity"] == "t_within"].set_index("norm")
        best = {T: acc[acc["T"] == T].set_index("norm")["mean"] * 100 for T in T_cols}
        best_mask = {T: _best(v, larger=True, decimals=1) for T, v in best.items()}
        w_mask = _best(wit["mean"], larger=False) if len(wit) else pd.Series(dtype=bool)
        for latex in (True, False):
            rows = rows_tex if latex else rows_md
            row = {"dataset": dataset, "arch": arch, "norm": "ANN"}
            for T in T_cols:
                row[T] = fmt_pct(ann["mean"], ann["std"], latex=latex)
            row[within_col] = "--" if latex else "–"
            rows.append(row)
            for norm in [n for n in norm_order if n in set(acc["norm"])]:
                label = norm_label(norm, conversion_cfg, params) if label_norms and conversion_cfg is not None else norm
                row = {
                    "dataset": dataset,
                    "arch": arch,
                    "norm": label if (label_norms and latex) else (latex_escape(norm) if latex else norm),
                }
                for T in T_cols:
                    cell = acc[(acc["norm"] == norm) & (acc["T"] == T)]
                    text = fmt_pct(cell["mean"].iloc[0], cell["std"].iloc[0], latex=latex) if len(cell) else "–"
                    if len(cell) and bool(best_mask[T].get(norm, False)):
                        text = bold(text, latex)
                    row[T] = text
                text = str(wit["label"].get(norm, "–")) if norm in wit.index else "–"
                if latex:
                    text = text.replace(">", "$>$")
                if norm in wit.index and bool(w_mask.get(norm, False)):
                    text = bold(text, latex)
                row[within_col] = text
                rows.append(row)
        block_ends.append(len(rows_md))
    header_tex = {T: f"$T={T}$" for T in T_cols} | {within_col: rf"$t$ to ANN$-{100 * within:g}$\%"}
    tex = pd.DataFrame(rows_tex).rename(columns=header_tex)
    md = pd.DataFrame(rows_md).rename(columns={T: f"T={T}" for T in T_cols})
    if not tex.empty:
        tex["dataset"] = tex["dataset"].map(lambda d: latex_escape(dataset_label(d) if label_norms else d))
        tex["arch"] = tex["arch"].map(lambda a: latex_escape(arch_label(a) if label_norms else a))
        # show dataset/arch only on the first row of each block
        first = tex[["dataset", "arch"]].ne(tex[["dataset", "arch"]].shift()).any(axis=1)
        tex.loc[~first, ["dataset", "arch"]] = ""
    tex.columns = [c if c.startswith("$") else latex_escape(c) for c in tex.columns]
    write_table(tidy, tex, md, stem, column_format="lll" + "r" * (len(T_cols) + 1), midrules_after=block_ends[:-1])
    return tidy


# ------------------------------------------------------------------------------------------ best method


def best_method_table(
    df: pd.DataFrame, T_points: Sequence[int], main_norms: Sequence[str], stem: str | Path
) -> pd.DataFrame:
    """Write ``best_method`` (csv/tex/md): the best norm per dataset × arch × T among ``conversion.norms``
    ("main") and among every converted norm ("all"), its lead over the runner-up with the paired 95 % interval,
    and the lead in units of the best's seed-to-seed std; returns the tidy frame."""
    tidy = best_methods(df, T_points, {"main": list(main_norms), "all": None})

    def lead_text(r: Any, latex: bool) -> str:
        if pd.isna(r.lead):
            return "–"
        pm = r"$\pm$" if latex else "±"
        half = (r.lead_ci_high - r.lead_ci_low) / 2 if pd.notna(r.lead_ci_low) else math.nan
        text = f"{100 * r.lead:+.2f}" + (f" {pm} {100 * half:.2f}" if pd.notna(half) else "")
        return bold(text, latex) if r.clear else text

    def rows(latex: bool) -> pd.DataFrame:
        esc = latex_escape if latex else str
        out = []
        for r in tidy.itertuples(index=False):
            out.append(
                {
                    "dataset": esc(r.dataset),
                    "arch": esc(r.arch),
                    "scope": r.scope,
                    "T": str(r.T),
                    "best": esc(r.best),
                    "accuracy (%)": fmt_pct(r.best_mean, r.best_std, latex=latex),
                    "runner-up": esc(r.runner_up) if isinstance(r.runner_up, str) else "–",
                    "lead (pp, 95% CI)": lead_text(r, latex),
                    "lead / std": "–" if pd.isna(r.lead_over_std) else f"{r.lead_over_std:.2f}",
                }
            )
        return pd.DataFrame(out)

    tex, md = rows(True), rows(False)
    if not tex.empty:
        tex.columns = [latex_escape(c) for c in tex.columns]
    write_table(tidy, tex, md, stem, column_format="lllrllrrr")
    return tidy
