"""Every result path of the pipeline, defined once: templates, their wildcard constraints, and parsing back.

A result's path says what it is: dataset, architecture, training seed, canonical norm name (which carries k,
mode and base), input seed. The Snakemake rules build their inputs and outputs from these templates and tests
parse paths back with :func:`parse`. No torch import (DAG-time code).
"""

from __future__ import annotations

import re
from typing import Any

from .vocab import ARCHS, DATASETS, alternation

RESULTS = "results"

# Wildcard constraints: one regex per wildcard, shared by the rules (wildcard_constraints) and by parse().
WILDCARDS: dict[str, str] = {
    "dataset": alternation(DATASETS),
    "arch": alternation(ARCHS),
    "seed": r"\d+",
    "iseed": r"\d+",
    "norm": r"[A-Za-z0-9_.+-]+",
    "base": r"none|max|model|qcfs|p[0-9.eE+-]+",  # a base normalization (canonical: snnconv.convert.names)
}

DOWNLOAD = f"{RESULTS}/downloads/{{dataset}}.json"
DATA = f"{RESULTS}/data/{{dataset}}.npz"
DATA_META = f"{RESULTS}/data/{{dataset}}.json"
MODEL_DIR = f"{RESULTS}/models/{{dataset}}/{{arch}}/seed{{seed}}"
MODEL = f"{MODEL_DIR}/model.pt"
METRICS = f"{MODEL_DIR}/metrics.csv"
SUMMARY = f"{MODEL_DIR}/summary.json"
# The QCFS-trained twin of a model (same dataset, arch, seed; quantization-clip-floor-shift activations), which the
# norms on base qcfs convert
QCFS_MODEL_DIR = f"{MODEL_DIR}/qcfs"
QCFS_MODEL = f"{QCFS_MODEL_DIR}/model.pt"
QCFS_METRICS = f"{QCFS_MODEL_DIR}/metrics.csv"
QCFS_SUMMARY = f"{QCFS_MODEL_DIR}/summary.json"
# λ and input-rate statistics of one base normalization of one model, shared by every norm on that base
NORMALIZATION = f"{RESULTS}/normalization/{{dataset}}/{{arch}}/seed{{seed}}/{{base}}.json"
SNN_DIR = f"{RESULTS}/snn/{{dataset}}/{{arch}}/seed{{seed}}/{{norm}}"
NETWORK = f"{SNN_DIR}/network.pt"
CONVERSION = f"{SNN_DIR}/conversion.json"
SIM = f"{RESULTS}/sim/{{dataset}}/{{arch}}/seed{{seed}}/{{norm}}/input{{iseed}}.csv"
# A converted network as a NIR graph (rule export_nir, on demand: `snakemake nir`)
NIR = f"{RESULTS}/nir/{{dataset}}/{{arch}}/seed{{seed}}/{{norm}}.nir"
STATS = f"{RESULTS}/stats/{{dataset}}/{{arch}}/seed{{seed}}/{{norm}}.csv"
FIGURES = f"{RESULTS}/figures"
TABLES = f"{RESULTS}/tables"
ACCURACY_ALL = f"{TABLES}/accuracy_all.csv"
PAPER_MACROS = f"{RESULTS}/paper/macros.tex"
# The paper's PDF (rule paper, on demand: `snakemake paper`), built beside its LaTeX sources, not under results/
PAPER_PDF = "paper/build/main.pdf"

_FIELD = re.compile(r"\{(\w+)\}")


def _pattern(template: str) -> re.Pattern[str]:
    """The full-match regex of ``template``, each ``{wildcard}`` a named group with its constraint."""
    out, pos = [], 0
    for m in _FIELD.finditer(template):
        out.append(re.escape(template[pos : m.start()]))
        out.append(f"(?P<{m.group(1)}>{WILDCARDS[m.group(1)]})")
        pos = m.end()
    out.append(re.escape(template[pos:]))
    return re.compile("".join(out))


def parse(template: str, path: str) -> dict[str, Any]:
    """The wildcards of ``path`` under ``template`` (seeds as int); ValueError naming both if it does not match."""
    m = _pattern(template).fullmatch(str(path).replace("\\", "/"))
    if m is None:
        raise ValueError(f"path {path!r} does not match the result template {template!r}")
    return {k: int(v) if k in ("seed", "iseed") else v for k, v in m.groupdict().items()}


def fill(template: str, **wildcards: Any) -> str:
    """``template`` with its wildcards filled (every one must be given)."""
    return template.format(**wildcards)


def search(template: str, path: str) -> dict[str, Any]:
    """Like :func:`parse`, but matching only the tail of ``path`` after the results folder (any root); {} if none."""
    tail = template[len(RESULTS) + 1 :] if template.startswith(RESULTS + "/") else template
    m = re.search(r"(?:^|/)" + _pattern(tail).pattern + "$", str(path).replace("\\", "/"))
    if m is None:
        return {}
    return {k: int(v) if k in ("seed", "iseed") else v for k, v in m.groupdict().items()}
