"""``python -m snnconv``: the command-line interface (:mod:`snnconv.cli`)."""

from .cli import main

raise SystemExit(main())
