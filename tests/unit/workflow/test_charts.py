"""Charts: figures of the catalogue drawn from the results table by ``snnconv.report.<drawer>.draw`` through one
generated rule each, and the code digest that covers the drawer module the rule's script imports by name."""

from __future__ import annotations

import importlib
import inspect
import shutil
from pathlib import Path

import pytest

from snnconv.workflow import artefacts, codehash

REPO = Path(__file__).resolve().parents[3]


def test_every_chart_has_a_draw_with_the_chart_signature():
    assert artefacts.charts(), "the catalogue holds no chart"
    for chart in artefacts.charts():
        draw = importlib.import_module(f"snnconv.report.{chart.drawer}").draw
        params = inspect.signature(draw).parameters
        assert list(params) == ["df", "conversion", "T_points", "stem"], chart.drawer
        assert all(params[n].kind is inspect.Parameter.KEYWORD_ONLY for n in ("conversion", "T_points", "stem"))


def test_a_chart_is_a_figure_whose_rule_follows_from_its_stem():
    with pytest.raises(ValueError, match=r"artefact 'x': a chart .* rule is 'fig_x', got kind 'figure' and rule 'y'"):
        artefacts.Artefact("x", kind=artefacts.FIGURE, formats=artefacts.PLOTTED, rule="y", drawer="x")
    with pytest.raises(ValueError, match=r"got kind 'table'"):
        artefacts.Artefact("x", kind=artefacts.TABLE, formats=artefacts.TABULAR, rule="fig_x", drawer="x")


def test_chart_rules_get_the_figures_log_and_benchmark_template():
    for chart in artefacts.charts():
        assert artefacts.job_log(chart.rule) == f"logs/figures/{chart.stem}.log"
        assert artefacts.job_benchmark(chart.rule) == f"benchmarks/figures/{chart.stem}.tsv"


def _package_copy(tmp_path: Path) -> Path:
    """snnconv/ and scripts/figure.py copied, so a module can be edited without touching the checkout."""
    tmp_path.mkdir(parents=True)
    shutil.copytree(REPO / "snnconv", tmp_path / "snnconv", ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "scripts").mkdir()
    shutil.copy2(REPO / "scripts" / "figure.py", tmp_path / "scripts" / "figure.py")
    return tmp_path


def test_the_digest_of_the_generic_script_covers_the_drawer_it_is_given(tmp_path):
    root, edited = _package_copy(tmp_path / "a"), _package_copy(tmp_path / "b")
    module = edited / "snnconv" / "report" / "low_T_gap.py"
    module.write_text(module.read_text() + "\nEDITED = 1\n")  # a change of what the drawer does
    drawer, other = ("snnconv.report.low_T_gap",), ("snnconv.report.accuracy_vs_T",)
    files = codehash.package_closure(root / "scripts" / "figure.py", root, modules=drawer)
    assert root / "snnconv" / "report" / "low_T_gap.py" in files
    assert root / "snnconv" / "report" / "accuracy_vs_T.py" not in files  # another chart's module is not

    def digest(tree: Path, modules: tuple[str, ...]) -> str:
        return codehash.script_digest(tree / "scripts" / "figure.py", tree, modules)

    assert digest(edited, drawer) != digest(root, drawer)
    assert digest(edited, other) == digest(root, other)  # the other charts' rules do not rerun
    assert digest(root, ()) == digest(edited, ())  # without the drawer named, the edit would go unseen


def test_a_drawer_module_without_a_file_is_named(tmp_path):
    root = _package_copy(tmp_path / "a")
    with pytest.raises(FileNotFoundError, match=r"snnconv\.report\.nonesuch .* has no file under"):
        codehash.package_closure(root / "scripts" / "figure.py", root, modules=("snnconv.report.nonesuch",))
