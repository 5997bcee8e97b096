"""The LaTeX build's own checks that need no TeX Live (the builds themselves: tests/integration, tests/robustness)."""

from __future__ import annotations

import pytest

from snnconv.paper.build import PaperBuildError, build_paper


def test_paper_build_reports_missing_latexmk(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(PaperBuildError, match="apt_packages"):
        build_paper("x.tex", "x.bib", "m.tex", [], [], tmp_path / "main.pdf")
