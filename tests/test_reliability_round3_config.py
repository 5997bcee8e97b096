"""Messages that used to be weak, each now naming the key or file, the value and what to write instead.

Through ``snakemake`` (one batch of runs, tests/test_reliability_support.py): ``lr: 1e-3`` (a string to YAML 1.1),
numbers nested in ``--config`` values (text to snakemake's parser), ``"Inf"``, and a ``!!python/object`` tag in the
default config file. Through ``python -m snnconv.preflight`` (Snakemake reads ``--configfile`` before any workflow
code, so only a check ahead of it can name the file): a tag in a ``--configfile``, and a target written after
``--configfile``. Through the ``prepare_data`` rule script: a ``test_fraction`` too small for a stratified split,
and a folder where a ``.gz`` file should be.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from test_reliability_data import good_idx_files, write_idx_folder
from test_reliability_support import (
    REPO,
    assert_nothing_written,
    leftovers,
    load_script,
    run_snakemake_batch,
    snakemake_env,
    tiny_config,
    write_config,
)

from snnconv.config import ConfigError

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
    root = tmp_path_factory.mktemp("round3_config")
    base = write_config(root / "tiny.yaml", tiny_config())
    cases = {
        "lr-1e-3": (root / "w1", raw_config(root / "lr.yaml", ("lr: 0.01", "lr: 1e-3")), ()),
        "nested-config-number": (root / "w2", base, ("--config", "simulation={T: 30, input_seeds: [0]}")),
        "list-config-number": (root / "w3", base, ("--config", "seeds=[0, 1]")),
        "top-level-true": (root / "w4", base, ("--config", "download=true")),
        "inf-p": (root / "w5", raw_config(root / "inf.yaml", ("p: []\n    k: []", "p: [Inf]\n    k: [0.5]")), ()),
        "inf-within": (root / "w6", raw_config(root / "within.yaml", ("T_points:", "within: Inf\n  T_points:")), ()),
    }
    tagged = root / "w7"
    (tagged / "config").mkdir(parents=True)
    (tagged / "config" / "config.yaml").write_text(f"datasets: {TAG.format(marker=root / 'planted')}\n")
    cases["tag-in-default-config"] = (tagged, base, ())
    out = run_snakemake_batch(cases, root / "outputs")
    out["_root"] = root
    return out


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
    from snnconv import preflight

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


def test_preflight_command_line_refuses_before_snakemake_reads_anything(tmp_path):
    marker = tmp_path / "planted"
    tagged = tmp_path / "tagged.yaml"
    tagged.write_text(f"datasets: {TAG.format(marker=marker)}\n")
    good = write_config(tmp_path / "tiny.yaml", tiny_config())
    base = [sys.executable, "-m", "snnconv.preflight", "-s", str(REPO / "Snakefile"), "--directory", str(tmp_path)]
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
    from snnconv.config import read_config_file

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
        load_script("prepare_data").main("digits", None, {"test_fraction": fraction}, *outputs)
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
        load_script("prepare_data").main("mnist", tmp_path / "data", {}, *outputs)
    assert f"{gz}: is a directory, expected the file train-images-idx3-ubyte.gz" in str(err.value)
    assert_nothing_written(outputs, tmp_path)
