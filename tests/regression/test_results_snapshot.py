"""The committed real-data snapshot (docs/results/paper-cpu) cannot drift silently from the code:

* every file matches its SHA256SUMS line, and its summary tables are exactly what the pipeline's table code makes
  from its committed data and config (``snnconv.publish.verify.verify_snapshot``);
* one of its accuracy curves (MNIST MLP, training seed 0, ``max``, input seed 0) is recomputed by the workflow
  from the committed config — training, normalization, conversion and simulation — and compared with the
  committed rows: exactly where the snapshot was made on the same CPU model with the same input stream
  (PROVENANCE), otherwise within TOLERANCE on the mean accuracy over the second half of the run (low-t accuracy
  is too steep to compare). Another CPU's BLAS kernels round differently and so train a slightly different
  network, as another seed would; another input stream gives other, equally valid spikes. The committed snapshot
  predates the counter stream (its PROVENANCE names no stream: the batch-keyed Mersenne Twister).
"""

from __future__ import annotations

import pandas as pd
import pytest
import yaml
from helpers import REPO
from helpers.workflow import run_snakemake, write_config

SNAPSHOT = REPO / "docs" / "results" / "paper-cpu"
CURVE = {"dataset": "mnist", "arch": "mlp", "seed": 0, "norm": "max", "input_seed": 0}
TOLERANCE = 0.02  # mean accuracy over t > T/2 on another CPU model: 10 of the 500 test images

pytestmark = pytest.mark.skipif(not SNAPSHOT.is_dir(), reason=f"no committed snapshot at {SNAPSHOT}")


def committed_rows() -> pd.DataFrame:
    """The committed accuracy rows of CURVE (accuracy_all.csv or its gzip)."""
    tables = SNAPSHOT / "tables"
    path = next(p for p in (tables / "accuracy_all.csv", tables / "accuracy_all.csv.gz") if p.is_file())
    df = pd.read_csv(path, usecols=["dataset", "arch", "seed", "norm", "input_seed", "t", "accuracy"])
    sel = df
    for key, value in CURVE.items():
        sel = sel[sel[key] == value]
    return sel.sort_values("t").reset_index(drop=True)


def test_committed_snapshot_verifies_file_by_file():
    """Every file matches SHA256SUMS and PROVENANCE, and every re-derivable table is what the code makes."""
    from snnconv.publish.verify import verify_snapshot

    assert verify_snapshot(SNAPSHOT) == []


@pytest.mark.integration
def test_one_committed_curve_is_recomputed_from_the_committed_config(tmp_path, shared_data):
    """Train, normalize, convert and simulate one (model, norm, input seed) of the snapshot again."""
    cfg = yaml.safe_load((SNAPSHOT / "config.effective.yaml").read_text())
    cfg.update(datasets=[CURVE["dataset"]], archs=[CURVE["arch"]], seeds=[CURVE["seed"]], data_dir=str(shared_data))
    cfg["conversion"]["norms"] = [CURVE["norm"]]  # the job's params do not depend on the norm list
    cfg["conversion"]["sweep"] = {"p": [], "k": []}
    cfg["simulation"]["input_seeds"] = [CURVE["input_seed"]]
    cfg["stats"]["norms"] = [CURVE["norm"]]
    config = write_config(tmp_path / "subset.yaml", cfg)
    target = "results/sim/{dataset}/{arch}/seed{seed}/{norm}/input{input_seed}.csv".format(**CURVE)
    run_snakemake(tmp_path, config, target, cores=2, timeout=1500)
    got = pd.read_csv(tmp_path / target).sort_values("t").reset_index(drop=True)
    want = committed_rows()
    assert len(want) == len(got) == int(cfg["simulation"]["T"])
    from snnconv.machine import cpu_model
    from snnconv.simulate import stream

    provenance = yaml.safe_load((SNAPSHOT / "PROVENANCE").read_text())
    made_on = provenance["machine"]["cpu"]
    same_stream = provenance.get("stream", "mersenne-twister, keyed by batch") == stream.NAME
    if cpu_model() == made_on and same_stream:  # same kernels, same spikes: the very same numbers
        diff = (got["accuracy"] - want["accuracy"]).abs()
        assert diff.max() == 0, f"largest |Δ accuracy| {diff.max():.4f} at t = {int(got['t'][diff.idxmax()])}"
    else:
        late = got["t"] > len(got) // 2
        gap = abs(float(got["accuracy"][late].mean()) - float(want["accuracy"][late].mean()))
        assert gap <= TOLERANCE, (
            f"mean accuracy over t > T/2 differs by {gap:.4f} (snapshot made on {made_on!r}, "
            f"stream {provenance.get('stream', 'mersenne-twister, keyed by batch')!r})"
        )
