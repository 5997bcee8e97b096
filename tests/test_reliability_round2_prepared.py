"""A prepared file must be what it claims (issue 12, item 2).

``results/data/<dataset>.npz`` is checked against its JSON sidecar (dataset name, SHA-256, shapes, counts,
classes, label counts) by every consumer — train, convert, simulate, membrane_stats — before use. The swap
in the issue (another dataset's prepared file with the same keys, here even the same 1×8×8 shape and 10
classes) must fail with a message naming the file and the mismatch, and write nothing.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from test_reliability_data import good_idx_files, write_idx_folder
from test_reliability_support import (  # noqa: F401
    assert_nothing_written,
    digits_npz,
    load_script,
    run_snakemake,
    tiny_config,
    write_config,
)

from snnconv.convert.files import convert_files
from snnconv.data import load_prepared
from snnconv.data.prepared import PreparedMismatchError, sidecar_path

# Every setting a rule's params would pass (defaults live only in the schema, so scripts require them all).
CONV = {"norm_set_size": 50, "norm_set_seed": 0, "per_channel": False, "maxpool_to_avgpool": False}


@pytest.fixture(scope="module")
def foreign(tmp_path_factory) -> Path:
    """A prepared synthetic 'mnist' (1×8×8, 10 classes: the same keys and shapes as digits) and its sidecar."""
    import hashlib

    from snnconv.data.checksums import IDX_SHA256

    root = tmp_path_factory.mktemp("foreign")
    files = good_idx_files(n_train=300, n_test=60)
    write_idx_folder(root / "raw" / "mnist", files)
    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(IDX_SHA256, "mnist", {s: hashlib.sha256(d).hexdigest() for s, d in files.items()})
        load_script("prepare_data").main("mnist", root / "raw", {}, root / "mnist.npz", root / "mnist.json")
    return root / "mnist.npz"


@pytest.fixture(scope="module")
def trained(tmp_path_factory, digits_npz) -> dict[str, Path]:
    """A small MLP trained on digits and its max-norm spiking network (the consumers' other inputs)."""
    root = tmp_path_factory.mktemp("trained")
    out = {k: root / f"{k}.{ext}" for k, ext in (("model", "pt"), ("metrics", "csv"), ("summary", "json"))}
    load_script("train").main(
        str(digits_npz),
        *(str(out[k]) for k in ("model", "metrics", "summary")),
        "mlp",
        0,
        {"epochs": 1, "batch_size": 64, "lr": 0.01, "device": "cpu", "threads": 1},
        {"hidden": [16]},
        progress=False,
    )
    convert_files(out["model"], digits_npz, "max", CONV, root / "network.pt", root / "network.json")
    return {"model": out["model"], "network": root / "network.pt"}


def swapped_copy(tmp: Path, digits_npz: Path, foreign: Path, how: str) -> Path:
    """``tmp/digits.npz`` (+ sidecar) as the pipeline would hold it, then tampered with as ``how`` says."""
    npz = tmp / "data" / "digits.npz"
    npz.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(digits_npz, npz)
    shutil.copyfile(sidecar_path(digits_npz), sidecar_path(npz))
    if how in ("npz", "both"):
        shutil.copyfile(foreign, npz)
    if how == "both":
        shutil.copyfile(sidecar_path(foreign), sidecar_path(npz))
    if how == "no-sidecar":
        sidecar_path(npz).unlink()
    if how == "edited-counts":
        meta = json.loads(sidecar_path(npz).read_text())
        meta["counts"]["test"] += 1
        sidecar_path(npz).write_text(json.dumps(meta))
    return npz


# how -> substrings of the error (besides the npz path)
SWAPS = {
    "npz": ("not the prepared dataset it claims to be", "sha256", "digits.json records"),
    "both": ("says dataset 'mnist', expected 'digits'",),
    "no-sidecar": ("digits.json is missing",),
    "edited-counts": ("records counts", "'test': 61", "'test': 60"),
}


def _consumers(trained: dict[str, Path], npz: Path, out: Path) -> dict[str, tuple]:
    """consumer -> (callable, outputs it must not leave behind)."""
    sim_cfg = {
        "T": 5,
        "batch_size": 50,
        "time_chunk": 5,
        "device": "cpu",
        "threads": 1,
        "encoding": "poisson",
        "max_rate": 1.0,
        "reset": "subtract",
        "decode": "membrane",
        "test_subset": 0,
        "compile": "false",
    }
    stats_cfg = {
        "T": 5,
        "samples": 10,
        "neurons_per_layer": 4,
        "threads": 1,
        "seed": 0,
        "max_rate": 1.0,
        "reset": "subtract",
        "batch_size": 10,
        "device": "cpu",
        "time_chunk": 5,
        "compile": "false",
    }
    ids = {"dataset": "digits", "arch": "mlp", "seed": "0", "norm": "max", "iseed": "0"}
    train_out = [out / "model.pt", out / "metrics.csv", out / "summary.json"]
    return {
        "train": (
            lambda: load_script("train").main(
                str(npz),
                *map(str, train_out),
                "mlp",
                0,
                {"epochs": 1, "batch_size": 64, "lr": 0.01, "device": "cpu", "threads": 1},
                {"hidden": [16]},
                progress=False,
            ),
            train_out,
        ),
        "convert": (
            lambda: convert_files(trained["model"], npz, "max", CONV, out / "network.pt", out / "network.json"),
            [out / "network.pt", out / "network.json"],
        ),
        "simulate": (
            lambda: load_script("simulate").main(trained["network"], npz, out / "sim.csv", ids, sim_cfg),
            [out / "sim.csv"],
        ),
        "membrane_stats": (
            lambda: load_script("membrane_stats").main(
                trained["network"], npz, out / "stats.csv", dict(ids), stats_cfg
            ),
            [out / "stats.csv"],
        ),
    }


@pytest.mark.parametrize("consumer", ["train", "convert", "simulate", "membrane_stats"])
@pytest.mark.parametrize("how", list(SWAPS))
def test_tampered_prepared_data_is_refused(tmp_path, digits_npz, foreign, trained, consumer, how):
    npz = swapped_copy(tmp_path, digits_npz, foreign, how)
    run, outputs = _consumers(trained, npz, tmp_path / "out")[consumer]
    with pytest.raises(PreparedMismatchError) as err:
        run()
    message = str(err.value)
    assert str(npz) in message
    for needle in SWAPS[how]:
        assert needle in message, f"{needle!r} not in {message!r}"
    assert_nothing_written(outputs, tmp_path)


def test_intact_copy_is_accepted(tmp_path, digits_npz, foreign):
    """Controls: an untouched copy loads under its own name; the foreign file loads as what it is."""
    npz = swapped_copy(tmp_path, digits_npz, foreign, "none")
    assert load_prepared(npz).name == "digits"
    assert load_prepared(npz, expect_dataset="digits").x_train.shape[1:] == (1, 8, 8)
    assert load_prepared(foreign).name == "mnist" and load_prepared(foreign).x_train.shape[1:] == (1, 8, 8)
    with pytest.raises(PreparedMismatchError, match="says dataset 'digits', expected 'mnist'"):
        load_prepared(npz, expect_dataset="mnist")


def test_checkpoint_dataset_must_match_the_data(tmp_path, trained, foreign):
    """convert compares the data with the dataset the checkpoint was trained on (also for a consistent pair)."""
    with pytest.raises(PreparedMismatchError, match=r"mnist.npz: .*says dataset 'mnist', expected 'digits'"):
        convert_files(trained["model"], foreign, "max", CONV, tmp_path / "network.pt", tmp_path / "network.json")
    assert_nothing_written([tmp_path / "network.pt", tmp_path / "network.json"], tmp_path)


def test_swapped_file_fails_the_workflow(tmp_path, foreign):
    """Through snakemake: prepare digits, replace its npz by another dataset's, then ask for the model."""
    cfg = tiny_config()
    cfg["training"]["epochs"] = 1
    config = write_config(tmp_path / "config.yaml", cfg)
    work = tmp_path / "work"
    npz = work / "results" / "data" / "digits.npz"
    run_snakemake(work, config, str(npz.relative_to(work)))
    shutil.copyfile(foreign, npz)
    model = work / "results" / "models" / "digits" / "mlp" / "seed0" / "model.pt"
    proc = run_snakemake(work, config, str(model.relative_to(work)), check=False)
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0, output[-3000:]
    assert "results/data/digits.npz: not the prepared dataset it claims to be" in output, output[-3000:]
    assert "sha256" in output
    assert_nothing_written([model, model.with_name("metrics.csv"), model.with_name("summary.json")], work / "results")
