"""A published snapshot proves every file it holds (``python -m snnconv.publish verify``).

Verifying used to recompute three tables and certify the rest unseen: a deleted figure, a ``main.pdf`` replaced by
garbage, an edited ``variance_correlation.csv`` or ``accuracy_at_T.csv`` all gave "OK, no drift", and a truncated
``accuracy_all.csv.gz`` raised a raw ``EOFError``. Now every file is checked against ``SHA256SUMS`` (missing and
extra files refused, and the files every snapshot must hold required in it), the digests PROVENANCE records are
compared, and whatever can be re-derived is, so that even an edit carried consistently into ``SHA256SUMS`` fails
where the content can be recomputed. The snapshot here is made from the tiny run with its data gzipped (the form of
large runs) and a stand-in paper PDF.
"""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pandas as pd
import pytest
from helpers import TINY

from snnconv.atomic import sha256_file
from snnconv.publish.cli import main
from snnconv.publish.layout import MANIFEST
from snnconv.publish.make import make_snapshot
from snnconv.publish.verify import verify_snapshot

COMMAND = "snakemake --cores 2 --configfile tests/configs/tiny.yaml"


@pytest.fixture(scope="module")
def sealed(tiny_run, tmp_path_factory) -> Path:
    """A snapshot of the tiny run: accuracy_all gzipped beside accuracy_at_T.csv, a paper PDF (read only)."""
    root = tmp_path_factory.mktemp("sealed")
    pdf = root / "main.pdf"
    pdf.write_bytes(b"%PDF-1.5 stand-in paper\n%%EOF\n")
    return make_snapshot(TINY, tiny_run, root / "tiny", COMMAND, paper_pdf=pdf, max_plain_bytes=0)


@pytest.fixture()
def snap(sealed, tmp_path) -> Path:
    """A private copy of the sealed snapshot."""
    return Path(shutil.copytree(sealed, tmp_path / sealed.name))


def reseal_line(snap: Path, rel: str) -> None:
    """Carry an edit of ``rel`` into SHA256SUMS (a consistent forgery of that one file's digest)."""
    manifest = snap / MANIFEST
    lines = manifest.read_text().splitlines()
    lines = [f"{sha256_file(snap / rel)}  {rel}" if line.endswith(f"  {rel}") else line for line in lines]
    manifest.write_text("\n".join(lines) + "\n")


def drop_line(snap: Path, rel: str) -> None:
    """Remove ``rel`` from SHA256SUMS."""
    manifest = snap / MANIFEST
    manifest.write_text("".join(line + "\n" for line in manifest.read_text().splitlines() if not line.endswith(rel)))


@pytest.mark.integration
def test_the_sealed_snapshot_verifies_and_lists_every_file(sealed, capsys):
    assert verify_snapshot(sealed) == []
    listed = [line.split("  ", 1)[1] for line in (sealed / MANIFEST).read_text().splitlines()]
    on_disk = sorted(p.relative_to(sealed).as_posix() for p in sealed.rglob("*") if p.is_file())
    assert sorted(listed + [MANIFEST]) == on_disk and "main.pdf" in listed and "tables/accuracy_at_T.csv" in listed
    assert main(["verify", str(sealed)]) == 0
    assert f"OK, {len(listed)} files match {MANIFEST}" in capsys.readouterr().out


def every_file(sealed_dir: Path) -> list[str]:
    """Every file of a sealed snapshot, the manifest included."""
    return sorted(p.relative_to(sealed_dir).as_posix() for p in sealed_dir.rglob("*") if p.is_file())


@pytest.mark.integration
def test_any_change_to_any_file_fails(sealed, tmp_path):
    """One byte appended to each file in turn: every one of them is named."""
    for i, rel in enumerate(every_file(sealed)):
        copy = Path(shutil.copytree(sealed, tmp_path / f"c{i}"))
        with open(copy / rel, "ab") as handle:
            handle.write(b" ")
        problems = verify_snapshot(copy)
        assert any(str(copy / (rel if rel != MANIFEST else MANIFEST)) in p for p in problems), (rel, problems)
        shutil.rmtree(copy)


@pytest.mark.integration
def test_a_deleted_figure_is_missing(snap):
    (snap / "figures" / "accuracy_vs_T.png").unlink()
    assert verify_snapshot(snap) == [f"{snap / 'figures' / 'accuracy_vs_T.png'}: missing (listed in {MANIFEST})"]
    drop_line(snap, "figures/accuracy_vs_T.png")  # deleted from the manifest too: still required
    assert verify_snapshot(snap) == [
        f"{snap / 'figures' / 'accuracy_vs_T.png'}: not in {MANIFEST}, but every snapshot holds it"
    ]


@pytest.mark.integration
def test_a_garbage_paper_is_refused_even_with_its_digest_resealed(snap):
    pdf = snap / "main.pdf"
    pdf.write_bytes(b"garbage")
    problems = verify_snapshot(snap)
    assert any(p.startswith(f"{pdf}: SHA-256") and MANIFEST in p for p in problems), problems
    assert any(p.startswith(f"{pdf}: SHA-256") and "paper_pdf.sha256" in p for p in problems), problems
    reseal_line(snap, "main.pdf")
    problems = verify_snapshot(snap)
    assert len(problems) == 1 and problems[0].startswith(f"{pdf}: SHA-256 {sha256_file(pdf)} != "), problems
    assert problems[0].endswith("recorded in PROVENANCE (paper_pdf.sha256)")


@pytest.mark.integration
def test_edited_variance_table_is_refused_even_with_its_digest_resealed(snap):
    table = snap / "tables" / "variance_correlation.csv"
    frame = pd.read_csv(table)
    frame.loc[0, "spearman"] = -0.5 if frame.loc[0, "spearman"] > 0 else 0.5
    frame.to_csv(table, index=False)
    assert any(p.startswith(f"{table}: SHA-256") for p in verify_snapshot(snap))
    reseal_line(snap, "tables/variance_correlation.csv")
    problems = verify_snapshot(snap)
    assert f"{snap / 'tables' / 'variance_correlation.md'}: differs from the Markdown recomputed from the data" in (
        problems
    ), problems


@pytest.mark.integration
def test_edited_reduced_table_is_refused_even_with_its_digest_resealed(snap):
    reduced = snap / "tables" / "accuracy_at_T.csv"
    frame = pd.read_csv(reduced)
    frame.loc[3, "accuracy"] = round(1 - frame.loc[3, "accuracy"], 4)
    frame.to_csv(reduced, index=False)
    reseal_line(snap, "tables/accuracy_at_T.csv")
    problems = verify_snapshot(snap)
    assert any(p.startswith(f"{reduced}: line 5, column 'accuracy'") for p in problems), problems


@pytest.mark.integration
def test_an_extra_file_is_refused(snap):
    (snap / "figures" / "extra.png").write_bytes(b"\x89PNG")
    (snap / ".notes").write_text("x")
    problems = verify_snapshot(snap)
    assert problems == [
        f"{snap / '.notes'}: not part of the snapshot (not in {MANIFEST}); remove it or remake the snapshot",
        f"{snap / 'figures' / 'extra.png'}: not part of the snapshot (not in {MANIFEST}); remove it or remake the snapshot",
    ]


@pytest.mark.integration
def test_a_truncated_archive_is_named_not_a_traceback(snap, capsys):
    data = snap / "tables" / "accuracy_all.csv.gz"
    data.write_bytes(data.read_bytes()[: data.stat().st_size // 2])
    problems = verify_snapshot(snap)
    assert any(p.startswith(f"{data}: cannot be read (EOFError") and "truncated or corrupt" in p for p in problems)
    assert main(["verify", str(snap)]) == 1
    out = capsys.readouterr()
    assert "Traceback" not in out.out + out.err and str(data) in out.out


@pytest.mark.integration
def test_an_edited_config_is_refused_even_with_its_digest_resealed(snap):
    config = snap / "config.yaml"
    config.write_text(config.read_text().replace("T: 20", "T: 30"))
    reseal_line(snap, "config.yaml")
    problems = verify_snapshot(snap)
    assert any(p.startswith(f"{config}: SHA-256") and "config.sha256" in p for p in problems), problems
    assert any("simulation.T = 20, but config.yaml sets 30" in p for p in problems), problems


@pytest.mark.integration
def test_gzipped_data_holds_the_run_bytes(sealed, tiny_run):
    with gzip.open(sealed / "tables" / "accuracy_all.csv.gz", "rb") as handle:
        assert handle.read() == (tiny_run / "results" / "tables" / "accuracy_all.csv").read_bytes()


@pytest.mark.integration
def test_an_older_snapshot_is_resealed_only_if_it_verifies(snap, capsys):
    (snap / MANIFEST).unlink()
    assert verify_snapshot(snap)[0].startswith(f"{snap / MANIFEST}: missing")
    assert main(["reseal", str(snap)]) == 0 and verify_snapshot(snap) == []
    (snap / MANIFEST).unlink()
    table = snap / "tables" / "accuracy_main.csv"
    table.write_text(table.read_text().replace("0.", "0.9", 1))
    assert main(["reseal", str(snap)]) == 1
    assert "does not verify, so it is not resealed" in capsys.readouterr().err and not (snap / MANIFEST).exists()
