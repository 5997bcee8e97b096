# ANN training: one conversion-friendly network per dataset × arch × seed.


rule train_ann:
    input:
        data=prepared_data,
    output:
        model=paths.MODEL,
        metrics=paths.METRICS,
        summary=paths.SUMMARY,
    log:
        "logs/train_ann/{dataset}/{arch}/seed{seed}.log",
    benchmark:
        "benchmarks/train_ann/{dataset}/{arch}/seed{seed}.tsv"
    conda:
        ENV
    threads: config["training"]["threads"]
    resources:
        **settings.training_execution(config),
        mem_mb=lambda w, attempt: cluster.train_mem_mb(config, w.dataset, w.arch, attempt),
        runtime=lambda w, attempt: cluster.train_runtime(config, w.dataset, w.arch, attempt),
    params:
        training=settings.training(config),
        arch_options=lambda w: settings.arch_options(config, w.arch),
    script:
        "../../scripts/train.py"
