"""Results snapshots (snnconv.publish): made from the finished tiny run, checked file by file."""

from __future__ import annotations

import gzip
import os
import platform
import shutil
import subprocess
from importlib.metadata import version
from pathlib import Path

import pandas as pd
import pytest
import yaml
from helpers import REPO

from snnconv.atomic import sha256_file
from snnconv.defaults import defaults
from snnconv.publish import make as making
from snnconv.publish.cli import main
from snnconv.publish.layout import SnapshotError
from snnconv.publish.make import make_snapshot
from snnconv.publish.run import foreign
from snnconv.publish.verify import verify_tables

pytestmark = pytest.mark.integration

TINY = REPO / "tests" / "configs" / "tiny.yaml"
COMMAND = "snakemake --cores 2 --configfile tests/configs/tiny.yaml"


def make(tiny_run: Path, out: Path, **kwargs) -> Path:
    """A snapshot of the tiny run into ``out``."""
    return make_snapshot(TINY, tiny_run, out, COMMAND, **kwargs)


@pytest.fixture(scope="module")
def snap(tiny_run, tmp_path_factory) -> Path:
    """One snapshot of the tiny run (read only: tests that change it work on a copy)."""
    return make(tiny_run, tmp_path_factory.mktemp("snapshots") / "tiny")


def copy_of(snap: Path, tmp_path: Path) -> Path:
    """A private copy of a snapshot folder."""
    return Path(shutil.copytree(snap, tmp_path / snap.name))


def expected_rule(relpath: Path) -> str:
    """The rule of a benchmark file, from the layout the .smk files use (figures/ and paper/ are flat)."""
    stage = relpath.parts[1]
    if stage == "figures":
        return relpath.stem if relpath.stem in ("aggregate", "tables") else f"fig_{relpath.stem}"
    return relpath.stem if stage == "paper" else stage


def test_tables_figures_and_config_are_copied_verbatim(snap, tiny_run):
    tables = tiny_run / "results" / "tables"
    copied = sorted(p.name for p in (snap / "tables").iterdir())
    expected = sorted(p.name for p in tables.iterdir() if p.suffix in (".csv", ".md"))
    assert copied == expected and "accuracy_all.csv" in copied
    for name in copied:
        assert (snap / "tables" / name).read_bytes() == (tables / name).read_bytes(), name
    pngs = sorted(p.name for p in (tiny_run / "results" / "figures").glob("*.png"))
    assert len(pngs) == 8 and sorted(p.name for p in (snap / "figures").iterdir()) == pngs  # 7 figures + sweep heatmap
    assert all((snap / "figures" / n).read_bytes() == (tiny_run / "results" / "figures" / n).read_bytes() for n in pngs)
    assert (snap / "config.yaml").read_bytes() == TINY.read_bytes()
    effective = yaml.safe_load((snap / "config.effective.yaml").read_text())
    assert effective["report"]["T_points"] == [5, 10, 20] and effective["report"]["within"] == 0.01
    # the run folder has no config/config.yaml, so Snakemake used tiny.yaml alone; the schema's own defaults (every
    # arch's options) are filled in as for any run, tiny.yaml's mlp options over them
    schema = defaults()["arch_options"]
    assert set(effective["arch_options"]) == set(schema)
    assert effective["arch_options"]["resnet"] == schema["resnet"]
    assert effective["arch_options"]["mlp"] == {**schema["mlp"], "hidden": [32], "dropout": 0.0}
    assert not (snap / "main.pdf").exists()  # the tiny run built no paper
    assert not [p for p in snap.parent.iterdir() if p.name.startswith(".")], "staging folder left behind"


def test_provenance_holds_every_field(snap, tiny_run):
    prov = yaml.safe_load((snap / "PROVENANCE").read_text())
    assert prov["command"] == COMMAND
    assert prov["config"]["path"] == str(TINY) and prov["config"]["sha256"] == sha256_file(TINY)
    head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True, text=True, check=True)
    assert prov["code"]["revision"] == head.stdout.strip() and isinstance(prov["code"]["dirty"], bool)
    packages = prov["packages"]
    assert list(packages) == ["python", "torch", "numpy", "pandas", "scipy", "snakemake", "matplotlib", "seaborn"]
    assert packages["python"] == platform.python_version()
    for name in ("torch", "numpy", "pandas", "scipy", "snakemake", "matplotlib"):
        assert packages[name] == version(name), name
    machine = prov["machine"]
    assert machine["cpu"] and machine["nproc"] == os.cpu_count() and machine["memory_total_gib"] > 0 and machine["os"]
    run = prov["run"]
    assert run["start"] <= run["end"] <= prov["snapshot"]["made"] and 0 < run["wall_s"] < 3600
    assert prov["accuracy_all"]["kept_as"] == "accuracy_all.csv" and prov["paper_pdf"] is None
    assert prov["accuracy_all"]["sha256"] == sha256_file(tiny_run / "results" / "tables" / "accuracy_all.csv")


def test_stage_times_are_the_sums_of_the_benchmark_files(snap, tiny_run):
    prov = yaml.safe_load((snap / "PROVENANCE").read_text())
    want: dict[str, dict[str, float]] = {}
    for tsv in (tiny_run / "benchmarks").rglob("*.tsv"):
        frame = pd.read_csv(tsv, sep="\t")
        entry = want.setdefault(expected_rule(tsv.relative_to(tiny_run)), {"jobs": 0, "wall_s": 0.0, "cpu_s": 0.0})
        entry["jobs"] += 1
        entry["wall_s"] += frame["s"].sum()
        entry["cpu_s"] += frame["cpu_time"].sum()
    assert set(prov["stages"]) == set(want) and {"train_ann", "simulate", "tables", "fig_variance_claim"} <= set(want)
    for rule, got in prov["stages"].items():
        assert got["jobs"] == want[rule]["jobs"], rule
        assert got["wall_s"] == pytest.approx(want[rule]["wall_s"], abs=1e-3), rule
        assert got["cpu_s"] == pytest.approx(want[rule]["cpu_s"], abs=1e-3), rule
    assert prov["stages"]["simulate"]["jobs"] == 2
    total = prov["stage_totals"]
    assert total["jobs"] == sum(w["jobs"] for w in want.values())
    assert total["wall_s"] == pytest.approx(sum(w["wall_s"] for w in want.values()), abs=1e-3)


def test_readme_inlines_the_headline_tables_and_lists_the_files(snap):
    text = (snap / "README.md").read_text()
    for stem in ("accuracy_main", "variance_correlation"):
        assert (snap / "tables" / f"{stem}.md").read_text().strip() in text
    assert COMMAND in text and yaml.safe_load((snap / "PROVENANCE").read_text())["code"]["revision"] in text
    for path in snap.rglob("*"):
        if path.is_file():
            assert f"`{path.relative_to(snap).as_posix()}`" in text, path
    assert "![accuracy_vs_T](figures/accuracy_vs_T.png)" in text


def test_verify_finds_no_drift_then_a_hand_edited_number(snap, tmp_path):
    assert verify_tables(snap) == []
    copy = copy_of(snap, tmp_path)
    table = copy / "tables" / "accuracy_main.csv"
    frame = pd.read_csv(table)
    row = frame.index[frame["quantity"] == "accuracy"][0]
    frame.loc[row, "mean"] = frame.loc[row, "mean"] + 0.01
    frame.to_csv(table, index=False)
    md = copy / "tables" / "accuracy_full.md"
    md.write_text(md.read_text().replace("69.0", "96.0", 1))
    problems = verify_tables(copy)
    assert any("accuracy_main.csv" in p and f"line {row + 2}" in p and "'mean'" in p for p in problems), problems
    assert any("accuracy_full.md" in p for p in problems), problems
    assert len(problems) == 2, problems


def test_verify_reports_edited_data(snap, tmp_path):
    copy = copy_of(snap, tmp_path)
    data = copy / "tables" / "accuracy_all.csv"
    data.write_text(data.read_text().replace("0.68", "0.69", 1))
    problems = verify_tables(copy)
    assert problems and "SHA-256" in problems[0] and "accuracy_all.csv" in problems[0]


def test_large_accuracy_table_is_gzipped_with_a_reduced_copy(tiny_run, tmp_path):
    out = make(tiny_run, tmp_path / "big", max_plain_bytes=0)
    source = tiny_run / "results" / "tables" / "accuracy_all.csv"
    assert not (out / "tables" / "accuracy_all.csv").exists()
    with gzip.open(out / "tables" / "accuracy_all.csv.gz", "rb") as handle:
        assert handle.read() == source.read_bytes()
    at_T = pd.read_csv(out / "tables" / "accuracy_at_T.csv")
    full = pd.read_csv(source)
    assert sorted(at_T["t"].unique()) == [5, 10, 20] and len(at_T) == full["t"].isin([5, 10, 20]).sum()
    assert "accuracy_all.csv.gz" in (out / "README.md").read_text()
    assert verify_tables(out) == []


def test_refuses_an_incomplete_run(tiny_run, tmp_path):
    work = tmp_path / "run"
    shutil.copytree(tiny_run / "results" / "tables", work / "results" / "tables")
    shutil.copytree(tiny_run / "results" / "figures", work / "results" / "figures")
    (work / "results" / "tables" / "accuracy_main.csv").unlink()
    with pytest.raises(SnapshotError, match=r"incomplete: missing results/tables/accuracy_main\.csv"):
        make(work, tmp_path / "out")
    (tmp_path / "empty-run").mkdir()
    with pytest.raises(SnapshotError, match="accuracy_all.csv.*accuracy_main.csv.*accuracy_vs_T.png"):
        make(tmp_path / "empty-run", tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_existing_snapshot_needs_force(snap, tiny_run, tmp_path):
    out = copy_of(snap, tmp_path)
    (out / "marker").write_text("old")
    with pytest.raises(SnapshotError, match="exists.*--force"):
        make(tiny_run, out)
    assert (out / "marker").read_text() == "old"
    make(tiny_run, out, force=True)
    assert not (out / "marker").exists() and (out / "PROVENANCE").is_file()
    assert [p.name for p in tmp_path.iterdir()] == [out.name]


def test_failure_leaves_no_partial_snapshot(tiny_run, tmp_path, monkeypatch):
    real, calls = making._copy_file, []

    def flaky(src: Path, dst: Path) -> None:
        """Copy, but fail on the fifth file."""
        calls.append(src)
        if len(calls) == 5:
            raise OSError("disk full (simulated)")
        real(src, dst)

    monkeypatch.setattr(making, "_copy_file", flaky)
    with pytest.raises(OSError, match="simulated"):
        make(tiny_run, tmp_path / "out")
    assert list(tmp_path.iterdir()) == []
    # an existing snapshot survives a failed --force replacement
    monkeypatch.setattr(making, "_copy_file", real)
    make(tiny_run, tmp_path / "out")
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    calls.clear()
    monkeypatch.setattr(making, "_copy_file", flaky)
    with pytest.raises(OSError, match="simulated"):
        make(tiny_run, tmp_path / "out", force=True)
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before


def test_paper_pdf_is_copied_unless_stale(tiny_run, tmp_path):
    pdf = tmp_path / "main.pdf"
    pdf.write_bytes(b"%PDF-1.5 stand-in")
    out = make(tiny_run, tmp_path / "with-paper", paper_pdf=pdf)
    assert (out / "main.pdf").read_bytes() == pdf.read_bytes()
    assert yaml.safe_load((out / "PROVENANCE").read_text())["paper_pdf"]["sha256"] == sha256_file(pdf)
    old = (tiny_run / "results" / "tables" / "accuracy_all.csv").stat().st_mtime - 3600
    os.utime(pdf, (old, old))
    with pytest.raises(SnapshotError, match="older than"):
        make(tiny_run, tmp_path / "stale", paper_pdf=pdf)
    with pytest.raises(SnapshotError, match="no such file"):
        make(tiny_run, tmp_path / "none", paper_pdf=tmp_path / "absent.pdf")


def test_cli_makes_and_verifies(tiny_run, tmp_path, capsys):
    out = tmp_path / "cli"
    args = ["make", "--config", str(TINY), "--workdir", str(tiny_run), "--out", str(out), "--command", COMMAND]
    assert main(args) == 0 and (out / "PROVENANCE").is_file()
    assert main(["verify", str(out)]) == 0
    assert "no drift" in capsys.readouterr().out
    assert main(args) == 1
    assert "exists" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["make", "--config", str(TINY)])


def test_files_of_another_configs_run_are_left_out(snap, tiny_run, tmp_path):
    work = tmp_path / "run"
    for part in ("results", "benchmarks", ".snakemake/metadata"):
        shutil.copytree(tiny_run / part, work / part)
    stale = work / "benchmarks" / "simulate" / "mnist" / "cnn" / "seed0" / "max.tsv"
    stale.parent.mkdir(parents=True)
    stale.write_text("s\th:m:s\tcpu_time\n1000.0\t0:16:40\t900.0\n")
    out = make(work, tmp_path / "out")
    prov, before = (yaml.safe_load((d / "PROVENANCE").read_text()) for d in (out, snap))
    assert prov["stages"] == before["stages"] and prov["run"]["start"] == before["run"]["start"]
    cfg = {"datasets": ["digits"], "archs": ["mlp"], "dataset_archs": {}, "seeds": [0]}  # a validated config's keys
    assert foreign("benchmarks/train_ann/digits/cnn/seed0.tsv", cfg)
    assert foreign("results/sim/digits/mlp/seed1/max/input0.csv", cfg)
    assert not foreign("benchmarks/simulate/digits/mlp/seed0/max.tsv", cfg)
    assert not foreign("benchmarks/figures/tables.tsv", cfg)
