"""Before a run: how many jobs a config makes, how many device-hours they should take and how much memory each
needs, from per-step costs in snnconv/resources/step_costs.yaml scaled by each network's multiply-accumulates.

Torch-free (the MAC count walks the validated arch options as the builders in snnconv/models.py read them). The estimate is
a plan, not a promise: every cost it uses is printed with whether it was measured or assumed, and where from.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib.resources import files
from typing import Any

import yaml

from ..convert.names import parse_norm, resolve_norms
from . import cluster
from .config import load_config, model_pairs
from .settings import recipe
from .vocab import INPUT_SHAPES


def step_costs() -> dict[str, Any]:
    """The per-step cost table (snnconv/resources/step_costs.yaml)."""
    return yaml.safe_load((files("snnconv.resources") / "step_costs.yaml").read_text())


@dataclass
class Line:
    """One kind of job of the plan."""

    rule: str
    model: str
    jobs: int
    device: str
    hours_per_job: float
    mem_mb: int

    @property
    def hours(self) -> float:
        return self.jobs * self.hours_per_job


def _kind(device: str) -> str:
    """``cpu`` for device cpu; ``auto`` and ``cuda`` are planned as a GPU (what the GPU rules request on a
    cluster: cluster.gpu_request)."""
    return "cpu" if device == "cpu" else "gpu"


def plan(config: Mapping[str, Any], costs: Mapping[str, Any] | None = None, device: str | None = None) -> list[Line]:
    """The training and simulation jobs of ``config`` with their device-hours and memory per job; ``device``
    (cpu or gpu), if given, plans every job on it whatever the config's ``device`` settings say."""
    costs = costs or step_costs()
    lines = []
    names = resolve_norms(config["conversion"]).names
    n_norms = len(names)
    qcfs_twins = any(parse_norm(name).qcfs for name in names)  # a QCFS twin is trained beside each model
    sim = config["simulation"]
    for dataset, arch in model_pairs(config):
        gmac = cluster.macs_per_image(arch, config["arch_options"][arch], INPUT_SHAPES[dataset]) / 1e9
        n_train, n_test = cluster.split_sizes(config, dataset)
        tr = recipe(config, dataset)
        kind = device or _kind(str(config["training"]["device"]))
        seconds = (
            tr["epochs"] * (n_train - tr["validation_images"]) * gmac * costs[kind]["train_s_per_gmac_image"]["value"]
        )
        for rule in ("train_ann", "train_qcfs") if qcfs_twins else ("train_ann",):
            lines.append(
                Line(rule, f"{dataset}/{arch}", len(config["seeds"]), kind, seconds / 3600,
                     cluster.train_mem_mb(config, dataset, arch))
            )  # fmt: skip
        kind = device or _kind(str(sim["device"]))
        n = min(n_test, sim["test_subset"] or n_test)
        seconds = sim["T"] * n * gmac * costs[kind]["simulate_s_per_gmac_step"]["value"]
        jobs = len(config["seeds"]) * n_norms * len(sim["input_seeds"])
        lines.append(
            Line(
                "simulate",
                f"{dataset}/{arch}",
                jobs,
                kind,
                seconds / 3600,
                cluster.simulate_mem_mb(config, dataset, arch),
            )
        )
    return lines


def render(lines: Sequence[Line], costs: Mapping[str, Any]) -> str:
    """The plan as text: one row per (rule, model), totals per device, and the provenance of every cost used."""
    out = [f"{'rule':<10} {'model':<22} {'jobs':>5} {'device':>6} {'h/job':>9} {'hours':>9} {'host MB/job':>12}"]
    for line in lines:
        out.append(
            f"{line.rule:<10} {line.model:<22} {line.jobs:>5} {line.device:>6} {line.hours_per_job:>9.3f} "
            f"{line.hours:>9.2f} {line.mem_mb:>12}"
        )
    for kind in sorted({line.device for line in lines}):
        chosen = [line for line in lines if line.device == kind]
        out.append(
            f"total on {kind}: {sum(line.jobs for line in chosen)} jobs, "
            f"{sum(line.hours for line in chosen):.2f} {kind}-hours"
        )
    out.append("(conversion, data and report jobs are small beside these and not counted)")
    used = {
        (line.device, "train_s_per_gmac_image" if line.rule.startswith("train_") else "simulate_s_per_gmac_step")
        for line in lines
    }
    for kind, key in sorted(used):
        entry = costs[kind][key]
        out.append(f"{kind}.{key} = {entry['value']} ({entry['kind']}): {' '.join(str(entry['source']).split())}")
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m snnconv.workflow.plan --configfile config/paper-gpu.yaml``: print the plan."""
    parser = argparse.ArgumentParser(prog="snnconv plan", description=__doc__.split("\n\n")[0])
    parser.add_argument("--configfile", required=True)
    parser.add_argument(
        "--device", choices=("cpu", "gpu"), help="plan every job on this device (default: the config's device)"
    )
    args = parser.parse_args(argv)
    costs = step_costs()
    print(render(plan(load_config(args.configfile), costs, args.device), costs))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
