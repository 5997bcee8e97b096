"""A failed or killed paper build never leaves a partial PDF and keeps the previous one (docs/reliability.md §2).

* The build script: pdflatex writes its PDF as it goes; built in ``paper/build`` directly, a killed
  ``snakemake paper`` left a 0-byte ``paper/build/main.pdf`` under its final name. LaTeX now runs in a hidden work
  folder and the finished PDF is renamed into place. These tests drive the paper rule script's ``main`` with
  stand-in ``latexmk`` and ``pdflatex`` executables that behave like the real ones where it matters (the PDF
  appears in the working folder early and grows), so they run without TeX Live; tests/integration/test_commands.py
  builds with the real one.
* Through ``snakemake``: Snakemake deletes a job's outputs before it runs and after it fails, so the previous
  ``paper/build/main.pdf`` was lost either way. The rule flags the PDF ``update``: Snakemake keeps it while the job
  runs and restores it after a failure. These runs use the stand-in LaTeX executables on a copy of the finished tiny
  run."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers.workflow import (
    REPO,
    leftovers,
    load_script,
    run_snakemake,
    snakemake_cmd,
    snakemake_env,
    tiny_config,
    write_config,
)

# === The build script writes the PDF atomically =====================================================================


FAKE_LATEXMK = r"""#!/usr/bin/env bash
# stand-in latexmk: like pdflatex, create <job>.pdf in the working folder at once, then fill it
job="${@: -1}"; job="${job%.tex}"
: > "$job.pdf"
printf '%%PDF-1.5\n' >> "$job.pdf"
echo "This is a stand-in LaTeX log" > "$job.log"
case "$FAKE_LATEX" in
  hang) echo started > "$FAKE_LATEX_MARK"; sleep 600 ;;
  fail) echo "! LaTeX Error: stand-in failure." >> "$job.log"; exit 12 ;;
esac
printf 'stand-in body built from %s\n%%%%EOF\n' "$(ls)" >> "$job.pdf"
"""

DRIVER = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
sys.path.insert(0, sys.argv[1] + "/tests")
from helpers.workflow import load_script
args = json.loads(sys.argv[2])
load_script("build_paper").main(**args)
"""


@pytest.fixture()
def fake_tex(tmp_path, monkeypatch) -> Path:
    """PATH with stand-in latexmk and pdflatex first."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, text in (("latexmk", FAKE_LATEXMK), ("pdflatex", "#!/bin/sh\nexit 0\n")):
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return bin_dir


def sources(root: Path) -> dict:
    """Arguments of the paper script's main: tiny sources, one figure, one table, the output under build/."""
    src = root / "src"
    src.mkdir()
    for name in ("main.tex", "refs.bib", "macros.tex", "fig.pdf", "tab.tex"):
        (src / name).write_text(f"% {name}\n")
    return {
        "tex": str(src / "main.tex"),
        "bib": str(src / "refs.bib"),
        "macros": str(src / "macros.tex"),
        "figures": [str(src / "fig.pdf")],
        "tables": [str(src / "tab.tex")],
        "pdf": str(root / "paper" / "build" / "main.pdf"),
        "epoch": "1637193600",
        "latex_log": str(root / "logs" / "latexmk.log"),
    }


def start_build(args: dict, mode: str, mark: Path) -> subprocess.Popen:
    env = dict(os.environ, FAKE_LATEX=mode, FAKE_LATEX_MARK=str(mark))
    return subprocess.Popen(
        [sys.executable, "-c", DRIVER, str(REPO), json.dumps(args)],
        env=env,
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def wait_for(path: Path, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert proc.poll() is None, proc.communicate()[1].decode()[-2000:]
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.1)


@pytest.mark.integration
def test_killed_build_leaves_no_pdf_and_keeps_the_old_one(tmp_path, fake_tex, monkeypatch):
    args = sources(tmp_path)
    pdf = Path(args["pdf"])
    # 1. killed while "pdflatex" runs (its PDF exists, 0 bytes and then partial): nothing under the final name
    proc = start_build(args, "hang", tmp_path / "mark1")
    wait_for(tmp_path / "mark1", proc)
    partial = list(pdf.parent.rglob("main.pdf"))
    assert partial and all(p != pdf for p in partial), "LaTeX wrote under the final name"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not pdf.exists(), f"killed build left {pdf} ({pdf.stat().st_size} bytes)"
    # 2. a complete build (also clearing the killed build's work folder) moves the PDF and log into place
    monkeypatch.setenv("FAKE_LATEX", "ok")
    load_script("build_paper").main(**args)
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF-1.5") and data.rstrip().endswith(b"%%EOF")
    assert (pdf.parent / "main.log").read_text().startswith("This is a stand-in LaTeX log")
    assert sorted(p.name for p in pdf.parent.iterdir()) == ["main.log", "main.pdf"], "work folder left behind"
    assert not leftovers(tmp_path / "paper")
    # 3. killing a rebuild leaves the previous PDF intact (the old code truncated it)
    proc = start_build(args, "hang", tmp_path / "mark2")
    wait_for(tmp_path / "mark2", proc)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert pdf.read_bytes() == data


def test_failed_build_leaves_no_pdf(tmp_path, fake_tex, monkeypatch):
    from snnconv.paper.build import PaperBuildError

    args = sources(tmp_path)
    monkeypatch.setenv("FAKE_LATEX", "fail")
    with pytest.raises(PaperBuildError) as err:
        load_script("build_paper").main(**args)
    assert "exit 12" in str(err.value) and "stand-in failure" in str(err.value)
    assert "work folder kept" in str(err.value)
    assert not Path(args["pdf"]).exists()
    assert Path(args["latex_log"]).exists()


# === Through snakemake: the previous PDF is kept ====================================================================


@pytest.fixture()
def paper_run(tiny_run, tmp_path) -> tuple[Path, Path, dict[str, str]]:
    """(copy of the tiny run, its config, environment with stand-in latexmk/pdflatex first on PATH)."""
    work = tmp_path / "run"
    for part in ("results", ".snakemake"):
        shutil.copytree(tiny_run / part, work / part, symlinks=True)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, text in (("latexmk", FAKE_LATEXMK), ("pdflatex", "#!/bin/sh\nexit 0\n")):
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    env = {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "FAKE_LATEX_MARK": str(tmp_path / "mark")}
    return work, write_config(tmp_path / "tiny.yaml", tiny_config()), env


@pytest.mark.integration
def test_failed_rebuild_keeps_the_previous_paper(paper_run):
    work, config, env = paper_run
    run_snakemake(work, config, "paper", env={**env, "FAKE_LATEX": "ok"}, timeout=300)
    pdf = work / "paper" / "build" / "main.pdf"
    old = pdf.read_bytes()
    assert old.startswith(b"%PDF-1.5") and old.rstrip().endswith(b"%%EOF")
    proc = run_snakemake(work, config, "paper", "--forcerun", "paper", env={**env, "FAKE_LATEX": "fail"}, check=False)
    assert proc.returncode != 0 and "stand-in failure" in (work / "logs" / "paper" / "paper.log").read_text()
    assert pdf.read_bytes() == old, "a failed build removed or changed the previous paper"


@pytest.mark.integration
def test_killed_rebuild_keeps_the_previous_paper(paper_run):
    work, config, env = paper_run
    run_snakemake(work, config, "paper", env={**env, "FAKE_LATEX": "ok"}, timeout=300)
    pdf = work / "paper" / "build" / "main.pdf"
    old = pdf.read_bytes()
    mark = Path(env["FAKE_LATEX_MARK"])
    proc = subprocess.Popen(
        snakemake_cmd(work, config, "paper", "--forcerun", "paper"),
        env=snakemake_env({**env, "FAKE_LATEX": "hang"}),
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_for(mark, proc, timeout=300)  # latexmk is running: the old PDF is still in place
        assert pdf.read_bytes() == old
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert pdf.read_bytes() == old, "a killed build removed or changed the previous paper"
    # the interrupted job is redone by the documented recovery, and only then is the paper replaced
    run_snakemake(work, config, "--unlock")
    run_snakemake(work, config, "paper", "--rerun-incomplete", env={**env, "FAKE_LATEX": "ok"}, timeout=300)
    assert pdf.read_bytes().startswith(b"%PDF-1.5")
    assert not [p for p in pdf.parent.iterdir() if p.name.startswith(".")], "work folder or temporary file left"
