"""ANN-to-SNN conversion pipeline: data → ANN training → conversion under several norms → spiking
inference across timesteps → figures, tables and paper. Rules live in workflow/rules/, one file per stage."""

import os
import sys

from snakemake.utils import min_version

min_version("9.1")

# The snnconv package beside this file, also when run with --directory elsewhere or used as a module (where
# workflow.basedir is the lab's folder, and current_basedir this file's).
WORKFLOW_ROOT = workflow.current_basedir.get_path_or_uri(secret_free=True)
sys.path.insert(0, WORKFLOW_ROOT)

from snnconv.workflow.config import missing_config_message, read_config_file, validate_config

# The run's config: config/config.yaml of the working directory (the checkout's own, or a lab's beside its Snakefile
# when this workflow is used as a module), else what --configfile / --config or `module ... config:` gave.
# Snakemake's loader answers any YAML problem with a sentence about tabs and no file name: read it with ours first.
if os.path.exists("config/config.yaml"):
    read_config_file("config/config.yaml")

    configfile: "config/config.yaml"

elif not config:
    raise WorkflowError(missing_config_message(os.getcwd(), workflow.basedir))


report: "workflow/report/workflow.rst"


validate_config(config)  # against workflow/schemas/config.schema.yaml (snnconv.resources finds it)


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/convert.smk"
include: "workflow/rules/simulate.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/paper.smk"
include: "workflow/rules/export.smk"


rule all:
    default_target: True
    input:
        all_targets(),


onsuccess:
    from snnconv.workflow.summary import success_message

    print(success_message(os.getcwd(), REPORT))


onerror:
    from snnconv.workflow.summary import error_message

    print(error_message(os.getcwd(), log))
