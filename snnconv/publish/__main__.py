"""``python -m snnconv.publish``: the command line of publishing (:mod:`snnconv.publish.cli`)."""

from .cli import main

raise SystemExit(main())
