"""What a finished (or failed) run tells the user: called from the Snakefile's ``onsuccess`` / ``onerror``.

On success: where the results are, a short headline table (ANN vs SNN at the report's T points for the main
norms, mean over replicates) and the command that builds the paper. On error: each failed rule, its log and
the first line of its error. No torch import (runs in the Snakemake process).
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any

from . import artefacts, paths

PAPER_COMMAND = f"snakemake --cores all paper   # -> {paths.PAPER_PDF}"


def headline(table: str | Path, norms: list[str], roles: dict[str, str], T_points: list[int]) -> str:
    """Accuracy (%) per dataset/arch (readable labels): the ANN, then each main norm (its id, which the config
    names, and its role) at the T points, mean over replicates."""
    import pandas as pd

    from ..report.labels import arch_label, dataset_label

    df = pd.read_csv(table, usecols=["dataset", "arch", "norm", "t", "accuracy", "ann_accuracy"])
    names = {canon: role for role, canon in roles.items()}
    Ts = [t for t in T_points if t <= int(df["t"].max())]
    sub = df[df["norm"].isin(norms) & df["t"].isin(Ts)]
    if sub.empty:
        return "(no simulation results for the main norms)"
    wide = sub.groupby(["dataset", "arch", "norm", "t"], sort=False)["accuracy"].mean().mul(100).round(1).unstack("t")
    wide.columns = [f"T={t}" for t in wide.columns]
    wide = wide.reset_index()
    wide["norm"] = [f"{n} ({names[n]})" if n in names else n for n in wide["norm"]]
    ann = df.groupby(["dataset", "arch"])["ann_accuracy"].first().mul(100).round(1).rename("ANN").reset_index()
    out = wide.merge(ann, on=["dataset", "arch"])
    out["dataset"], out["arch"] = out["dataset"].map(dataset_label), out["arch"].map(arch_label)
    return out[["dataset", "arch", "ANN", "norm"] + [c for c in out.columns if c.startswith("T=")]].to_string(
        index=False
    )


def success_message(workdir: str | Path, report: dict[str, Any]) -> str:
    """The end-of-run summary printed by ``onsuccess``."""
    root = Path(workdir)
    lines = [
        "",
        "snnconv: run complete.",
        f"  results: {root / paths.RESULTS}/ (figures: {root / paths.FIGURES}/, tables: {root / paths.TABLES}/)",
        f"  logs: {root / artefacts.LOGS}/, per-job timings: {root / artefacts.BENCHMARKS}/",
    ]
    table = root / paths.ACCURACY_ALL
    if table.exists():
        try:
            lines += [
                "",
                "Test accuracy (%), mean over replicates:",
                headline(table, list(report["norms"]), dict(report["roles"]), list(report["T_points"])),
            ]
        except Exception as exc:  # noqa: BLE001 - a summary must never turn a success into a failure
            lines.append(f"  (headline table unavailable: {type(exc).__name__}: {exc})")
    lines += ["", f"The paper from these results: {PAPER_COMMAND}", ""]
    return "\n".join(lines)


def _log_files(snakemake_log: Any) -> list[Path]:
    """Snakemake's own log file(s): ``onerror`` passes a path or a list of paths, depending on the version."""
    if snakemake_log is None:
        return []
    items = [snakemake_log] if isinstance(snakemake_log, (str, Path)) else list(snakemake_log)
    return [Path(p) for p in items]


def failed_jobs(snakemake_log: Any) -> list[tuple[str, str | None]]:
    """(rule, its log file) of every "Error in rule" block of Snakemake's own log(s)."""
    text = ""
    for path in _log_files(snakemake_log):
        try:
            text += Path(path).read_text(errors="replace")
        except OSError:
            continue
    out = []
    for block in re.split(r"(?=Error in rule )", text)[1:]:
        rule = re.match(r"Error in rule (\S+?):", block)
        log = re.search(r"^\s+log: (\S+)", block, re.MULTILINE)
        if rule:
            out.append((rule.group(1), log.group(1) if log else None))
    return out


# The line snnconv.workflow.job.run_job writes into a rule's log when its job fails.
_FAILED_RECORD = re.compile(r" ERROR snnconv\.workflow\.job: rule (\w+) failed after ")


def run_started(snakemake_log: Any) -> float | None:
    """When this run started: the local time in the name Snakemake gives its log (2026-12-04T170720.325467.snakemake.log)."""
    for path in _log_files(snakemake_log):
        stamp = re.match(r"(\d{4}-\d\d-\d\dT\d{6}\.\d+)\.snakemake\.log$", path.name)
        if stamp:
            return datetime.strptime(stamp.group(1), "%Y-%m-%dT%H%M%S.%f").timestamp()
    return None


def failed_rule_logs(workdir: str | Path, snakemake_log: Any) -> list[tuple[str, str]]:
    """(rule, its log file) of every rule log under ``workdir``/logs written during this run that records a failed
    job. Snakemake's own log lacks its "Error in rule" blocks when the profile is quiet about rules; a rule's log
    always says whether its job failed (the line :func:`snnconv.workflow.job.run_job` writes)."""
    since, logs = run_started(snakemake_log), Path(workdir) / artefacts.LOGS
    if since is None or not logs.is_dir():
        return []
    out = []
    for path in sorted(logs.rglob("*.log")):
        try:
            found = path.stat().st_mtime >= since and _FAILED_RECORD.search(path.read_text(errors="replace"))
        except OSError:
            continue
        if found:
            out.append((found.group(1), str(path.relative_to(workdir))))
    return out


def first_error_line(log_file: str | Path) -> str:
    """The first line that states the error in a rule log (the exception line of its traceback)."""
    try:
        lines = Path(log_file).read_text(errors="replace").splitlines()
    except OSError as exc:
        return f"(log unreadable: {exc})"
    for line in lines:
        if re.match(r"^[A-Za-z_][\w.]*(Error|Exception|Interrupt)\b.*:", line.strip()):
            return line.strip()
    failed = [l for l in lines if " failed after " in l]
    return failed[0].strip() if failed else (lines[-1].strip() if lines else "(empty log)")


def error_message(workdir: str | Path, snakemake_log: Any) -> str:
    """The summary printed by ``onerror``: each failed rule, its log and the first line of its error."""
    root = Path(workdir)
    jobs = failed_jobs(snakemake_log)
    named = {log for _, log in jobs}
    jobs += [job for job in failed_rule_logs(root, snakemake_log) if job[1] not in named]
    lines = ["", "snnconv: run FAILED."]
    if not jobs:
        lines.append(f"  see Snakemake's log: {', '.join(map(str, _log_files(snakemake_log))) or '(none)'}")
    for rule, log in jobs:
        where = (root / log) if log and not Path(log).is_absolute() else log
        lines.append(f"  rule {rule}: log {where}")
        if where:
            lines.append(f"    {first_error_line(where)}")
    lines += ["  Fix the cause, then run the same command again: finished results are kept.", ""]
    return "\n".join(lines)
