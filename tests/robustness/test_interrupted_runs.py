"""Interrupted runs, atomic outputs and determinism of the real workflow (snakemake in temporary folders).

Three runs of one small config (digits, an MLP, norm max, input seeds 0 and 1), shared by the tests below:

* ``reference``: uninterrupted, ``--cores 1``, with an audit hook in every process that records each
  open-for-writing and each rename below results/ (tests/helpers/workflow.py);
* ``parallel``: uninterrupted, ``--cores 2``;
* ``resumed``: ``--cores 1`` SIGKILLed (whole process group) in the middle of training, rerun
  (refused: stale lock), ``--unlock``, rerun with ``--rerun-incomplete`` and SIGKILLed again in the middle
  of a simulation, ``--unlock``, rerun with ``--rerun-incomplete`` to completion.

Every result CSV must be byte-identical across the three; different input seeds must give different
results. The targets are named explicitly (data → model → networks → simulations and membrane stats) so
figure and paper rules added to ``all`` do not slow these runs down.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import psutil
import pytest
import torch
from helpers.workflow import (  # noqa: F401
    audit_env,
    digits_npz,
    leftovers,
    read_audit,
    run_snakemake,
    snakemake_cmd,
    snakemake_env,
    tiny_config,
    write_config,
)

from snnconv.defaults import sim_args

NORMS, INPUT_SEEDS = ["max"], [0, 1]
MODEL = "results/models/digits/mlp/seed0"
SIMS = [f"results/sim/digits/mlp/seed0/{norm}/input{s}.csv" for norm in NORMS for s in INPUT_SEEDS]
STATS = ["results/stats/digits/mlp/seed0/max.csv"]
TARGETS = [*SIMS, *STATS]
TRAIN_LOG = "logs/train_ann/digits/mlp/seed0.log"
EPOCHS = 10


def reliability_config() -> dict[str, Any]:
    """tests/configs/tiny.yaml, with training long enough (10 epochs on all 1347 training digits) and
    simulations long enough (T = 1000 on 200 test images) to be killed in the middle of."""
    cfg = tiny_config()
    cfg["dataset_options"]["digits"].update(subset_train=0, subset_test=200)
    cfg["arch_options"]["mlp"] = {"hidden": [64], "dropout": 0.0}
    cfg["training"].update(epochs=EPOCHS, batch_size=32, lr=0.005, threads=1)
    cfg["conversion"]["norms"] = NORMS
    cfg["simulation"].update(T=1000, input_seeds=INPUT_SEEDS, batch_size=100, time_chunk=50, threads=1)
    cfg["stats"].update(norms=["max"], T=50, neurons_per_layer=8, samples=20)
    cfg["report"]["T_points"] = [10, 100, 1000]
    return cfg


def _audit(root: Path, workdir: Path) -> dict[str, str]:
    return audit_env(root / "site", root / "audit", workdir / "results")


# --- helpers ---------------------------------------------------------------------------------------------


def kill_when(
    workdir: Path, config: Path, trigger: Callable[[], bool], *args: str, env: dict | None = None, timeout: float = 300
) -> dict[str, Any]:
    """Start snakemake in its own process group; SIGKILL the group (and every descendant) as soon as
    ``trigger()`` holds. Returns what happened; fails if the run ends before the trigger fires."""
    cmd = snakemake_cmd(workdir, config, *args, *TARGETS, cores=1)
    with open(workdir.parent / f"{workdir.name}.{int(time.time() * 1000)}.out", "w") as out:
        proc = subprocess.Popen(
            cmd, stdout=out, stderr=subprocess.STDOUT, env=snakemake_env(env), start_new_session=True
        )
    deadline = time.monotonic() + timeout
    try:
        while True:
            if proc.poll() is not None:
                raise AssertionError(
                    f"the run ended (exit {proc.returncode}) before the kill trigger fired; see {out.name}"
                )
            if trigger():
                break
            if time.monotonic() > deadline:
                raise AssertionError("kill trigger never fired")
            time.sleep(0.01)
        family = psutil.Process(proc.pid).children(recursive=True)
        os.killpg(proc.pid, signal.SIGKILL)
        for child in family:  # in case a job had left the group
            try:
                child.kill()
            except psutil.NoSuchProcess:
                pass
        proc.wait(30)
        psutil.wait_procs(family, timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(30)
    return {"returncode": proc.returncode, "log": Path(out.name)}


def incomplete_markers(workdir: Path) -> set[str]:
    """Outputs snakemake marked incomplete (.snakemake/incomplete/<base64 path>)."""
    folder = workdir / ".snakemake" / "incomplete"
    out = set()
    for marker in folder.glob("*") if folder.exists() else []:
        try:
            out.add(base64.b64decode(marker.name).decode())
        except ValueError:
            pass
    return out


def load_any(path: Path) -> None:
    """Load a result file with the reader its consumers use; raises if it is partial or corrupt."""
    from snnconv.data import load_prepared
    from snnconv.models import load_checkpoint
    from snnconv.network import load_network

    if path.suffix == ".csv":
        frame = pd.read_csv(path)
        assert len(frame), f"{path}: empty CSV"
    elif path.suffix == ".json":
        json.loads(path.read_text())
    elif path.suffix == ".npz":
        load_prepared(path)
    elif path.name == "model.pt":
        load_checkpoint(path)
    elif path.name == "network.pt":
        load_network(path)
    else:
        raise AssertionError(f"unexpected output {path}")


def snapshot(workdir: Path) -> dict[str, Any]:
    """State of a work directory right after a kill: result files, which load, markers, temporaries."""
    results = sorted(p for p in (workdir / "results").rglob("*") if p.is_file() and ".tmp" not in p.name)
    broken = {}
    for path in results:
        try:
            load_any(path)
        except Exception as exc:  # noqa: BLE001 - reported by the tests
            broken[str(path.relative_to(workdir))] = repr(exc)
    return {
        "results": [str(p.relative_to(workdir)) for p in results],
        "broken": broken,
        "incomplete": incomplete_markers(workdir),
        "leftovers": leftovers(workdir / "results"),
        "locks": sorted(p.name for p in (workdir / ".snakemake" / "locks").glob("*")),
    }


def result_csvs(workdir: Path) -> dict[str, bytes]:
    """Every CSV below results/, by relative path."""
    return {str(p.relative_to(workdir)): p.read_bytes() for p in sorted((workdir / "results").rglob("*.csv"))}


# --- the three runs --------------------------------------------------------------------------------------
# They start together, in threads, when the first of them is needed: on 2 cores, the sequential chain of
# a --cores 1 run leaves a core idle, and the kill triggers watch the work directory's state, not the
# clock, so contention only widens the windows they wait for.


def _reference(root: Path, config: Path) -> dict[str, Any]:
    work = root / "work"
    start = time.perf_counter()
    run_snakemake(work, config, *TARGETS, cores=1, env=_audit(root, work))
    return {"workdir": work, "audit": root / "audit", "seconds": time.perf_counter() - start}


def _parallel(root: Path, config: Path) -> dict[str, Any]:
    work = root / "work"
    run_snakemake(work, config, *TARGETS, cores=2)
    return {"workdir": work}


def _resumed(root: Path, config: Path) -> dict[str, Any]:
    work = root / "work"
    env = _audit(root, work)
    state: dict[str, Any] = {"workdir": work, "audit": root / "audit"}
    train_log, model = work / TRAIN_LOG, work / MODEL / "model.pt"

    def training_in_progress() -> bool:  # at least one epoch done, model not yet saved
        return train_log.exists() and "epoch 1/" in train_log.read_text() and not model.exists()

    state["kill_train"] = kill_when(work, config, training_in_progress, env=env)
    state["after_train_kill"] = snapshot(work)
    state["train_log"] = train_log.read_text()

    state["plain_rerun"] = run_snakemake(work, config, *TARGETS, check=False, env=env)
    run_snakemake(work, config, "--unlock", *TARGETS, env=env)

    def simulation_in_progress() -> bool:  # a simulate job has loaded its inputs and not written its CSV
        for sim in SIMS:
            log = work / (sim.replace("results/sim", "logs/simulate").rsplit("/", 1)[0] + ".log")  # one per norm
            if log.exists() and "settings" in log.read_text() and not (work / sim).exists():
                state["killed_sim"] = sim
                return True
        return False

    state["kill_sim"] = kill_when(work, config, simulation_in_progress, "--rerun-incomplete", env=env)
    state["after_sim_kill"] = snapshot(work)
    run_snakemake(work, config, "--unlock", *TARGETS, env=env)
    state["final"] = run_snakemake(work, config, "--rerun-incomplete", *TARGETS, env=env)
    return state


@pytest.fixture(scope="session")
def workflow_runs(tmp_path_factory) -> dict[str, Any]:
    """The three runs, started together; values are futures."""
    config = write_config(tmp_path_factory.mktemp("rel_config") / "reliability.yaml", reliability_config())
    pool = ThreadPoolExecutor(max_workers=3)
    runs = {
        name: pool.submit(fn, tmp_path_factory.mktemp(name), config)
        for name, fn in (("resumed", _resumed), ("reference", _reference), ("parallel", _parallel))
    }
    yield runs
    pool.shutdown(wait=True)


@pytest.fixture(scope="session")
def reference(workflow_runs) -> dict[str, Any]:
    return workflow_runs["reference"].result()


@pytest.fixture(scope="session")
def parallel(workflow_runs) -> dict[str, Any]:
    return workflow_runs["parallel"].result()


@pytest.fixture(scope="session")
def resumed(workflow_runs) -> dict[str, Any]:
    return workflow_runs["resumed"].result()


# --- interrupted runs ------------------------------------------------------------------------------------


@pytest.mark.integration
def test_kill_during_training_leaves_no_partial_output(resumed):
    after = resumed["after_train_kill"]
    assert resumed["kill_train"]["returncode"] == -signal.SIGKILL
    assert f"epoch {EPOCHS}/{EPOCHS}" not in resumed["train_log"], "training had finished: the kill came too late"
    for name in ("model.pt", "metrics.csv", "summary.json"):
        assert f"{MODEL}/{name}" not in after["results"], f"{name} exists after a kill in mid-training"
    assert f"{MODEL}/model.pt" in after["incomplete"], "snakemake did not mark the killed job incomplete"
    assert after["results"] == ["results/data/digits.json", "results/data/digits.npz"]
    assert not after["broken"], f"partial files visible under their final names: {after['broken']}"
    _only_killed_job_leftovers(after, MODEL)
    assert after["locks"], "expected the killed run's stale lock"


@pytest.mark.integration
def test_stale_lock_is_reported_with_the_remedy(resumed):
    proc = resumed["plain_rerun"]
    assert proc.returncode != 0
    assert "--unlock" in proc.stdout + proc.stderr


@pytest.mark.integration
def test_kill_during_simulation_leaves_no_partial_output(resumed):
    after, sim = resumed["after_sim_kill"], resumed["killed_sim"]
    assert resumed["kill_sim"]["returncode"] == -signal.SIGKILL
    assert f"{MODEL}/model.pt" in after["results"], "the resumed run retrained nothing? model missing"
    assert sim not in after["results"], f"{sim} exists although its job was killed"
    assert sim in after["incomplete"]
    assert not after["broken"], f"partial files visible under their final names: {after['broken']}"
    _only_killed_job_leftovers(after, str(Path(sim).parent))


def _only_killed_job_leftovers(after: dict, folder: str) -> None:
    """A SIGKILL in the middle of a write may leave that write's temporary file (never a final name); the
    kill triggers fire long before the killed job writes, so in practice there is none."""
    stray = [p for p in after["leftovers"] if folder not in str(p)]
    assert not stray, f"temporary files of jobs that were not killed: {stray}"


@pytest.mark.integration
def test_resumed_run_completes_and_matches_reference(resumed, reference):
    work = resumed["workdir"]
    for target in TARGETS:
        assert (work / target).exists(), target
    assert not incomplete_markers(work)
    allowed = set(resumed["after_train_kill"]["leftovers"]) | set(resumed["after_sim_kill"]["leftovers"])
    assert set(leftovers(work / "results")) <= allowed
    ref, got = result_csvs(reference["workdir"]), result_csvs(work)
    assert set(got) == set(ref) and len(ref) == len(TARGETS) + 1  # + metrics.csv
    different = [name for name in ref if ref[name] != got[name]]
    assert not different, f"resumed results differ from an uninterrupted run: {different}"
    _same_tensors(reference["workdir"], work)


def _same_tensors(a: Path, b: Path) -> None:
    """Checkpoints and networks of two runs hold identical tensors (the files embed no timestamps we test)."""
    for rel in [f"{MODEL}/model.pt", *[f"results/snn/digits/mlp/seed0/{n}/network.pt" for n in NORMS]]:
        x, y = torch.load(a / rel, weights_only=True), torch.load(b / rel, weights_only=True)
        tx = [t for t in _leaves(x) if isinstance(t, torch.Tensor)]
        ty = [t for t in _leaves(y) if isinstance(t, torch.Tensor)]
        assert len(tx) == len(ty) and all(torch.equal(s, t) for s, t in zip(tx, ty)), f"{rel} differs"


def _leaves(obj):
    if isinstance(obj, dict):
        for key in sorted(obj, key=str):
            yield from _leaves(obj[key])
    elif isinstance(obj, (list, tuple)):
        for item in obj:
            yield from _leaves(item)
    else:
        yield obj


@pytest.mark.integration
@pytest.mark.parametrize("run", ["reference", "resumed"])
def test_outputs_appear_only_by_rename(request, run):
    """No process ever opened a final output for writing: every result arrived by renaming a temporary
    file, so a reader (or a kill) can never see half a file under its final name."""
    state = request.getfixturevalue(run)
    work = state["workdir"]
    opens, renames = read_audit(state["audit"])
    finals = {str(p.resolve()) for p in (work / "results").rglob("*") if p.is_file()}
    assert finals and renames, "the audit hook recorded nothing"
    direct = sorted(set(opens) & finals)
    assert not direct, f"opened for writing under the final name: {direct}"
    not_tmp = sorted(p for p in opens if ".tmp" not in Path(p).name)
    assert not not_tmp, f"written in place instead of via a temporary name: {not_tmp}"
    arrived = {dst for _, dst in renames}
    assert finals <= arrived, f"outputs that did not arrive by rename: {sorted(finals - arrived)}"
    assert all(".tmp" in Path(src).name for src, _ in renames)


# --- determinism -----------------------------------------------------------------------------------------


@pytest.mark.integration
def test_reference_run_is_complete(reference):
    work = reference["workdir"]
    for target in SIMS:
        frame = pd.read_csv(work / target)
        assert len(frame) and np.isfinite(frame.select_dtypes("number").to_numpy(dtype=float)).all()
    stats = pd.read_csv(work / STATS[0])  # rate is NaN for the non-spiking readout, by design
    assert len(stats) and np.isfinite(stats[["mean_current", "var_current"]].to_numpy()).all()
    assert not leftovers(work / "results")
    sim = pd.read_csv(work / SIMS[0])
    assert list(sim["t"]) == list(range(1, 1001))


@pytest.mark.integration
def test_cores_1_and_2_give_identical_results(reference, parallel):
    ref, par = result_csvs(reference["workdir"]), result_csvs(parallel["workdir"])
    assert set(ref) == set(par) and ref
    different = [name for name in ref if ref[name] != par[name]]
    assert not different, f"--cores 2 changed: {different}"
    _same_tensors(reference["workdir"], parallel["workdir"])


@pytest.mark.integration
def test_input_seeds_change_the_results(reference):
    work = reference["workdir"]
    for norm in NORMS:
        a = pd.read_csv(work / f"results/sim/digits/mlp/seed0/{norm}/input0.csv")
        b = pd.read_csv(work / f"results/sim/digits/mlp/seed0/{norm}/input1.csv")
        assert (a["input_seed"] == 0).all() and (b["input_seed"] == 1).all()
        rates = [c for c in a.columns if c.startswith("rate_")]
        assert not a["accuracy"].equals(b["accuracy"]), f"{norm}: same accuracy curve for input seeds 0 and 1"
        assert not a[rates].equals(b[rates]), f"{norm}: same firing rates for input seeds 0 and 1"


def test_spike_trains_depend_on_input_seed_only(digits_npz, tmp_path):
    """In process: hidden-layer spike trains are identical for the same input seed (also with another
    time_chunk) and differ for another seed."""
    from helpers.checkpoints import saved_network

    from snnconv.network import load_network
    from snnconv.simulate import Probe, simulate
    from snnconv.simulate.runio import load_test_split

    net = load_network(saved_network(tmp_path / "n.pt", 3.0))
    images, labels = load_test_split(digits_npz, 40)

    class Trains(Probe):
        def __init__(self):
            self.parts = {}

        def on_spikes(self, layer, batch, t0, spikes, v):
            self.parts[(layer, batch, t0)] = spikes.detach().to(torch.uint8).clone()

        def train(self) -> torch.Tensor:  # (T, N, neurons) of layer 0, whatever the chunking
            keys = sorted(k for k in self.parts if k[0] == 0)
            by_batch = {}
            for _, batch, t0 in keys:
                by_batch.setdefault(batch, []).append(self.parts[(0, batch, t0)])
            return torch.cat([torch.cat(v, 0) for _, v in sorted(by_batch.items())], 1)

    def trains(seed, chunk=10, batch=40):
        probe = Trains()
        simulate(
            net,
            images,
            labels,
            30,
            **sim_args(seed=seed, time_chunk=chunk, batch_size=batch, device="cpu", probe=probe),
        )
        return probe.train()

    base = trains(0)
    assert base.sum() > 0, "no spikes: the comparison would be vacuous"
    assert torch.equal(base, trains(0))
    assert torch.equal(base, trains(0, chunk=7))
    assert not torch.equal(base, trains(1))
