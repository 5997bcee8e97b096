# Conversion: a trained ANN becomes a spiking network under one norm, named canonically ({norm} carries
# every parameter of the method: k, mode, base); the settings shared by all norms are params.


rule convert:
    input:
        model=paths.MODEL,
        data=prepared_data,
    output:
        network=paths.NETWORK,
        meta=paths.CONVERSION,
    log:
        "logs/convert/{dataset}/{arch}/seed{seed}/{norm}.log",
    benchmark:
        "benchmarks/convert/{dataset}/{arch}/seed{seed}/{norm}.tsv"
    # Cluster runs bundle many short conversions into one SLURM job (group-components in the profile).
    group:
        "conversion"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=lambda w, attempt: cluster.convert_mem_mb(config, w.dataset, w.arch, attempt),
        runtime=lambda w, attempt: cluster.convert_runtime(config, w.dataset, w.arch, attempt),
    params:
        conversion=settings.conversion(config),
    script:
        "../../scripts/convert.py"
