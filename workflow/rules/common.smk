# Shared names: the sweep's wildcard values, the result paths (snnconv/workflow/paths.py) and each rule's settings
# (snnconv/workflow/settings.py: what changes a job's output is a param, how it runs is a resource). No torch here.
import os

from snnconv.workflow import cluster, codehash, paths, settings
from snnconv.workflow.config import model_pairs, stats_norms
from snnconv.convert import base_name, resolve_norms
from snnconv.workflow import artefacts

RESULTS = paths.RESULTS
DATASETS = config["datasets"]
MODELS = model_pairs(config)  # every (dataset, arch): `archs`, or `dataset_archs` for the datasets it names
SEEDS = config["seeds"]
RESOLVED = resolve_norms(config["conversion"])  # canonical names; l4 / uniform-l4 are roles (RESOLVED.roles)
NORMS = RESOLVED.names
INPUT_SEEDS = config["simulation"]["input_seeds"]
STATS_NORMS = stats_norms(config)
ENV = "../envs/snnconv.yaml"


wildcard_constraints:
    **paths.WILDCARDS,


def code(script, modules=()):
    """Digest of the code that ``scripts/<script>`` runs, the script and every snnconv module it can import, with
    ``modules``, those it imports by name (snnconv/workflow/codehash.py). Given as a param, so an edit that changes what that code does reruns the jobs of the
    rules that run it, and a checkout or a comment that changes nothing reruns nothing (docs/method.md §C9)."""
    return codehash.script_digest(os.path.join(WORKFLOW_ROOT, "scripts", script), WORKFLOW_ROOT, tuple(modules))


def normalization(w):
    """The normalization record of the norm's base (max for lp4_k-0.25_scale_max-v0half), shared by its norms."""
    return paths.fill(paths.NORMALIZATION, dataset=w.dataset, arch=w.arch, seed=w.seed, base=base_name(w.norm))


def model_of(w):
    """The trained ANN a job converts: the QCFS twin for the norms on base qcfs (and their normalize job), else
    the ReLU network of the same (dataset, arch, seed)."""
    base = w.base if hasattr(w, "base") else base_name(w.norm)
    if base == "qcfs":
        return paths.fill(paths.QCFS_MODEL, dataset=w.dataset, arch=w.arch, seed=w.seed)
    return relu_model(w)


def relu_model(w):
    """The trained ReLU network of a job's (dataset, arch, seed): every norm's ANN reference."""
    return paths.fill(paths.MODEL, dataset=w.dataset, arch=w.arch, seed=w.seed)


def download_manifest(w):
    """With `download: true`, real datasets are fetched (and verified) before they are prepared."""
    if config["download"] and w.dataset != "digits":
        return paths.fill(paths.DOWNLOAD, dataset=w.dataset)
    return []


def prepared_data(w):
    """The prepared array file of a dataset."""
    return paths.fill(paths.DATA, dataset=w.dataset)


def per_model(template, **wildcards):
    """``template`` expanded for every (dataset, arch) of MODELS and every combination of ``wildcards``."""
    return [p for d, a in MODELS for p in expand(template, dataset=d, arch=a, **wildcards)]


def sim_csvs():
    """Every per-timestep accuracy CSV of the sweep."""
    return per_model(paths.SIM, seed=SEEDS, norm=NORMS, iseed=INPUT_SEEDS)


def conversion_records():
    """Every conversion.json of the sweep (each norm's recorded parameters)."""
    return per_model(paths.CONVERSION, seed=SEEDS, norm=NORMS)


def stats_csvs():
    """Membrane-statistics CSVs (the variance claim)."""
    return per_model(paths.STATS, seed=SEEDS, norm=STATS_NORMS)


def all_targets():
    """What `snakemake` builds by default: results, figures and tables (REPORT_TARGETS, figures.smk)."""
    return sim_csvs() + stats_csvs() + REPORT_TARGETS


def outputs(rule):
    """The figures and tables ``rule`` writes (snnconv/workflow/artefacts.py), each file under the name its
    script reads; the file Snakemake's HTML report shows carries the artefact's caption (workflow/report/)."""
    out = {}
    for a in artefacts.of_rule(rule):
        for fmt in a.formats:
            path = a.path(fmt)
            if a.caption and fmt == a.report_format:
                path = report(path, caption=f"../report/{a.caption}", category=a.kind.capitalize() + "s")
            out[a.output_name(fmt)] = path
    return out
