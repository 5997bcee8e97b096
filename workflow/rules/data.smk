# Dataset prep: every source becomes results/data/{dataset}.npz (+ JSON sidecar with checksums).
import os

# Real data: config `data_dir`, else $SNNCONV_DATA_DIR, else ./data (README "Real data"). Where the data lie
# is a resource, not a param: the prepared file is verified by checksum, so moving the data reruns nothing.
DATA_DIR = config.get("data_dir") or os.environ.get("SNNCONV_DATA_DIR") or "data"


rule download_data:
    output:
        manifest=paths.DOWNLOAD,
    log:
        artefacts.job_log("download_data"),
    benchmark:
        artefacts.job_benchmark("download_data")
    localrule: True  # login node: compute nodes often have no internet
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1024,
        runtime=60,
        data_dir=DATA_DIR,
    params:
        code=code("download_data.py"),
    script:
        "../../scripts/download_data.py"


rule prepare_data:
    input:
        download_manifest,
    output:
        npz=paths.DATA,
        meta=paths.DATA_META,
    log:
        artefacts.job_log("prepare_data"),
    benchmark:
        artefacts.job_benchmark("prepare_data")
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=lambda w, attempt: cluster.prepare_data_mem_mb(config, w.dataset, attempt),
        runtime=lambda w, attempt: cluster.prepare_data_runtime(config, w.dataset, attempt),
        data_dir=DATA_DIR,
    params:
        code=code("prepare_data.py"),
        options=lambda w: settings.dataset_options(config, w.dataset),
    script:
        "../../scripts/prepare_data.py"
