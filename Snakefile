"""ANN-to-SNN conversion pipeline: data → ANN training → conversion under several norms → spiking
inference across timesteps → figures, tables and paper. Rules live in workflow/rules/, one file per stage."""

import os
import sys
from pathlib import Path

from snakemake.utils import min_version

min_version("8.20")

sys.path.insert(0, workflow.basedir)  # the snnconv package, also when run with --directory elsewhere

from snnconv.config import read_config_file, validate_config

# Snakemake's loader answers any YAML problem with a sentence about tabs and no file name: read it with ours first.
if os.path.isfile("config/config.yaml"):
    read_config_file("config/config.yaml")


configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


validate_config(config, Path(workflow.basedir) / "workflow" / "schemas" / "config.schema.yaml")


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/convert.smk"
include: "workflow/rules/simulate.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/paper.smk"


rule all:
    default_target: True
    input:
        all_targets(),


onsuccess:
    from snnconv.summary import success_message

    print(success_message(os.getcwd(), REPORT))


onerror:
    from snnconv.summary import error_message

    print(error_message(os.getcwd(), log))
