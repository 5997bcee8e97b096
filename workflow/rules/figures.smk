# Figures and tables: every simulation result → one tidy table → figures (PDF + PNG + plotted data as CSV)
# and tables (CSV + LaTeX + Markdown). Part of the default target (REPORT_TARGETS, used by all_targets()).

FIGURES = paths.FIGURES
TABLES = paths.TABLES
ACCURACY_ALL = paths.ACCURACY_ALL
# What the report rules are told: the main norms (canonical), the roles, T points and the `within` gap.
REPORT = settings.report(config)
REPORT_NORMS = settings.report_norms(config)


# Every ANN summary.json (holds the ANN test accuracy).
MODEL_SUMMARIES = per_model(paths.SUMMARY, seed=SEEDS)
# Figures and tables built by default (the paper PDF is not: `snakemake paper`); used by all_targets().
REPORT_TARGETS = (
    [ACCURACY_ALL]
    + [
        f"{FIGURES}/{name}.{ext}"
        for name in ("accuracy_vs_T", "coefficient_sweep", "firing_rates", "firing_rates_vs_t", "low_T_gap")
        for ext in ("pdf", "png", "csv")
    ]
    + [
        f"{FIGURES}/{name}.{ext}"
        for name in ("variance_claim", "variance_correlation", "coefficient_sweep_heatmap")
        for ext in ("pdf", "png")
    ]
    + [
        f"{TABLES}/{name}.{ext}"
        for name in ("accuracy_main", "accuracy_full", "best_method", "variance_correlation")
        for ext in ("csv", "tex", "md")
    ]
)


rule aggregate:
    input:
        sims=sim_csvs(),
        summaries=MODEL_SUMMARIES,
        conversions=conversion_records(),
    output:
        table=ACCURACY_ALL,
    log:
        "logs/figures/aggregate.log",
    benchmark:
        "benchmarks/figures/aggregate.tsv"
    conda:
        ENV
    params:
        code=code("aggregate.py"),
        T=settings.simulation(config)["T"],  # every simulation CSV must end there
    script:
        "../../scripts/aggregate.py"


rule fig_accuracy_vs_T:
    input:
        table=ACCURACY_ALL,
    output:
        pdf=f"{FIGURES}/accuracy_vs_T.pdf",
        png=report(f"{FIGURES}/accuracy_vs_T.png", caption="../report/accuracy_vs_T.rst", category="Figures"),
        data=f"{FIGURES}/accuracy_vs_T.csv",
    log:
        "logs/figures/accuracy_vs_T.log",
    benchmark:
        "benchmarks/figures/accuracy_vs_T.tsv"
    conda:
        ENV
    params:
        code=code("fig_accuracy_vs_T.py"),
        conversion=REPORT_NORMS,
    script:
        "../../scripts/fig_accuracy_vs_T.py"


rule fig_variance_claim:
    input:
        stats=stats_csvs(),
    output:
        scatter_pdf=f"{FIGURES}/variance_claim.pdf",
        scatter_png=report(f"{FIGURES}/variance_claim.png", caption="../report/variance_claim.rst", category="Figures"),
        summary_pdf=f"{FIGURES}/variance_correlation.pdf",
        summary_png=report(
            f"{FIGURES}/variance_correlation.png", caption="../report/variance_correlation.rst", category="Figures"
        ),
        table_csv=report(
            f"{TABLES}/variance_correlation.csv", caption="../report/variance_correlation_table.rst", category="Tables"
        ),
        table_tex=f"{TABLES}/variance_correlation.tex",
        table_md=f"{TABLES}/variance_correlation.md",
    log:
        "logs/figures/variance_claim.log",
    benchmark:
        "benchmarks/figures/variance_claim.tsv"
    conda:
        ENV
    params:
        code=code("fig_variance_claim.py"),
    script:
        "../../scripts/fig_variance_claim.py"


rule fig_coefficient_sweep:
    input:
        table=ACCURACY_ALL,
    output:
        pdf=f"{FIGURES}/coefficient_sweep.pdf",
        png=report(f"{FIGURES}/coefficient_sweep.png", caption="../report/coefficient_sweep.rst", category="Figures"),
        data=f"{FIGURES}/coefficient_sweep.csv",
        heatmap_pdf=f"{FIGURES}/coefficient_sweep_heatmap.pdf",
        heatmap_png=report(
            f"{FIGURES}/coefficient_sweep_heatmap.png",
            caption="../report/coefficient_sweep_heatmap.rst",
            category="Figures",
        ),
    log:
        "logs/figures/coefficient_sweep.log",
    benchmark:
        "benchmarks/figures/coefficient_sweep.tsv"
    conda:
        ENV
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
        pdf=f"{FIGURES}/firing_rates.pdf",
        png=report(f"{FIGURES}/firing_rates.png", caption="../report/firing_rates.rst", category="Figures"),
        data=f"{FIGURES}/firing_rates.csv",
        vs_t_pdf=f"{FIGURES}/firing_rates_vs_t.pdf",
        vs_t_png=report(
            f"{FIGURES}/firing_rates_vs_t.png", caption="../report/firing_rates_vs_t.rst", category="Figures"
        ),
        vs_t_data=f"{FIGURES}/firing_rates_vs_t.csv",
    log:
        "logs/figures/firing_rates.log",
    benchmark:
        "benchmarks/figures/firing_rates.tsv"
    conda:
        ENV
    params:
        code=code("fig_firing_rates.py"),
        conversion=REPORT_NORMS,
    script:
        "../../scripts/fig_firing_rates.py"


rule fig_low_T_gap:
    input:
        table=ACCURACY_ALL,
    output:
        pdf=f"{FIGURES}/low_T_gap.pdf",
        png=report(f"{FIGURES}/low_T_gap.png", caption="../report/low_T_gap.rst", category="Figures"),
        data=f"{FIGURES}/low_T_gap.csv",
    log:
        "logs/figures/low_T_gap.log",
    benchmark:
        "benchmarks/figures/low_T_gap.tsv"
    conda:
        ENV
    params:
        code=code("fig_low_T_gap.py"),
        conversion=REPORT_NORMS,
        T_points=REPORT["T_points"],
    script:
        "../../scripts/fig_low_T_gap.py"


rule tables:
    input:
        table=ACCURACY_ALL,
    output:
        main_csv=report(f"{TABLES}/accuracy_main.csv", caption="../report/accuracy_table.rst", category="Tables"),
        main_tex=f"{TABLES}/accuracy_main.tex",
        main_md=f"{TABLES}/accuracy_main.md",
        full_csv=report(f"{TABLES}/accuracy_full.csv", caption="../report/accuracy_table.rst", category="Tables"),
        full_tex=f"{TABLES}/accuracy_full.tex",
        full_md=f"{TABLES}/accuracy_full.md",
        best_csv=report(f"{TABLES}/best_method.csv", caption="../report/best_method.rst", category="Tables"),
        best_tex=f"{TABLES}/best_method.tex",
        best_md=f"{TABLES}/best_method.md",
    log:
        "logs/figures/tables.log",
    benchmark:
        "benchmarks/figures/tables.tsv"
    conda:
        ENV
    params:
        code=code("tables.py"),
        conversion=REPORT_NORMS,
        T_points=REPORT["T_points"],
        within=REPORT["within"],
    script:
        "../../scripts/tables.py"
