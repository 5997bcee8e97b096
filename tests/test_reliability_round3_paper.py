"""A failed or killed ``snakemake paper`` keeps the previous paper PDF (docs/reliability.md §2).

The build script already wrote aside and renamed (tests/test_reliability_round2_paper.py), but Snakemake deletes a
job's outputs before it runs and after it fails, so through ``snakemake`` the previous ``paper/build/main.pdf`` was
lost either way. The rule now flags the PDF ``update``: Snakemake keeps it while the job runs and restores it after a
failure. These runs use stand-in LaTeX executables (no TeX Live needed) on a copy of the finished tiny run.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from pathlib import Path

import pytest
from test_reliability_round2_paper import FAKE_LATEXMK, wait_for
from test_reliability_support import run_snakemake, snakemake_cmd, snakemake_env, tiny_config, write_config


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


def test_failed_rebuild_keeps_the_previous_paper(paper_run):
    work, config, env = paper_run
    run_snakemake(work, config, "paper", env={**env, "FAKE_LATEX": "ok"}, timeout=300)
    pdf = work / "paper" / "build" / "main.pdf"
    old = pdf.read_bytes()
    assert old.startswith(b"%PDF-1.5") and old.rstrip().endswith(b"%%EOF")
    proc = run_snakemake(work, config, "paper", "--forcerun", "paper", env={**env, "FAKE_LATEX": "fail"}, check=False)
    assert proc.returncode != 0 and "stand-in failure" in (work / "logs" / "paper" / "paper.log").read_text()
    assert pdf.read_bytes() == old, "a failed build removed or changed the previous paper"


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
