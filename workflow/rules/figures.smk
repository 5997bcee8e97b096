# Figures and tables: every simulation result → one tidy table → figures (PDF + PNG + plotted data as CSV)
# and tables (CSV + LaTeX + Markdown). Part of the default target (REPORT_TARGETS, used by all_targets()).
# Which figures and tables each rule writes, and their captions: snnconv/workflow/artefacts.py.
# Each rule here takes seconds: cluster runs bundle them into one small CPU job (group "report", sized by
# cluster.report_job and cluster.grouped; group-components in the SLURM profile).

ACCURACY_ALL = paths.ACCURACY_ALL
# What the report rules are told: the main norms (canonical), the roles, T points and the `within` gap.
REPORT = settings.report(config)
REPORT_NORMS = settings.report_norms(config)


# Every ANN summary.json (holds the ANN test accuracy).
MODEL_SUMMARIES = per_model(paths.SUMMARY, seed=SEEDS)
# Figures and tables built by default (the paper PDF is not: `snakemake paper`); used by all_targets().
REPORT_TARGETS = artefacts.default_targets()


rule aggregate:
    input:
        sims=sim_csvs(),
        summaries=MODEL_SUMMARIES,
        conversions=conversion_records(),
    output:
        table=ACCURACY_ALL,
    log:
        artefacts.job_log("aggregate"),
    benchmark:
        artefacts.job_benchmark("aggregate")
    group:
        "report"
    conda:
        ENV
    resources:
        **cluster.report_job(),
        **cluster.grouped(),
    params:
        code=code("aggregate.py"),
        T=settings.simulation(config)["T"],  # every simulation CSV must end there
    script:
        "../../scripts/aggregate.py"


rule fig_variance_claim:
    input:
        stats=stats_csvs(),
    output:
        **outputs("fig_variance_claim"),
    log:
        artefacts.job_log("fig_variance_claim"),
    benchmark:
        artefacts.job_benchmark("fig_variance_claim")
    group:
        "report"
    conda:
        ENV
    resources:
        **cluster.report_job(),
        **cluster.grouped(),
    params:
        code=code("fig_variance_claim.py"),
    script:
        "../../scripts/fig_variance_claim.py"


rule fig_coefficient_sweep:
    input:
        table=ACCURACY_ALL,
    output:
        **outputs("fig_coefficient_sweep"),
    log:
        artefacts.job_log("fig_coefficient_sweep"),
    benchmark:
        artefacts.job_benchmark("fig_coefficient_sweep")
    group:
        "report"
    conda:
        ENV
    resources:
        **cluster.report_job(),
        **cluster.grouped(),
    params:
        code=code("fig_coefficient_sweep.py"),
        conversion=REPORT_NORMS,
        T_points=REPORT["T_points"],
    script:
        "../../scripts/fig_coefficient_sweep.py"


rule fig_firing_rates:
    input:
        table=ACCURACY_ALL,
    output:
        **outputs("fig_firing_rates"),
    log:
        artefacts.job_log("fig_firing_rates"),
    benchmark:
        artefacts.job_benchmark("fig_firing_rates")
    group:
        "report"
    conda:
        ENV
    resources:
        **cluster.report_job(),
        **cluster.grouped(),
    params:
        code=code("fig_firing_rates.py"),
        conversion=REPORT_NORMS,
    script:
        "../../scripts/fig_firing_rates.py"


rule tables:
    input:
        table=ACCURACY_ALL,
    output:
        **outputs("tables"),
    log:
        artefacts.job_log("tables"),
    benchmark:
        artefacts.job_benchmark("tables")
    group:
        "report"
    conda:
        ENV
    resources:
        **cluster.report_job(),
        **cluster.grouped(),
    params:
        code=code("tables.py"),
        conversion=REPORT_NORMS,
        T_points=REPORT["T_points"],
        within=REPORT["within"],
    script:
        "../../scripts/tables.py"


# Charts: a figure of the catalogue with a `drawer`, drawn from the results table by
# snnconv.report.<drawer>.draw(); one rule per chart, named by the catalogue (docs/figures.md, "Adding a figure").
for chart in artefacts.charts():

    rule:
        name:
            chart.rule
        input:
            table=ACCURACY_ALL,
        output:
            **outputs(chart.rule),
        log:
            artefacts.job_log(chart.rule),
        benchmark:
            artefacts.job_benchmark(chart.rule)
        group:
            "report"
        conda:
            ENV
        resources:
            **cluster.report_job(),
            **cluster.grouped(),
        params:
            code=code("figure.py", modules=(f"snnconv.report.{chart.drawer}",)),
            drawer=chart.drawer,
            conversion=REPORT_NORMS,
            T_points=REPORT["T_points"],
        script:
            "../../scripts/figure.py"
