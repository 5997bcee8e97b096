"""Environment files: they agree with pyproject.toml, and the per-rule env works from where Snakemake puts it.

`snakemake --sdm conda` copies workflow/envs/snnconv.yaml to .snakemake/conda/<hash>.yaml and runs
`conda env create --file` on the copy; conda writes the pip list to condaenv.*.requirements.txt beside
it and runs `pip install -U -r <that file>` with that folder as working directory. The tests below do
the same (offline against this environment; with the network under -m slow into a scratch venv), and
run a rule script with a Python that lacks snnconv, as the conda env does.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tomllib
import venv
from pathlib import Path

import pytest
import yaml
from helpers import REPO
from packaging.requirements import Requirement

pytestmark = pytest.mark.integration

RULE_ENV = REPO / "workflow" / "envs" / "snnconv.yaml"
USER_ENV = REPO / "environment.yml"
TINY = REPO / "tests" / "configs" / "tiny.yaml"


def pip_section(path: Path) -> tuple[dict, list[str]]:
    """The env file and the lines of its one pip section."""
    env = yaml.safe_load(path.read_text())
    pips = [d for d in env["dependencies"] if isinstance(d, dict) and "pip" in d]
    assert len(pips) == 1, f"{path}: expected one pip section"
    return env, [str(line) for line in pips[0]["pip"]]


def project() -> dict:
    with open(REPO / "pyproject.toml", "rb") as handle:
        return tomllib.load(handle)["project"]


def copy_as_snakemake_does(env_file: Path, workdir: Path) -> tuple[Path, Path]:
    """The env file at .snakemake/conda/<hash>.yaml, and the requirements file conda writes beside it."""
    conda_dir = workdir / ".snakemake" / "conda"
    conda_dir.mkdir(parents=True)
    copy = conda_dir / f"{hashlib.sha256(env_file.read_bytes()).hexdigest()[:32]}.yaml"
    shutil.copyfile(env_file, copy)
    _, lines = pip_section(copy)
    requirements = conda_dir / "condaenv.snnconv.requirements.txt"
    requirements.write_text("\n".join(lines) + "\n")
    return copy, requirements


# pyproject name → conda-forge package of environment.yml; the rest come through pip (conda-forge lacks them:
# Snakemake and its plugins live on Bioconda and PyPI; torch is PyPI's build, README "PyTorch builds").
CONDA_FORGE = {
    "numpy": "numpy",
    "pandas": "pandas",
    "matplotlib": "matplotlib-base",
    "scipy": "scipy",
    "tabulate": "tabulate",
    "scikit-learn": "scikit-learn",
    "tqdm": "tqdm",
    "pygments": "pygments",
    "jsonschema": "jsonschema",
    "pyyaml": "pyyaml",
    "pillow": "pillow",
    "jinja2": "jinja2",
    "seaborn": "seaborn-base",
}
TORCH = "2.13.0"  # the Makefile's TORCH_SPEC: the lock leaves torch out


def locked_versions() -> dict[str, str]:
    """requirements.lock's version of every package for Python 3.11 (the env's Python)."""
    from packaging.markers import Marker

    env = {"python_version": "3.11", "python_full_version": "3.11.7", "sys_platform": "linux"}
    out = {}
    for line in (REPO / "requirements.lock").read_text().splitlines():
        if not line or line[0] in " #":
            continue
        spec, _, marker = line.partition(";")
        if marker.strip() and not Marker(marker.strip()).evaluate({**env, "platform_machine": "x86_64"}):
            continue
        name, _, version = spec.strip().partition("==")
        out[name.lower()] = version
    return out


def test_environment_files_agree_with_pyproject():
    deps = project()["dependencies"]
    slurm = project()["optional-dependencies"]["slurm"]
    env, rule_pip = pip_section(RULE_ENV)
    assert sorted(rule_pip) == sorted(deps), f"{RULE_ENV} disagrees with pyproject.toml"
    assert "python=3.11" in env["dependencies"]
    env, user_pip = pip_section(USER_ENV)
    assert "-e ." in user_pip, f"{USER_ENV} must install the checkout (conda env create -f, from the repo root)"
    assert env["channels"] == ["conda-forge"] and "python=3.11" in env["dependencies"]
    conda = dict(str(d).split("=", 1) for d in env["dependencies"] if isinstance(d, str) and "=" in d)
    pip = dict(line.split("==", 1) for line in user_pip if "==" in line)
    locked = {**locked_versions(), "torch": TORCH}
    covered = set()
    for dep in map(Requirement, deps + slurm):
        name = dep.name.lower()
        if name in CONDA_FORGE:
            version = conda.get(CONDA_FORGE[name])
            assert version, f"{USER_ENV}: {name} should come from conda-forge as {CONDA_FORGE[name]}"
        else:
            version = pip.get(name)
            assert version, f"{USER_ENV}: {name} (not on conda-forge) missing from the pip list"
        assert version == locked[name], f"{USER_ENV}: {name} pinned to {version}, CI passed with {locked[name]}"
        assert dep.specifier.contains(version), f"{USER_ENV}: {name}=={version} outside pyproject's {dep}"
        covered.add(CONDA_FORGE.get(name, name))
    extra = (set(conda) - {"python"} | set(pip)) - covered
    assert not extra, f"{USER_ENV}: {sorted(extra)} are not dependencies of pyproject.toml"


def test_env_files_name_real_snakemake_flags():
    for path in (RULE_ENV, USER_ENV, REPO / "README.md", REPO / "docs" / "slurm.md"):
        assert "--sw-env-deploy" not in path.read_text(), f"{path}: no such flag (it is --sdm conda)"
    assert "--sdm conda" in RULE_ENV.read_text()


def test_rule_env_pip_part_resolves_from_the_copied_file(tmp_path):
    """Only plain requirements (no path, no URL: the copy has moved), and all of them satisfiable:
    pip run as conda runs it, offline, finds each one satisfied by this tested environment."""
    _, requirements = copy_as_snakemake_does(RULE_ENV, tmp_path)
    for line in requirements.read_text().splitlines():
        assert not line.startswith(("-", ".", "/")), f"{RULE_ENV}: {line!r} does not work from .snakemake/conda/"
        assert Requirement(line).url is None, f"{RULE_ENV}: {line!r} is a URL"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-U",
            "-r",
            requirements.name,
            "--exists-action=b",
            "--dry-run",
            "--no-index",
            "--quiet",
        ],
        cwd=requirements.parent,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]


def bare_python(where: Path) -> Path:
    """A new venv of the base interpreter: no snnconv, no third-party packages."""
    venv.create(where, with_pip=False, symlinks=True)
    return where / "bin" / "python"


def test_rule_script_runs_with_a_python_that_lacks_snnconv(tmp_path):
    """As in a conda env: the script finds snnconv through Snakemake's preamble (the Snakefile's
    sys.path entry), not through an installed package. Snakemake writes the script with its preamble;
    we keep it (--skip-script-cleanup) and run it again with a Python in which `import snnconv` fails."""
    work, target = tmp_path / "work", "results/data/digits.npz"
    cmd = [
        sys.executable,
        "-m",
        "snakemake",
        "-s",
        str(REPO / "Snakefile"),
        "--directory",
        str(work),
        "--configfile",
        str(TINY),
        "--cores",
        "1",
        "--skip-script-cleanup",
        target,
        "--quiet",
    ]
    work.mkdir()
    proc = subprocess.run(cmd, cwd=work, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    scripts = sorted((work / ".snakemake" / "scripts").glob("*prepare_data.py"))
    assert len(scripts) == 1, scripts
    (work / target).unlink()
    python = bare_python(tmp_path / "bare")
    probe = subprocess.run([python, "-c", "import snnconv"], capture_output=True, text=True, cwd=tmp_path)
    assert probe.returncode != 0, "the bare Python must not see snnconv"
    run = subprocess.run(
        [python, scripts[0]],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=300,
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
    )
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert (work / target).is_file()


@pytest.mark.slow
def test_rule_env_pip_part_installs_into_a_scratch_venv(tmp_path):
    """The real install, as conda runs it from the copy, into a new venv (needs PyPI; minutes).
    Constrained by requirements.lock and the CPU torch pin so that it installs what CI tests."""
    _, requirements = copy_as_snakemake_does(RULE_ENV, tmp_path)
    constraints = requirements.parent / "constraints.txt"
    constraints.write_text((REPO / "requirements.lock").read_text() + "torch==2.13.0\n")
    scratch = tmp_path / "venv"
    venv.create(scratch, with_pip=True, symlinks=True)
    python = scratch / "bin" / "python"
    proc = subprocess.run(
        [
            python,
            "-m",
            "pip",
            "install",
            "-q",
            "-U",
            "-r",
            requirements.name,
            "-c",
            constraints.name,
            "--exists-action=b",
        ],
        cwd=requirements.parent,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    check = subprocess.run(
        [python, "-c", "import torch, numpy, pandas, scipy, sklearn, snakemake, tabulate; print(torch.__version__)"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert check.returncode == 0 and check.stdout.startswith("2.13.0"), check.stdout + check.stderr
