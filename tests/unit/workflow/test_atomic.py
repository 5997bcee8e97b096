"""Atomic writes: the final name appears only on success, with normal (umask) permissions."""

from __future__ import annotations

import os

import pytest

from snnconv.atomic import atomic_path, write_json


def test_success_renames_into_place_with_umask_permissions(tmp_path):
    target = tmp_path / "sub" / "out.json"
    write_json(target, {"b": 1, "a": [1, 2]})
    assert target.read_text().startswith('{\n  "a"')
    umask = os.umask(0o022)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask
    assert [p.name for p in target.parent.iterdir()] == ["out.json"]


def test_failure_leaves_nothing_behind(tmp_path):
    target = tmp_path / "out.csv"
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("job died")
    assert list(tmp_path.iterdir()) == []
