"""The workflow's side of the package: what Snakemake needs while it builds the job graph, and the binding of
each rule to its script. Nothing here imports torch (tests/integration/test_workflow_torch_free.py imports every
module of this package with torch blocked).

- :mod:`.artefacts`: the one catalogue of the figures and tables and the one template of log and benchmark paths;
- :mod:`.vocab` (dataset and arch names, input shapes), :mod:`.paths` (every result path);
- :mod:`.config` (reading and validating a config against the schema), :mod:`.config_guard` (bounds on its size),
  :mod:`.schema_doc` (config/README.md from the schema);
- :mod:`.settings` (each rule's params), :mod:`.cluster` (each rule's resources), :mod:`.codehash` (each rule's
  code digest);
- :mod:`.job` (the one binding between a rule and its script: logging, execution settings, errors in the log);
- :mod:`.summary` (the end-of-run message), :mod:`.plan` (job count, device-hours and memory before a run),
  :mod:`.preflight` (a snakemake command line's config files checked before Snakemake reads them).
"""
