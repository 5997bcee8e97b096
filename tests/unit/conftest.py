"""How the unit layer is shared between pytest-xdist workers: ``make test-fast`` runs it on two.

The modules that read the shared figure rendering must run on one worker, or each worker draws every figure
again (``helpers.schedule`` says why and finds them). xdist's own ``xdist_group`` mark cannot do this under
pytest 9 (xdist 3.8 writes the group into a node-id attribute that pytest 9 no longer reads), so this layer
brings its scheduler: xdist's ``loadscope``, where a module is a unit of work, with those modules merged into one.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.schedule import shared_scope


@pytest.hookimpl(optionalhook=True)  # the hook exists only where pytest-xdist is installed
def pytest_xdist_make_scheduler(config: pytest.Config, log):  # noqa: ANN001, ANN201 - xdist's own types
    """With ``--dist loadscope``: modules as units of work, the modules that use the rendering as one unit."""
    if config.getvalue("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    rootdir = Path(config.rootpath)

    class RenderingOnOneWorker(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return shared_scope(nodeid, rootdir) or super()._split_scope(nodeid)

    return RenderingOnOneWorker(config, log)
