"""DAG-time code: what Snakemake needs while it builds the job graph, and nothing that imports torch.

:mod:`.artefacts` is the one catalogue of the figures and tables the workflow writes and the one template of
every rule's log and benchmark path; ``workflow/rules/*.smk``, the snapshot tool and the end-of-run summary
read it. The rest of the DAG-time modules (``snnconv.paths``, ``settings``, ``vocab``, ``config`` …) live at
the package root for now; tests/integration/test_workflow_torch_free.py imports this package and them with torch blocked.
"""
