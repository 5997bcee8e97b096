"""Resource sanity before work starts: absurd sizes are refused by the schema, and a simulation whose buffers
cannot fit in this machine's memory is refused by its job before allocating, naming the settings and sizes."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from helpers.workflow import run_snakemake, tiny_config, write_config

TINY = tiny_config()


def snakemake(workdir: Path, config: dict, *args: str) -> subprocess.CompletedProcess:
    """Run the real workflow on ``config`` in ``workdir``."""
    return run_snakemake(
        workdir, write_config(workdir / "config.yaml", config), *args, cores=2, check=False, timeout=900
    )


@pytest.mark.integration
@pytest.mark.parametrize(
    "section, key, value",
    [
        ("simulation", "T", 100_000_000),
        ("simulation", "batch_size", 10**9),
        ("stats", "T", 10**9),
        ("training", "epochs", 10**6),
        ("conversion", "norm_set_size", 10**9),
        ("simulation", "threads", 10**4),
    ],
)
def test_absurd_sizes_are_refused_before_any_job(tmp_path, section, key, value):
    cfg = {**TINY, section: {**TINY.get(section, {}), key: value}}
    proc = snakemake(tmp_path, cfg, "-n")
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert f"{section}.{key}" in out and str(value) in out and "maximum" in out
    assert not (tmp_path / "results").exists()


@pytest.mark.integration
def test_simulation_that_cannot_fit_is_refused_naming_the_settings(tmp_path):
    cfg = {
        **TINY,
        "conversion": {**TINY["conversion"], "norms": ["max"]},
        "simulation": {**TINY["simulation"], "T": 100_000, "time_chunk": 100_000},
        "stats": {**TINY["stats"], "norms": ["max"]},
    }
    proc = snakemake(tmp_path, cfg, "--until", "simulate")
    assert proc.returncode != 0
    log = (tmp_path / "logs" / "simulate" / "digits" / "mlp" / "seed0" / "max.log").read_text()
    assert "simulation.batch_size × simulation.time_chunk" in log and "100000 time steps" in log
    assert "GiB" in log and "MemoryError" in log
    assert not (tmp_path / "results" / "sim").exists() or not list((tmp_path / "results" / "sim").rglob("*.csv"))
