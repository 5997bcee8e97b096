"""YAML alias bombs and unbounded values in config errors (issue 12, item 1), through the real entry point.

A few hundred bytes of nested YAML aliases expand to hundreds of millions of values; before the guard
(snnconv/config_guard.py) schema validation walked and printed the expanded value for minutes until memory
ran out. Now the config is refused, naming the problem, before validation; no job runs, nothing is written.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from test_reliability_support import TINY, leftovers, snakemake_cmd, snakemake_env, tiny_config

from snnconv.config import ConfigError, validate_config
from snnconv.config_guard import MAX_CONFIG_NODES, count_nodes, short_repr

LEVELS, WIDTH = 9, 9  # 9**9 ≈ 3.9e8 values after expansion, from a ~0.5 kB file


def alias_bomb(kind: str = "list", levels: int = LEVELS) -> str:
    """YAML lines defining anchors l0..l<levels-1>, each holding WIDTH aliases of the one before."""
    if kind == "list":
        lines = ["l0: &l0 [" + ", ".join(['"lol"'] * WIDTH) + "]"]
        lines += [f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * WIDTH) + "]" for i in range(1, levels)]
    else:
        keys = "abcdefghi"[:WIDTH]
        lines = ["l0: &l0 {" + ", ".join(f"{k}: lol" for k in keys) + "}"]
        lines += [f"l{i}: &l{i} {{" + ", ".join(f"{k}: *l{i - 1}" for k in keys) + "}" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


def bomb_config(path: Path, kind: str, key: str, levels: int = LEVELS) -> Path:
    """The tiny config with the bomb's anchors first and ``key`` (a real config key) set to the last one."""
    body = [line for line in TINY.read_text().splitlines() if not line.startswith(f"{key}:")]
    path.write_text(alias_bomb(kind, levels) + "\n".join(body) + f"\n{key}: *l{levels - 1}\n")
    return path


def run_measured(
    cmd: list[str], timeout: int = 240, limit_bytes: int = 4 << 30
) -> tuple[subprocess.CompletedProcess, int]:
    """Run ``cmd`` under an intermediate interpreter, its address space capped at ``limit_bytes`` (a regression
    must fail the test, not exhaust the shared machine); returns the process and its peak RSS in kB."""
    wrapper = (
        "import json, resource, subprocess, sys\n"
        "cap = lambda: resource.setrlimit(resource.RLIMIT_AS, (int(sys.argv[1]), int(sys.argv[1])))\n"
        "try:\n"
        "    p = subprocess.run(sys.argv[3:], capture_output=True, text=True, preexec_fn=cap,\n"
        "                       timeout=float(sys.argv[2]))\n"
        "    rc, out = p.returncode, p.stdout + p.stderr\n"
        "except subprocess.TimeoutExpired as exc:\n"
        "    rc, out = 'timeout', str(exc)\n"
        "print(json.dumps({'rc': rc, 'out': out,\n"
        "                  'maxrss': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", wrapper, str(limit_bytes), str(timeout), *cmd],
        capture_output=True,
        text=True,
        timeout=timeout + 60,
        env=snakemake_env(),
    )
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["rc"] != "timeout", f"{cmd} ran past {timeout} s"
    return subprocess.CompletedProcess(cmd, result["rc"], result["out"], ""), int(result["maxrss"])


def test_bomb_file_is_small_and_expands_hugely(tmp_path):
    assert len(alias_bomb("list").encode()) < 1000 and len(alias_bomb("dict").encode()) < 1000
    path = bomb_config(tmp_path / "bomb.yaml", "list", "seeds")
    loaded = yaml.safe_load(path.read_text())  # PyYAML keeps aliases shared: loading itself is cheap
    assert count_nodes(loaded["seeds"], cap=10**6) > 10**6


# Snakemake's own CLI merges --configfile mappings with a recursive copy (snakemake.utils.update_config), so
# a bomb of nested *mappings* is expanded by snakemake itself before any workflow code runs: 9 levels of 9
# exhaust memory there (docs/reliability.md). Mapping bombs are tested at 6 levels (5.3e5 values), which
# snakemake copies in about a second and the guard then refuses; list bombs are never copied by snakemake.
@pytest.mark.parametrize("kind,key,levels", [("list", "seeds", LEVELS), ("dict", "simulation", 6)])
def test_alias_bomb_is_refused_by_snakemake(tmp_path, kind, key, levels):
    """`snakemake -n --configfile bomb.yaml` fails fast, naming the problem, with bounded output and memory."""
    config = bomb_config(tmp_path / "bomb.yaml", kind, key, levels)
    work = tmp_path / "work"
    proc, peak_kb = run_measured(snakemake_cmd(work, config, "-n"), timeout=300)
    assert proc.returncode != 0
    assert f"expands to more than {MAX_CONFIG_NODES} values" in proc.stdout
    assert "alias" in proc.stdout
    assert len(proc.stdout) < 20_000, f"unbounded error output ({len(proc.stdout)} characters)"
    assert peak_kb < 1_000_000, f"peak RSS {peak_kb} kB: the bomb was expanded"
    assert not any((work / d).exists() for d in ("results", "logs", "benchmarks"))
    assert not leftovers(work)


def test_large_but_legal_structure_gives_a_bounded_message():
    """A value far too big for its key (but below the node cap) is named with a bounded repr."""
    cfg = tiny_config()
    cfg["simulation"]["T"] = list(range(50_000))
    with pytest.raises(ConfigError) as err:
        validate_config(cfg)
    message = str(err.value)
    assert "simulation.T" in message and "[0, 1, 2" in message and "is not of type 'integer'" in message
    assert len(message) < 400
    cfg = tiny_config()
    cfg["training"]["device"] = "x" * 1_000_000
    with pytest.raises(ConfigError) as err:
        validate_config(cfg)
    assert "training.device" in str(err.value) and len(str(err.value)) < 600


def test_config_just_under_the_cap_is_not_refused_for_its_size():
    """The guard counts values; a big config below the cap reaches normal validation."""
    cfg = tiny_config()
    cfg["seeds"] = list(range(MAX_CONFIG_NODES // 2))
    assert validate_config(cfg)["seeds"][-1] == MAX_CONFIG_NODES // 2 - 1


def test_short_repr_is_bounded_on_shared_structures():
    """short_repr of an object graph that expands to 9**9 leaves returns at once and stays short."""
    loaded = yaml.safe_load(alias_bomb("list"))
    text = short_repr(loaded)
    assert len(text) <= 260 and text.startswith("{")
    assert count_nodes(loaded, cap=1000) == 1001  # stops at the cap
