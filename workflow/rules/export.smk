# NIR export (docs/nir.md), on demand: `snakemake --cores all nir` writes every converted network of the run whose
# norm NIR can express (not the -v0half ones: NIR has no initial membrane) as a NIR graph. Needs the nir extra
# (`pip install -e ".[nir]"`), so it is not part of the default target.
from snnconv.convert import parse_norm

NIR_NORMS = [n for n in NORMS if not parse_norm(n).v_init]


rule export_nir:
    input:
        network=paths.NETWORK,
    output:
        nir=paths.NIR,
    log:
        artefacts.job_log("export_nir"),
    benchmark:
        artefacts.job_benchmark("export_nir")
    conda:
        ENV
    threads: 1
    params:
        reset=config["simulation"]["reset"],
        code=code("export_nir.py"),
    script:
        "../../scripts/export_nir.py"


rule nir:
    input:
        per_model(paths.NIR, seed=SEEDS, norm=NIR_NORMS),
