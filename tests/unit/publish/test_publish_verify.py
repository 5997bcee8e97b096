"""Verifying a snapshot (snnconv.publish.verify): how a committed table is compared with its recomputation."""

from __future__ import annotations

from snnconv.publish.verify import compare_csv


def test_verify_tolerates_float_noise_but_not_integer_changes(tmp_path):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text("x,n,s\n0.1234567890123456,3,max\n")
    b.write_text("x,n,s\n0.1234567890123457,3,max\n")
    assert compare_csv(a, b) == []
    b.write_text("x,n,s\n0.12345678901,3,max\n")
    assert len(compare_csv(a, b)) == 1
    b.write_text("x,n,s\n0.1234567890123456,4,max\n")
    assert "column 'n'" in compare_csv(a, b)[0]
    b.write_text("x,n,s\n0.1234567890123456,3,l4\n")
    assert "column 's'" in compare_csv(a, b)[0]
