"""Publishing a finished run as a results snapshot (``docs/results/<name>/``) and proving a published one.

Nothing here draws: the figures and tables are the run's (:mod:`snnconv.report`); publishing copies them with
their provenance and checks them file by file. One module per responsibility:

- :mod:`.layout`: the file names of a snapshot, the files every snapshot holds, its PROVENANCE read back;
- :mod:`.run`: inspecting a finished run (complete?, time per rule, run period, git state, effective config);
- :mod:`.make`: making a snapshot (copy, provenance, README, manifest; all or nothing);
- :mod:`.readme`: the snapshot's generated README.md;
- :mod:`.manifest`: its SHA256SUMS, written and read;
- :mod:`.verify`: verifying a snapshot (every file, recorded digest, config and re-derivable table) and resealing;
- :mod:`.cli`: ``python -m snnconv.publish make|verify|reseal``.

No torch import.
"""
