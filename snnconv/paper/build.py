"""Build the reproduction report: gather sources, figures, tables and macros in one folder, run latexmk.

The build is reproducible: ``SOURCE_DATE_EPOCH`` is fixed (default: 2021-11-18, the arXiv date of
Allred & Roy) and ``FORCE_SOURCE_DATE=1`` makes pdfTeX use it for dates and the PDF ID.
latexmk comes from the system (``.ci/apt_packages.sh`` lists the Debian packages).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from ..atomic import atomic_path, write_text

DEFAULT_EPOCH = "1637193600"  # 2021-11-18T00:00:00Z


class PaperBuildError(RuntimeError):
    """latexmk is missing or the LaTeX run failed (the message holds the end of the log)."""


def latexmk_available() -> bool:
    """Whether ``latexmk`` and ``pdflatex`` are on PATH."""
    return shutil.which("latexmk") is not None and shutil.which("pdflatex") is not None


def _copy(src: str | Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dst)


def latex_workdir(out_pdf: str | Path) -> Path:
    """The hidden folder beside ``out_pdf`` where LaTeX runs (pdflatex writes its PDF as it goes, so never
    under the final name); a fixed name, so the PDF bytes do not depend on a random path."""
    out_pdf = Path(out_pdf)
    return out_pdf.parent / f".{out_pdf.stem}.latex-build"


def build_paper(
    tex: str | Path,
    bib: str | Path,
    macros: str | Path,
    figures: Sequence[str | Path],
    tables: Sequence[str | Path],
    out_pdf: str | Path,
    epoch: str | None = None,
    timeout: int = 600,
    log_path: str | Path | None = None,
) -> Path:
    """Copy everything into a fresh work folder (figures/, tables/, macros.tex), run latexmk -pdf there, then
    move the PDF (and the LaTeX log, as ``<stem>.log``) atomically into ``out_pdf``'s folder: a build that is
    killed or fails leaves no PDF under the final name."""
    if not latexmk_available():
        raise PaperBuildError(
            "latexmk/pdflatex not found: install the TeX Live packages listed in "
            ".ci/apt_packages.sh (bash .ci/apt_packages.sh, as root)"
        )
    out_pdf = Path(out_pdf)
    out_pdf.parent.mkdir(parents=True, exist_ok=True)
    build = latex_workdir(out_pdf)
    if build.exists():  # a killed earlier build: start clean, so nothing stale enters this one
        shutil.rmtree(build)
    build.mkdir()
    main = build / Path(tex).name
    _copy(tex, main)
    _copy(bib, build / Path(bib).name)
    _copy(macros, build / "macros.tex")
    for f in figures:
        _copy(f, build / "figures" / Path(f).name)
    for t in tables:
        _copy(t, build / "tables" / Path(t).name)
    env = dict(
        os.environ,
        SOURCE_DATE_EPOCH=str(epoch or os.environ.get("SOURCE_DATE_EPOCH", DEFAULT_EPOCH)),
        FORCE_SOURCE_DATE="1",
        TZ="UTC",
    )
    cmd = ["latexmk", "-pdf", "-interaction=nonstopmode", "-halt-on-error", "-file-line-error", main.name]
    try:
        proc = subprocess.run(cmd, cwd=build, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        raise PaperBuildError(f"latexmk timed out after {timeout} s (work folder kept: {build})") from exc
    if log_path:
        write_text(log_path, proc.stdout + "\n" + proc.stderr)
    produced, texlog = build / (main.stem + ".pdf"), build / (main.stem + ".log")
    if proc.returncode != 0 or not produced.exists() or produced.stat().st_size == 0:
        tail = texlog.read_text(errors="replace")[-3000:] if texlog.exists() else proc.stdout[-3000:]
        raise PaperBuildError(
            f"latexmk failed (exit {proc.returncode}; work folder kept: {build}); end of the LaTeX log:\n{tail}"
        )
    if texlog.exists():
        with atomic_path(out_pdf.with_suffix(".log")) as tmp:
            shutil.copyfile(texlog, tmp)
    with atomic_path(out_pdf) as tmp:
        shutil.copyfile(produced, tmp)
    shutil.rmtree(build)
    return out_pdf
