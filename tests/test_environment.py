"""pyproject.toml is the single source of dependency truth; environment.yml must agree with it."""

from __future__ import annotations

import tomllib

import yaml


def _pip_section(path):
    with open(path) as handle:
        env = yaml.safe_load(handle)
    pips = [d for d in env["dependencies"] if isinstance(d, dict) and "pip" in d]
    assert len(pips) == 1, f"{path}: expected one pip section"
    return env, [line for line in pips[0]["pip"] if not line.startswith("-e")]


def test_environment_files_agree_with_pyproject(repo):
    with open(repo / "pyproject.toml", "rb") as handle:
        deps = tomllib.load(handle)["project"]["dependencies"]
    for path in (repo / "environment.yml", repo / "workflow" / "envs" / "snnconv.yaml"):
        env, pip = _pip_section(path)
        assert sorted(pip) == sorted(deps), f"{path} disagrees with pyproject.toml"
        assert "python=3.11" in env["dependencies"]
