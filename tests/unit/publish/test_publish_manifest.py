"""A snapshot's SHA256SUMS (snnconv.publish.manifest) and the files every snapshot holds (snnconv.publish.layout)."""

from __future__ import annotations

import hashlib

import pytest

from snnconv.publish.layout import MANIFEST, TOOL, SnapshotError, read_provenance, required_files
from snnconv.publish.manifest import read_manifest, snapshot_files, write_manifest


def test_manifest_lists_every_other_file_in_sha256sums_format(tmp_path):
    (tmp_path / "tables").mkdir()
    (tmp_path / "tables" / "a.csv").write_text("x\n1\n")
    (tmp_path / ".hidden").write_text("h")
    path = write_manifest(tmp_path)
    assert path == tmp_path / MANIFEST
    digest = hashlib.sha256(b"x\n1\n").hexdigest()
    assert path.read_text() == f"{hashlib.sha256(b'h').hexdigest()}  .hidden\n{digest}  tables/a.csv\n"
    assert snapshot_files(tmp_path) == [".hidden", "tables/a.csv"]  # hidden files included, the manifest not
    assert read_manifest(tmp_path) == ({".hidden": hashlib.sha256(b"h").hexdigest(), "tables/a.csv": digest}, [])


def test_malformed_unsafe_and_repeated_lines_are_named(tmp_path):
    digest = "0" * 64
    (tmp_path / MANIFEST).write_text(
        f"{digest}  ok.txt\nnot a line\n{digest}  ../escape\n{digest}  /abs\n{digest}  ok.txt\n"
    )
    listed, problems = read_manifest(tmp_path)
    assert listed == {"ok.txt": digest}
    path = tmp_path / MANIFEST
    assert problems == [
        f"{path}: line 2 is not '<sha256>  <path>': 'not a line'",
        f"{path}: line 3: unsafe path '../escape' (absolute or '..')",
        f"{path}: line 4: unsafe path '/abs' (absolute or '..')",
        f"{path}: line 5: ok.txt listed twice",
    ]


def test_a_missing_manifest_says_how_to_regenerate_it(tmp_path):
    listed, problems = read_manifest(tmp_path)
    assert listed == {} and len(problems) == 1
    assert problems[0].startswith(f"{tmp_path / MANIFEST}: missing") and f"{TOOL} reseal" in problems[0]


def test_required_files_follow_what_provenance_says_was_published():
    plain = required_files({"accuracy_all": {"kept_as": "accuracy_all.csv"}, "paper_pdf": None})
    assert plain[:4] == ["PROVENANCE", "README.md", "config.yaml", "config.effective.yaml"]
    assert "tables/accuracy_all.csv" in plain and "main.pdf" not in plain
    assert "tables/accuracy_main.csv" in plain and "figures/accuracy_vs_T.png" in plain
    packed = required_files(
        {
            "accuracy_all": {"kept_as": "accuracy_all.csv.gz", "reduced": "accuracy_at_T.csv"},
            "paper_pdf": {"sha256": "0" * 64},
        }
    )
    assert {"tables/accuracy_all.csv.gz", "tables/accuracy_at_T.csv", "main.pdf"} <= set(packed)
    assert "tables/accuracy_all.csv" not in packed


def test_a_folder_without_provenance_is_not_a_snapshot(tmp_path):
    with pytest.raises(SnapshotError, match=f"PROVENANCE: missing .not a snapshot made by {TOOL}"):
        read_provenance(tmp_path)
    (tmp_path / "PROVENANCE").write_text("- a list\n")
    with pytest.raises(SnapshotError, match="must be a YAML mapping, got list"):
        read_provenance(tmp_path)
