"""The one binding between a Snakemake rule and its script: logging, execution settings, errors in the log.

Every ``scripts/*.py`` ends with ``run_job(snakemake, <callable>)``. The callable receives the ``snakemake``
object and reads only ``input``, ``output``, ``params``, ``wildcards``, ``resources``, ``threads`` and ``log``,
never ``config``: what changes a result is a param (docs/method.md, "Reruns"). The rule's log file gets every
record of the package and, when the job fails, the exception with its traceback (where Snakemake tells the
user to look); the exception is then re-raised so Snakemake marks the job failed and removes its outputs.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from typing import Any

from ..runinfo import setup_logging

log = logging.getLogger("snnconv.workflow.job")


def log_path(smk: Any) -> str | None:
    """The rule's first log file (None when the rule declares none)."""
    logs = list(getattr(smk, "log", []) or [])
    return str(logs[0]) if logs else None


# What :func:`execution` returns for a spiking job: the keys its script requires beside the params.
EXECUTION_KEYS = ("device", "threads", "batch_size", "time_chunk", "compile")
# ... and for a training job (the memory layout is a training setting only).
TRAINING_EXECUTION_KEYS = ("device", "threads", "channels_last")
# Resource name of each execution key (torch threads are named apart from Snakemake's own `threads`).
_RESOURCE = {"threads": "torch_threads"}


def execution(smk: Any) -> dict[str, Any]:
    """Execution-only settings of the job (device, torch threads, batch size, time chunk, compile; channels-last
    for training) from its ``resources``: the keys the job's resources hold."""
    res = getattr(smk, "resources", {}) or {}
    get = res.get if hasattr(res, "get") else lambda k, d=None: getattr(res, k, d)
    keys = dict.fromkeys(EXECUTION_KEYS + TRAINING_EXECUTION_KEYS)
    out = {key: get(_RESOURCE.get(key, key), None) for key in keys}
    return {k: v for k, v in out.items() if v is not None}


def start(namespace: dict[str, Any]) -> None:
    """First line of every rule script: under Snakemake, log to the rule's log at once, so that an error raised
    while the script is still importing (a missing module, a broken install) also lands there with its traceback."""
    smk = namespace.get("snakemake")
    if smk is None:
        return
    setup_logging(log_path(smk))
    previous = sys.excepthook

    def log_uncaught(kind: type[BaseException], exc: BaseException, tb: Any) -> None:
        if not getattr(exc, "_snnconv_logged", False):
            log.error("rule %s failed: %s: %s", getattr(smk, "rule", "?"), kind.__name__, exc, exc_info=(kind, exc, tb))
            for handler in logging.getLogger().handlers:
                handler.flush()
        previous(kind, exc, tb)

    sys.excepthook = log_uncaught


def run_job(smk: Any, body: Callable[[Any], Any]) -> Any:
    """Run ``body(smk)`` with the package logging to the rule's log; a failure is logged with its traceback."""
    setup_logging(log_path(smk))
    rule = getattr(smk, "rule", "?")
    start = time.perf_counter()
    try:
        result = body(smk)
    except BaseException as exc:  # also KeyboardInterrupt/SystemExit: the log must say why the job ended
        log.error(
            "rule %s failed after %.1f s: %s: %s",
            rule,
            time.perf_counter() - start,
            type(exc).__name__,
            exc,
            exc_info=True,
        )
        for handler in logging.getLogger().handlers:
            handler.flush()
        try:
            exc._snnconv_logged = True  # type: ignore[attr-defined] - start()'s hook must not log it twice
        except AttributeError:
            pass
        raise
    log.info("rule %s done in %.1f s", rule, time.perf_counter() - start)
    return result


def is_tty() -> bool:
    """Whether progress bars make sense (stderr attached to a terminal)."""
    return sys.stderr.isatty()
