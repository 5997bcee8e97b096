# Spiking inference: accuracy at every timestep t = 1..T from one simulation, per input seed. One job per
# (model, norm) runs all input seeds (network and data loaded once) and writes one CSV per seed.
# What changes a CSV (T, encoding, max_rate, reset, decode, batch_size, test_subset) is a param;
# device, torch threads and time_chunk are resources (they change how it runs, not what it writes).


rule simulate:
    input:
        network=paths.NETWORK,
        data=prepared_data,
    output:
        csvs=expand(paths.SIM, iseed=INPUT_SEEDS, allow_missing=True),
    log:
        "logs/simulate/{dataset}/{arch}/seed{seed}/{norm}.log",
    benchmark:
        "benchmarks/simulate/{dataset}/{arch}/seed{seed}/{norm}.tsv"
    # Cluster runs bundle several simulations into one GPU job (group-components in the profile).
    group:
        "spiking"
    conda:
        ENV
    threads: config["simulation"]["threads"]
    resources:
        **settings.simulation_execution(config),
        mem_mb=lambda w, attempt: cluster.simulate_mem_mb(config, w.dataset, w.arch, attempt),
        runtime=lambda w, attempt: len(INPUT_SEEDS) * cluster.simulate_runtime(config, w.dataset, w.arch, attempt),
    params:
        simulation=settings.simulation(config),
    script:
        "../../scripts/simulate.py"


rule membrane_stats:
    input:
        network=paths.NETWORK,
        data=prepared_data,
    output:
        csv=paths.STATS,
    log:
        "logs/membrane_stats/{dataset}/{arch}/seed{seed}/{norm}.log",
    benchmark:
        "benchmarks/membrane_stats/{dataset}/{arch}/seed{seed}/{norm}.tsv"
    group:
        "spiking"
    conda:
        ENV
    threads: config["simulation"]["threads"]
    resources:
        **settings.simulation_execution(config),
        mem_mb=lambda w, attempt: cluster.membrane_stats_mem_mb(config, w.dataset, w.arch, attempt),
        runtime=lambda w, attempt: cluster.membrane_stats_runtime(config, w.dataset, w.arch, attempt),
    params:
        stats=settings.stats(config),
    script:
        "../../scripts/membrane_stats.py"
