# Spiking inference: one job per (model, norm) builds the norm's network from its base's normalization record
# (no pass over the data: docs/method.md §C10), writes it with its conversion.json, and simulates every input
# seed, accuracy at every timestep t = 1..T in one pass, one CSV per seed, beside the trained ReLU ANN's accuracy on
# the same images (its reference: the QCFS twin's norms are judged against it too).
# What changes a result (conversion settings, T, encoding, max_rate, reset, decode, test_subset) is a param;
# device, torch threads, batch size, time chunk and compile are resources (they change how it runs, not what it
# writes: an image's input spikes depend on its index in the test set, docs/method.md §S5).


rule simulate:
    input:
        model=model_of,
        ann=relu_model,
        normalization=normalization,
        data=prepared_data,
    output:
        network=paths.NETWORK,
        meta=paths.CONVERSION,
        csvs=expand(paths.SIM, iseed=INPUT_SEEDS, allow_missing=True),
    log:
        artefacts.job_log("simulate"),
    benchmark:
        artefacts.job_benchmark("simulate")
    # Cluster runs bundle several simulations into one GPU job (group-components in the profile), sized for
    # running them one after the other (cluster.grouped).
    group:
        "spiking"
    conda:
        ENV
    threads: config["simulation"]["threads"]
    resources:
        **settings.simulation_execution(config),
        **cluster.gpu_request(),
        **cluster.grouped(),
        mem_mb=lambda w, attempt: cluster.simulate_mem_mb(config, w.dataset, w.arch, attempt),
        runtime=lambda w, attempt: len(INPUT_SEEDS) * cluster.simulate_runtime(config, w.dataset, w.arch, attempt),
    params:
        code=code("simulate.py"),
        conversion=settings.conversion(config),
        calib=lambda w: settings.calibration(config, w.norm),
        simulation=settings.simulation(config),
    script:
        "../../scripts/simulate.py"


rule membrane_stats:
    input:
        model=model_of,
        normalization=normalization,
        data=prepared_data,
    output:
        csv=paths.STATS,
    log:
        artefacts.job_log("membrane_stats"),
    benchmark:
        artefacts.job_benchmark("membrane_stats")
    group:
        "spiking"
    conda:
        ENV
    threads: config["simulation"]["threads"]
    resources:
        **settings.simulation_execution(config),
        **cluster.gpu_request(),
        **cluster.grouped(),
        mem_mb=lambda w, attempt: cluster.membrane_stats_mem_mb(config, w.dataset, w.arch, attempt),
        runtime=lambda w, attempt: cluster.membrane_stats_runtime(config, w.dataset, w.arch, attempt),
    params:
        code=code("membrane_stats.py"),
        conversion=settings.conversion(config),
        calib=lambda w: settings.calibration(config, w.norm),
        stats=settings.stats(config),
    script:
        "../../scripts/membrane_stats.py"
