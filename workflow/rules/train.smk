# ANN training: one conversion-friendly network per dataset × arch × seed.


rule train_ann:
    input:
        data=prepared_data,
    output:
        model=f"{RESULTS}/models/{{dataset}}/{{arch}}/seed{{seed}}/model.pt",
        metrics=f"{RESULTS}/models/{{dataset}}/{{arch}}/seed{{seed}}/metrics.csv",
        summary=f"{RESULTS}/models/{{dataset}}/{{arch}}/seed{{seed}}/summary.json",
    params:
        training=config["training"],
        arch_options=lambda w: config["arch_options"].get(w.arch, {}),
    threads: config["training"]["threads"]
    resources:
        mem_mb=lambda w, attempt: cluster.train_mem_mb(config, w.dataset, w.arch, attempt),
        runtime=lambda w, attempt: cluster.train_runtime(config, w.dataset, w.arch, attempt),
    log:
        "logs/train_ann/{dataset}/{arch}/seed{seed}.log",
    benchmark:
        "benchmarks/train_ann/{dataset}/{arch}/seed{seed}.tsv"
    conda:
        ENV
    script:
        "../../scripts/train.py"
