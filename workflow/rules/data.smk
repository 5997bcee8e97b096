# Dataset prep: every source becomes results/data/{dataset}.npz (+ JSON sidecar with checksums).
import os

# Real data: config `data_dir`, else $SNNCONV_DATA_DIR, else ./data (README "Real data").
DATA_DIR = config.get("data_dir") or os.environ.get("SNNCONV_DATA_DIR") or "data"
from snnconv import cluster  # resources: cluster memory/wall-time requests (docs/slurm.md)


rule download_data:
    localrule: True  # login node: compute nodes often have no internet
    output:
        manifest=f"{RESULTS}/downloads/{{dataset}}.json",
    params:
        data_dir=DATA_DIR,
    threads: 1
    resources:
        mem_mb=1024,
        runtime=60,
    log:
        "logs/download_data/{dataset}.log",
    benchmark:
        "benchmarks/download_data/{dataset}.tsv"
    conda:
        ENV
    script:
        "../../scripts/download_data.py"


rule prepare_data:
    input:
        download_manifest,
    output:
        npz=f"{RESULTS}/data/{{dataset}}.npz",
        meta=f"{RESULTS}/data/{{dataset}}.json",
    params:
        data_dir=DATA_DIR,
        options=lambda w: config["dataset_options"].get(w.dataset, {}),
    threads: 1
    resources:
        mem_mb=lambda w, attempt: cluster.prepare_data_mem_mb(config, w.dataset, attempt),
        runtime=lambda w, attempt: cluster.prepare_data_runtime(config, w.dataset, attempt),
    log:
        "logs/prepare_data/{dataset}.log",
    benchmark:
        "benchmarks/prepare_data/{dataset}.tsv"
    conda:
        ENV
    script:
        "../../scripts/prepare_data.py"
