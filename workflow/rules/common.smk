# Shared helpers: target lists and wildcard constraints. Paths are documented in README.md "Outputs".
from snnconv.convert import norm_names

RESULTS = "results"
DATASETS = config["datasets"]
ARCHS = config["archs"]
SEEDS = config["seeds"]
NORMS = norm_names(config["conversion"])
INPUT_SEEDS = config["simulation"]["input_seeds"]
STATS_NORMS = config["stats"]["norms"]
ENV = "../envs/snnconv.yaml"


wildcard_constraints:
    dataset="digits|mnist|fashion_mnist|cifar10|cifar10_jpeg",
    arch="mlp|cnn|vgg",
    seed=r"\d+",
    iseed=r"\d+",
    norm=r"[A-Za-z0-9_.+-]+",


def download_manifest(w):
    """With `download: true`, real datasets are fetched (and verified) before they are prepared."""
    if config["download"] and w.dataset != "digits":
        return f"{RESULTS}/downloads/{w.dataset}.json"
    return []


def model_dir(w):
    """Folder of one trained ANN."""
    return f"{RESULTS}/models/{w.dataset}/{w.arch}/seed{w.seed}"


def prepared_data(w):
    """The prepared array file of a dataset."""
    return f"{RESULTS}/data/{w.dataset}.npz"


def sim_csvs():
    """Every per-timestep accuracy CSV of the sweep."""
    return expand(
        f"{RESULTS}/sim/{{dataset}}/{{arch}}/seed{{seed}}/{{norm}}/input{{iseed}}.csv",
        dataset=DATASETS, arch=ARCHS, seed=SEEDS, norm=NORMS, iseed=INPUT_SEEDS,
    )


def stats_csvs():
    """Membrane-statistics CSVs (the variance claim)."""
    return expand(
        f"{RESULTS}/stats/{{dataset}}/{{arch}}/seed{{seed}}/{{norm}}.csv",
        dataset=DATASETS, arch=ARCHS, seed=SEEDS, norm=STATS_NORMS,
    )


def all_targets():
    """What `snakemake` builds by default: results, figures and tables (REPORT_TARGETS, figures.smk)."""
    return sim_csvs() + stats_csvs() + REPORT_TARGETS
