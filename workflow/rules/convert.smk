# Conversion, step 2 of docs/method.md §C10: one job per (model, base normalization) measures λ and the
# input-rate statistics on the normalization set, once for every norm on that base (lp/uniform adjustments and
# -v0half included). Each norm's network is then built without data in its spiking job (simulate.smk).


rule normalize:
    input:
        model=model_of,
        data=prepared_data,
    output:
        record=paths.NORMALIZATION,
    log:
        artefacts.job_log("normalize"),
    benchmark:
        artefacts.job_benchmark("normalize")
    # Cluster runs bundle the short normalizations into one SLURM job (group-components in the profile).
    group:
        "conversion"
    conda:
        ENV
    threads: 1
    resources:
        **cluster.grouped(),
        mem_mb=lambda w, attempt: cluster.convert_mem_mb(config, w.dataset, w.arch, attempt),
        runtime=lambda w, attempt: cluster.convert_runtime(config, w.dataset, w.arch, attempt),
    params:
        code=code("normalize.py"),
        conversion=settings.conversion(config),
    script:
        "../../scripts/normalize.py"
