"""Build the reproduction report: gather sources, figures, tables and macros in one folder, run latexmk.

The build is reproducible: ``SOURCE_DATE_EPOCH`` is fixed (default: 2021-11-18, the arXiv date of
Allred & Roy) and ``FORCE_SOURCE_DATE=1`` makes pdfTeX use it for dates and the PDF ID.
latexmk comes from the system (``.ci/apt_packages.sh`` lists the Debian packages).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Sequence

DEFAULT_EPOCH = "1637193600"  # 2021-11-18T00:00:00Z


class PaperBuildError(RuntimeError):
    """latexmk is missing or the LaTeX run failed (the message holds the end of the log)."""


def latexmk_available() -> bool:
    """Whether ``latexmk`` and ``pdflatex`` are on PATH."""
    return shutil.which("latexmk") is not None and shutil.which("pdflatex") is not None


def _copy(src: str | Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dst)


def build_paper(tex: str | Path, bib: str | Path, macros: str | Path, figures: Sequence[str | Path],
                tables: Sequence[str | Path], out_pdf: str | Path, epoch: str | None = None,
                timeout: int = 600, log_path: str | Path | None = None) -> Path:
    """Copy everything into ``out_pdf``'s folder (figures/, tables/, macros.tex) and run latexmk -pdf there."""
    if not latexmk_available():
        raise PaperBuildError("latexmk/pdflatex not found: install the TeX Live packages listed in "
                              ".ci/apt_packages.sh (bash .ci/apt_packages.sh, as root)")
    out_pdf = Path(out_pdf)
    build = out_pdf.parent
    build.mkdir(parents=True, exist_ok=True)
    main = build / Path(tex).name
    _copy(tex, main)
    _copy(bib, build / Path(bib).name)
    _copy(macros, build / "macros.tex")
    for f in figures:
        _copy(f, build / "figures" / Path(f).name)
    for t in tables:
        _copy(t, build / "tables" / Path(t).name)
    env = dict(os.environ, SOURCE_DATE_EPOCH=str(epoch or os.environ.get("SOURCE_DATE_EPOCH", DEFAULT_EPOCH)),
               FORCE_SOURCE_DATE="1", TZ="UTC")
    cmd = ["latexmk", "-pdf", "-interaction=nonstopmode", "-halt-on-error", "-file-line-error", main.name]
    try:
        proc = subprocess.run(cmd, cwd=build, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        raise PaperBuildError(f"latexmk timed out after {timeout} s") from exc
    if log_path:
        Path(log_path).parent.mkdir(parents=True, exist_ok=True)
        Path(log_path).write_text(proc.stdout + "\n" + proc.stderr)
    produced = build / (main.stem + ".pdf")
    if proc.returncode != 0 or not produced.exists():
        texlog = build / (main.stem + ".log")
        tail = texlog.read_text(errors="replace")[-3000:] if texlog.exists() else proc.stdout[-3000:]
        raise PaperBuildError(f"latexmk failed (exit {proc.returncode}); end of the LaTeX log:\n{tail}")
    if produced != out_pdf:
        shutil.copyfile(produced, out_pdf)
    return out_pdf
