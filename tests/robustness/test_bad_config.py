"""Bad configs, through the real entry points: ``snakemake`` on a fresh directory, ``python -m snnconv.workflow.preflight``
and the ``prepare_data`` rule script. The validator itself is unit-tested in tests/unit/workflow/test_config.py;
these prove the workflow calls it first.

Every case must make snakemake exit non-zero with a message naming the offending key or value (and, where it
helps, what to write instead), before any job runs: afterwards the work directory holds no results/, logs/ or
benchmarks/ and no temporary file.

* The bad-config corpus: all cases run on one session fixture, in two interpreters that call snakemake's
  command-line entry point once per case (tests/helpers/workflow.py), to keep the suite fast.
* YAML alias bombs and unbounded values in config errors: a few hundred bytes of nested YAML aliases expand to
  hundreds of millions of values; without the guard (snnconv/workflow/config_guard.py) schema validation walked and printed
  the expanded value for minutes until memory ran out. The config is refused, naming the problem, before
  validation; no job runs, nothing is written.
* Messages that used to be weak. Through ``snakemake`` (one batch of runs): ``lr: 1e-3`` (a string to YAML 1.1),
  numbers nested in ``--config`` values (text to snakemake's parser), ``"Inf"``, and a ``!!python/object`` tag in
  the default config file. Through ``python -m snnconv.workflow.preflight`` (Snakemake reads ``--configfile`` before any
  workflow code, so only a check ahead of it can name the file): a tag in a ``--configfile``, and a target written
  after ``--configfile``. Through the ``prepare_data`` rule script: a ``test_fraction`` too small for a stratified
  split, and a folder where a ``.gz`` file should be."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers.raw_data import good_idx_files, write_idx_folder
from helpers.workflow import (
    REPO,
    TINY,
    assert_nothing_written,
    leftovers,
    load_script,
    run_snakemake_batch,
    snakemake_cmd,
    snakemake_env,
    tiny_config,
    write_config,
)

from snnconv.defaults import dataset_args
from snnconv.workflow.config import ConfigError, validate_config
from snnconv.workflow.config_guard import MAX_CONFIG_NODES, count_nodes, short_repr

# === The bad-config corpus, through snakemake =======================================================================


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


@pytest.mark.integration
def test_control_config_is_accepted(config_runs):
    run = config_runs["control"]
    assert run["rc"] == 0, run["output"][-3000:]
    assert "simulate" in run["output"]


def test_corpus_size():
    assert len(CASES) >= 25


@pytest.mark.integration
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


# === YAML alias bombs and unbounded values ==========================================================================


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
@pytest.mark.integration
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


# === Weak messages: key, value and what to write instead ============================================================


TAG = "!!python/object/apply:os.system ['echo planted > {marker}']"


def raw_config(path: Path, replace: tuple[str, str] | None = None, append: str = "") -> Path:
    """The tiny config as YAML text, with one textual replacement and/or extra lines (what a user would type)."""
    import yaml

    text = yaml.safe_dump(tiny_config(), sort_keys=False)
    if replace:
        assert replace[0] in text, replace[0]
        text = text.replace(*replace)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + append)
    return path


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict:
    """Every snakemake case, run once; name -> {rc, output, workdir}."""
    root = tmp_path_factory.mktemp("weak_config")
    base = write_config(root / "tiny.yaml", tiny_config())
    cases = {
        "lr-1e-3": (root / "w1", raw_config(root / "lr.yaml", ("lr: 0.01", "lr: 1e-3")), ()),
        "nested-config-number": (root / "w2", base, ("--config", "simulation={T: 30, input_seeds: [0]}")),
        "list-config-number": (root / "w3", base, ("--config", "seeds=[0, 1]")),
        "top-level-true": (root / "w4", base, ("--config", "download=true")),
        "inf-p": (
            root / "w5",
            raw_config(root / "inf.yaml", ("  l4:\n", "  sweep:\n    p: [Inf]\n    k: [0.5]\n  l4:\n")),
            (),
        ),
        "inf-within": (root / "w6", raw_config(root / "within.yaml", ("T_points:", "within: Inf\n  T_points:")), ()),
    }
    tagged = root / "w7"
    (tagged / "config").mkdir(parents=True)
    (tagged / "config" / "config.yaml").write_text(f"datasets: {TAG.format(marker=root / 'planted')}\n")
    cases["tag-in-default-config"] = (tagged, base, ())
    out = run_snakemake_batch(cases, root / "outputs")
    out["_root"] = root
    return out


@pytest.mark.integration
@pytest.mark.parametrize(
    "case, needles",
    [
        ("lr-1e-3", ("'training.lr'", "'1e-3' is text", "write 1.0e-3 or 0.001")),
        ("nested-config-number", ("'simulation.T'", "'30' is text, not a number", "--configfile")),
        ("list-config-number", ("'seeds[0]'", "'0' is text, not a number", "nested in {…} or […]")),
        ("top-level-true", ("'download'", "'true' is text", "only True and False")),
        ("inf-p", ("'conversion.sweep.p[0]'", "'Inf' is not exponent p of the Lp norm", "write 'inf': case matters")),
        ("inf-within", ("'report.within'", "'Inf' is text", ".inf")),
        ("tag-in-default-config", ("config/config.yaml: line 1", "!!python/object/apply:os.system", "remove the tag")),
    ],
)
def test_weak_config_messages_name_key_value_and_fix(runs, case, needles):
    run = runs[case]
    assert run["rc"] not in (0, -999), run["output"][-3000:]
    for needle in needles:
        assert needle in run["output"], f"{needle!r} not in:\n{run['output'][-3000:]}"
    work = run["workdir"]
    assert not any((work / d).exists() for d in ("results", "logs", "benchmarks")) and not leftovers(work)
    assert not (runs["_root"] / "planted").exists()


def test_preflight_names_a_target_written_after_configfile(tmp_path):
    from snnconv.workflow import preflight

    config = write_config(tmp_path / "tiny.yaml", tiny_config())
    for target in ("paper", "tables", "results/tables/accuracy_main.csv"):
        with pytest.raises(ConfigError) as err:
            preflight.check_configfiles(["--cores", "1", "--configfile", str(config), target])
        msg = str(err.value)
        assert f"--configfile {target}: '{target}' names a target" in msg and f"snakemake {target} --configfile" in msg
    preflight.check_configfiles(["paper", "--configfile", str(config), "--cores", "1"])  # targets first: fine
    with pytest.raises(ConfigError, match=r"--configfile nothere.yaml: no such file"):
        preflight.check_configfiles(["--configfile", str(config), "nothere.yaml"])
    assert preflight.configfile_args(["--configfile=a.yaml", "-n", "--configfiles", "b.yaml", "c", "-j", "d"]) == [
        "a.yaml",
        "b.yaml",
        "c",
    ]


@pytest.mark.integration
def test_preflight_command_line_refuses_before_snakemake_reads_anything(tmp_path):
    marker = tmp_path / "planted"
    tagged = tmp_path / "tagged.yaml"
    tagged.write_text(f"datasets: {TAG.format(marker=marker)}\n")
    good = write_config(tmp_path / "tiny.yaml", tiny_config())
    base = [
        sys.executable,
        "-m",
        "snnconv.workflow.preflight",
        "-s",
        str(REPO / "Snakefile"),
        "--directory",
        str(tmp_path),
    ]
    for args, needle in (
        (["--configfile", str(tagged), "-n"], f"{tagged}: line 1, column 11: the tag !!python/object/apply:os.system"),
        (["--configfile", str(good), "paper", "-n"], "--configfile paper: 'paper' names a target"),
    ):
        proc = subprocess.run(base + args, capture_output=True, text=True, env=snakemake_env(), timeout=120)
        assert proc.returncode == 1 and needle in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    assert not marker.exists() and not (tmp_path / ".snakemake").exists()
    proc = subprocess.run(
        base + ["paper", "--configfile", str(good), "-n", "--workflow-profile", "none", "--cores", "1"],
        capture_output=True,
        text=True,
        env=snakemake_env(),
        timeout=300,
    )
    assert proc.returncode == 0 and "paper_macros" in proc.stdout + proc.stderr, proc.stderr[-2000:]


def test_read_config_file_names_file_line_and_problem(tmp_path):
    from snnconv.workflow.config import read_config_file

    cases = {
        "tag.yaml": ("a: 1\nb: !!python/object:os.system {}\n", "line 2, column 4: the tag !!python/object:os.system"),
        "tabs.yaml": ("a:\n\t- 1\n", "line 2, column 1: not valid YAML (found character '\\t'"),
        "list.yaml": ("- 1\n", "a config must be a YAML mapping of settings, got list"),
    }
    for name, (text, needle) in cases.items():
        (tmp_path / name).write_text(text)
        with pytest.raises(ConfigError) as err:
            read_config_file(tmp_path / name)
        assert str(err.value).startswith(f"{tmp_path / name}: ") and needle in str(err.value), str(err.value)


@pytest.mark.parametrize("fraction, side, n", [(0.001, "test", 2), (0.996, "training", 7)])
def test_test_fraction_too_small_or_large_names_the_key(tmp_path, fraction, side, n):
    outputs = [tmp_path / "digits.npz", tmp_path / "digits.json"]
    with pytest.raises(ValueError) as err:
        load_script("prepare_data").main("digits", None, dataset_args("digits", test_fraction=fraction), *outputs)
    msg = str(err.value)
    assert f"'dataset_options.digits.test_fraction': {fraction} leaves {n} {side} images of 1797 for 10 classes" in msg
    assert "use a value in [0.0056, 0.9944]" in msg
    assert_nothing_written(outputs, tmp_path)


def test_a_folder_where_a_gz_file_should_be_is_named(tmp_path):
    folder = tmp_path / "data" / "mnist"
    write_idx_folder(folder, good_idx_files())
    gz = folder / "train-images-idx3-ubyte.gz"
    gz.unlink()
    gz.mkdir()
    outputs = [tmp_path / "mnist.npz", tmp_path / "mnist.json"]
    with pytest.raises(FileNotFoundError) as err:
        load_script("prepare_data").main("mnist", tmp_path / "data", dataset_args("mnist"), *outputs)
    assert f"{gz}: is a directory, expected the file train-images-idx3-ubyte.gz" in str(err.value)
    assert_nothing_written(outputs, tmp_path)
