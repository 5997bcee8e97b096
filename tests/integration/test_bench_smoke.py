"""The benchmark scripts run (smoke sizes) and each prints a ratio line; spikingjelly may be absent."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
from helpers import REPO

pytestmark = pytest.mark.integration

SECTIONS = ("simulator", "spikingjelly", "pipeline", "memory", "channels_last")


def _run(args: list[str], timeout: int, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONHASHSEED": "0", "PYTHONPATH": str(REPO), **(env or {})}
    return subprocess.run([sys.executable, *args], cwd=REPO, capture_output=True, text=True, timeout=timeout, env=env)


def test_run_all_smoke_prints_a_ratio_per_section():
    proc = _run(["bench/run_all.py", "--smoke"], timeout=900)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    summary = out[out.index("=== summary") :]
    for name in SECTIONS:
        block = re.search(rf"\[{name}\] rc=(\d+).*?(?=\n\[|\Z)", summary, re.S)
        assert block, f"section {name} missing from the summary:\n{summary}"
        assert block.group(1) == "0", block.group(0)
        assert re.search(r"ratio|speed-up|skipped: spikingjelly not installed", block.group(0), re.I), block.group(0)
    assert "NO RATIO LINE" not in summary


def test_spikingjelly_bench_skips_cleanly_when_absent(tmp_path):
    fake = tmp_path / "spikingjelly"
    fake.mkdir()
    (fake / "__init__.py").write_text("raise ImportError('hidden by the test')\n")
    proc = _run(
        ["bench/bench_spikingjelly.py", "--smoke"],
        timeout=120,
        env={"PYTHONPATH": os.pathsep.join([str(tmp_path), str(REPO)])},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "skipped: spikingjelly not installed" in proc.stdout


def test_gpu_check_runs_on_the_cpu(tmp_path):
    """bench/gpu_check.py --device cpu on a tiny net, as CI runs it: every section passes, the report is written."""
    import json

    out = tmp_path / "gpu_check.json"
    proc = _run(["bench/gpu_check.py", "--device", "cpu", "--smoke", "--out", str(out)], timeout=900)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    report = json.loads(out.read_text())
    assert report["stream"]["ok"] and report["stream"]["eager_equal"] and report["stream"]["compiled_equal"]
    assert report["curves"]["ok"] and report["tests"]["ok"]
    assert report["speed"]["cnn"]["compiled"]["engine"] == "compiled"
    assert "| stream bit-equal | curves within tolerance |" in proc.stdout


def test_unit_layer_bench_prints_serial_and_parallel_times():
    """bench/bench_test_fast.py --smoke: both pytest runs pass (the two-worker one with the unit layer's scheduler)."""
    proc = _run(["bench/bench_test_fast.py", "--smoke"], timeout=300)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    assert re.search(r"serial: .* s wall", proc.stdout) and re.search(r"2 workers: .* s wall", proc.stdout)
    assert re.search(r"ratio parallel/serial wall: \d+\.\d\d", proc.stdout)
