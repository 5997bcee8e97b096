# Spiking inference: accuracy at every timestep t = 1..T from one simulation, per input seed.


rule simulate:
    input:
        network=f"{RESULTS}/snn/{{dataset}}/{{arch}}/seed{{seed}}/{{norm}}/network.pt",
        data=prepared_data,
    output:
        csv=f"{RESULTS}/sim/{{dataset}}/{{arch}}/seed{{seed}}/{{norm}}/input{{iseed}}.csv",
    threads: config["simulation"]["threads"]
    resources:
        mem_mb=lambda w, attempt: cluster.simulate_mem_mb(config, w.dataset, w.arch, attempt),
        runtime=lambda w, attempt: cluster.simulate_runtime(config, w.dataset, w.arch, attempt),
    # Cluster runs bundle several simulations into one GPU job (group-components in the profile).
    group:
        "spiking"
    log:
        "logs/simulate/{dataset}/{arch}/seed{seed}/{norm}/input{iseed}.log",
    benchmark:
        "benchmarks/simulate/{dataset}/{arch}/seed{seed}/{norm}/input{iseed}.tsv"
    conda:
        ENV
    script:
        "../../scripts/simulate.py"


rule membrane_stats:
    input:
        network=f"{RESULTS}/snn/{{dataset}}/{{arch}}/seed{{seed}}/{{norm}}/network.pt",
        data=prepared_data,
    output:
        csv=f"{RESULTS}/stats/{{dataset}}/{{arch}}/seed{{seed}}/{{norm}}.csv",
    threads: config["simulation"]["threads"]
    resources:
        mem_mb=lambda w, attempt: cluster.membrane_stats_mem_mb(config, w.dataset, w.arch, attempt),
        runtime=lambda w, attempt: cluster.membrane_stats_runtime(config, w.dataset, w.arch, attempt),
    group:
        "spiking"
    log:
        "logs/membrane_stats/{dataset}/{arch}/seed{seed}/{norm}.log",
    benchmark:
        "benchmarks/membrane_stats/{dataset}/{arch}/seed{seed}/{norm}.tsv"
    conda:
        ENV
    script:
        "../../scripts/membrane_stats.py"
