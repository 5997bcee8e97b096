# Conversion: a trained ANN becomes a spiking network under one named norm choice.


rule convert:
    input:
        model=f"{RESULTS}/models/{{dataset}}/{{arch}}/seed{{seed}}/model.pt",
        data=prepared_data,
    output:
        network=f"{RESULTS}/snn/{{dataset}}/{{arch}}/seed{{seed}}/{{norm}}/network.pt",
        meta=f"{RESULTS}/snn/{{dataset}}/{{arch}}/seed{{seed}}/{{norm}}/conversion.json",
    threads: 1
    resources:
        mem_mb=lambda w, attempt: cluster.convert_mem_mb(config, w.dataset, w.arch, attempt),
        runtime=lambda w, attempt: cluster.convert_runtime(config, w.dataset, w.arch, attempt),
    # Cluster runs bundle many short conversions into one SLURM job (group-components in the profile).
    group:
        "conversion"
    log:
        "logs/convert/{dataset}/{arch}/seed{seed}/{norm}.log",
    benchmark:
        "benchmarks/convert/{dataset}/{arch}/seed{seed}/{norm}.tsv"
    conda:
        ENV
    script:
        "../../scripts/convert.py"
