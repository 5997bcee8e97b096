# ANN training: one conversion-friendly network per (dataset, arch) of the run (MODELS: `archs`, or
# `dataset_archs` per dataset) × seed; `training.epochs_by_dataset` sets the epochs per dataset.
# On a cluster each training job asks for one GPU (cluster.gpu_request: SNNCONV_SLURM_GPU* in docs/slurm.md).


rule train_ann:
    input:
        data=prepared_data,
    output:
        model=paths.MODEL,
        metrics=paths.METRICS,
        summary=paths.SUMMARY,
    log:
        artefacts.job_log("train_ann"),
    benchmark:
        artefacts.job_benchmark("train_ann")
    conda:
        ENV
    threads: config["training"]["threads"]
    resources:
        **settings.training_execution(config),
        **cluster.gpu_request(),
        mem_mb=lambda w, attempt: cluster.train_mem_mb(config, w.dataset, w.arch, attempt),
        runtime=lambda w, attempt: cluster.train_runtime(config, w.dataset, w.arch, attempt),
    params:
        code=code("train.py"),
        training=lambda w: settings.training(config, w.dataset),
        arch_options=lambda w: settings.arch_options(config, w.arch),
    script:
        "../../scripts/train.py"


# The QCFS twin of a model (Bu et al. 2022): the same arch, data, seed and training settings, every ReLU replaced by
# the quantization-clip-floor-shift activation (training.qcfs). Built only when a norm on base qcfs is converted.
rule train_qcfs:
    input:
        data=prepared_data,
    output:
        model=paths.QCFS_MODEL,
        metrics=paths.QCFS_METRICS,
        summary=paths.QCFS_SUMMARY,
    log:
        artefacts.job_log("train_qcfs"),
    benchmark:
        artefacts.job_benchmark("train_qcfs")
    conda:
        ENV
    threads: config["training"]["threads"]
    resources:
        **settings.training_execution(config),
        **cluster.gpu_request(),
        mem_mb=lambda w, attempt: cluster.train_mem_mb(config, w.dataset, w.arch, attempt),
        runtime=lambda w, attempt: cluster.train_runtime(config, w.dataset, w.arch, attempt),
    params:
        code=code("train.py"),
        training=lambda w: settings.training(config, w.dataset),
        arch_options=lambda w: settings.arch_options(config, w.arch),
        qcfs=settings.qcfs_training(config),
    script:
        "../../scripts/train.py"
