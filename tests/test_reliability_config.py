"""Bad-config corpus, run through the real entry point: ``snakemake`` on a fresh directory.

Every case must make snakemake exit non-zero with a message naming the offending key or value, before
any job runs: afterwards the work directory holds no results/, logs/ or benchmarks/ and no temporary file.
The validator itself is unit-tested in tests/test_config.py; this proves the workflow calls it first.
All cases run on one session fixture, in two interpreters that call snakemake's command-line
entry point once per case (tests/test_reliability_support.py), to keep the suite fast.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from test_reliability_support import leftovers, run_snakemake_batch, tiny_config, write_config


def _set(path: str, value: Any) -> Callable[[dict], None]:
    """Mutation setting the dotted key ``path`` to ``value``."""

    def mutate(cfg: dict) -> None:
        *parents, last = path.split(".")
        node = cfg
        for key in parents:
            node = node.setdefault(key, {})
        node[last] = value

    return mutate


def _raw(text: str) -> Callable[[dict], str]:
    """Replace the whole config file by ``text`` (malformed YAML, not a mapping)."""
    return lambda cfg: text


# id -> (mutation of tests/configs/tiny.yaml, substrings the error output must contain)
CASES: dict[str, tuple[Callable[[dict], Any], tuple[str, ...]]] = {
    "unknown-top-level-key": (_set("bogus_key", 1), ("bogus_key",)),
    "unknown-nested-key": (_set("simulation.Tmax", 100), ("simulation", "Tmax")),
    "wrong-type-epochs": (_set("training.epochs", "ten"), ("training.epochs", "ten")),
    "wrong-type-seeds": (_set("seeds", 0), ("seeds",)),
    "wrong-type-download": (_set("download", "yes"), ("download", "yes")),
    "unknown-dataset": (_set("datasets", ["digits", "imagenet"]), ("datasets[1]", "imagenet")),
    "unknown-arch": (_set("archs", ["resnet50"]), ("archs[0]", "resnet50")),
    "unknown-norm": (_set("conversion.norms", ["max", "frobnicate"]), ("frobnicate",)),
    "unknown-device": (_set("training.device", "gpu"), ("training.device", "gpu")),
    "T-zero": (_set("simulation.T", 0), ("simulation.T",)),
    "T-negative": (_set("simulation.T", -5), ("simulation.T", "-5")),
    "percentile-p0": (_set("conversion.norms", ["max", "p0"]), ("p0", "(0, 100]")),
    "percentile-p101": (_set("conversion.norms", ["p101"]), ("p101", "(0, 100]")),
    "sweep-p-zero": (_set("conversion.sweep", {"p": [0], "k": [0.5]}), ("conversion.sweep.p[0]",)),
    "sweep-p-negative": (_set("conversion.sweep", {"p": [2, -1], "k": [0.5]}), ("conversion.sweep.p[1]",)),
    "l4-k-inf": (_set("conversion.l4.k", math.inf), ("conversion.l4.k", "inf")),
    "sweep-k-nan": (_set("conversion.sweep", {"p": [4], "k": [math.nan]}), ("conversion.sweep.k[0]", "nan")),
    "epochs-zero": (_set("training.epochs", 0), ("training.epochs",)),
    "epochs-negative": (_set("training.epochs", -3), ("training.epochs", "-3")),
    "empty-seed-list": (_set("seeds", []), ("seeds",)),
    "duplicate-seeds": (_set("seeds", [0, 0]), ("seeds", "non-unique")),
    "duplicate-norms": (_set("conversion.norms", ["max", "l4", "max"]), ("conversion.norms[2]", "'max'")),
    "duplicate-datasets": (_set("datasets", ["digits", "digits"]), ("datasets", "non-unique")),
    "stats-norm-not-converted": (_set("stats.norms", ["p50"]), ("stats.norms[0]", "p50")),
    "T-point-beyond-T": (_set("report.T_points", [5, 50]), ("report.T_points[1]", "50")),
    "not-a-mapping": (_raw("- digits\n- mlp\n"), ("Config file must be given as JSON or YAML with keys at top level",)),
    # snakemake's own messages for these two do not name the file (it is the only --configfile given)
    "malformed-yaml": (_raw("datasets: [digits\narchs: mlp: cnn\n"), ("Config file is not valid JSON or YAML",)),
}


def _write_case(root: Path, case: str) -> tuple[Path, Path, tuple[str, ...]]:
    """Write the mutated config; returns (empty work directory, config path, extra snakemake args)."""
    mutate, _ = CASES[case]
    cfg = tiny_config()
    config_path = root / case / "bad.yaml"
    text = mutate(cfg)
    if isinstance(text, str):
        config_path.parent.mkdir(parents=True)
        config_path.write_text(text)
    else:
        write_config(config_path, cfg)
    return root / case / "work", config_path, ()


@pytest.fixture(scope="session")
def config_runs(tmp_path_factory) -> dict[str, dict[str, Any]]:
    """Every bad config run once through snakemake's command line, plus the unmodified tiny config as a
    dry-run control (proves the batch runner does not fail everything)."""
    root = tmp_path_factory.mktemp("bad_configs")
    cases = {case: _write_case(root, case) for case in CASES}
    control = root / "control"
    cases["control"] = (control / "work", write_config(control / "ok.yaml", tiny_config()), ("-n",))
    return run_snakemake_batch(cases, root / "outputs")


def test_control_config_is_accepted(config_runs):
    run = config_runs["control"]
    assert run["rc"] == 0, run["output"][-3000:]
    assert "simulate" in run["output"]


def test_corpus_size():
    assert len(CASES) >= 25


@pytest.mark.parametrize("case", list(CASES))
def test_bad_config_fails_before_any_job(config_runs, case):
    run, (_, needles) = config_runs[case], CASES[case]
    output, workdir = run["output"], run["workdir"]
    assert run["rc"] not in (0, -999), f"snakemake accepted the bad config {case}:\n{output[-3000:]}"
    for needle in needles:
        assert needle in output, f"error output does not name {needle!r}:\n{output[-3000:]}"
    for folder in ("results", "logs", "benchmarks"):
        assert not (workdir / folder).exists(), f"{folder}/ was created: a job ran despite the bad config"
    assert not leftovers(workdir)
