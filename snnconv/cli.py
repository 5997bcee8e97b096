"""``snnconv`` (also ``python -m snnconv``): convert your own model, simulate it and export it, outside Snakemake.

    snnconv convert  --model my.pt --norm p99.9 --data images.npz --out net.pt
    snnconv simulate --net net.pt --data images.npz --T 100
    snnconv export-nir --net net.pt --out net.nir

The commands run the pipeline's own code (:func:`snnconv.convert.convert`, :func:`snnconv.simulate.simulate`,
:func:`snnconv.export.to_nir`). Every setting not given on the command line takes its default from the workflow's
config schema, the one place defaults live, and the given ones are validated by that schema too.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

# The keys a minimal run must set; validating them fills every default of the schema.
_REQUIRED = {"datasets": ["digits"], "archs": ["mlp"], "seeds": [0]}
# T points at which `snnconv simulate` prints the accuracy (those up to --T, and T itself).
_REPORT_T = (1, 10, 25, 50, 100, 200, 500, 1000)


def settings(conversion: dict[str, Any] | None = None, simulation: dict[str, Any] | None = None) -> dict[str, Any]:
    """The config with the given conversion/simulation keys set and every other key at its schema default;
    a bad value raises ConfigError naming key and value."""
    from .workflow.config import validate_config

    config = {**_REQUIRED, "conversion": dict(conversion or {}), "simulation": dict(simulation or {})}
    if "T" in config["simulation"]:  # the report's and the statistics' T must not exceed it: one point, T itself
        T = config["simulation"]["T"]
        config["report"], config["stats"] = {"T_points": [T]}, {"T": T}
    return validate_config(config)


def _given(args: argparse.Namespace, keys: dict[str, str]) -> dict[str, Any]:
    """The options the user gave (not None), renamed to their config keys."""
    return {key: getattr(args, dest) for dest, key in keys.items() if getattr(args, dest) is not None}


def cmd_convert(args: argparse.Namespace) -> int:
    """Convert ``--model`` under ``--norm`` with the normalization set drawn from ``--data``; write ``--out``."""
    import torch

    from .atomic import write_json
    from .convert import canonicalize, convert, parse_norm
    from .convert.calibrate import CalibrationSettings
    from .convert.files import agreement, norm_set
    from .convert.user import load_model
    from .data.user import load_user_images
    from .network import save_network
    from .workflow.settings import AGREEMENT_IMAGES, calibration

    keys = {"norm_set_size": "norm_set_size", "norm_set_seed": "norm_set_seed"}
    keys.update({"per_channel": "per_channel", "maxpool_to_avgpool": "maxpool_to_avgpool"})
    full = settings(conversion=_given(args, keys))
    cfg = full["conversion"]
    spec = parse_norm(canonicalize(args.norm, cfg))
    calib = CalibrationSettings.from_dict(calibration(full, spec.name)) if spec.calib else None
    model, _ = load_model(args.model, trust_code=bool(args.trust_code))
    images = load_user_images(args.data, split="train")
    x, idx = norm_set(images.x, cfg["norm_set_size"], cfg["norm_set_seed"])
    try:
        with torch.no_grad():
            model(x[:1])
    except Exception as exc:
        raise ValueError(f"{args.model}: the model does not take the images of {args.data} ({exc})") from exc
    try:
        net = convert(
            model,
            x,
            spec,
            per_channel=bool(cfg["per_channel"]),
            maxpool_to_avgpool=bool(cfg["maxpool_to_avgpool"]),
            calib=calib,
        )
    except ValueError as exc:  # an unsupported layer, named with its position: say in which file
        raise ValueError(f"{args.model}: {exc}") from exc
    n = min(AGREEMENT_IMAGES, len(x))
    labels = images.y[idx[:n]] if images.y is not None else np.zeros(n, dtype=np.int64)
    agree = agreement(model, net, x[:n], labels)
    if images.y is None:  # no labels: only the ANN-vs-converted agreement means something
        agree = {k: v for k, v in agree.items() if not k.endswith("_accuracy")}
    save_network(net, args.out)
    record = {**net.meta, "sources": {"model": str(args.model), "data": str(args.data)}, "agreement": agree}
    record["settings"] = {k: cfg[k] for k in ("norm_set_size", "norm_set_seed", "per_channel", "maxpool_to_avgpool")}
    write_json(Path(args.out).with_suffix(".json"), record)
    print(f"{args.out}: {len(net.layers)} layers, norm {spec.name}, normalized on {len(x)} images of {args.data}")
    print(f"lambda per layer: {net.meta['lambdas']}")
    print(
        f"ANN and converted rate model agree on {agree['ann_vs_rate']:.1%} of {n} images; record in "
        f"{Path(args.out).with_suffix('.json')}"
    )
    return 0


def cmd_simulate(args: argparse.Namespace) -> int:
    """Simulate ``--net`` on the labelled images of ``--data`` for ``--T`` steps; print (and write) the accuracy."""
    import torch

    from .data.user import load_user_images
    from .network import load_network
    from .simulate import to_frame
    from .simulate.runio import simulate_with
    from .workflow.job import is_tty

    keys = {"T": "T", "encoding": "encoding", "max_rate": "max_rate", "reset": "reset", "decode": "decode"}
    keys.update({"batch_size": "batch_size", "time_chunk": "time_chunk", "device": "device", "subset": "test_subset"})
    keys["compile"] = "compile"
    cfg = settings(simulation=_given(args, keys))["simulation"]
    net = load_network(args.net)
    images = load_user_images(args.data, split="test")
    if images.y is None:
        raise ValueError(f"{args.data}: simulate measures accuracy and needs labels (an array 'y', or class folders)")
    n = len(images.y) if not cfg["test_subset"] else min(int(cfg["test_subset"]), len(images.y))
    x, y = images.as_float()[:n], torch.from_numpy(images.y[:n]).long()
    if tuple(x.shape[1:]) != tuple(net.input_shape):
        raise ValueError(f"{args.data}: images are {tuple(x.shape[1:])}, {args.net} takes {tuple(net.input_shape)}")
    result = simulate_with(net, x, y, cfg, int(args.seed), progress=is_tty())
    points = [t for t in _REPORT_T if t < result.T] + [result.T]
    print(f"{args.net} on {n} images of {args.data} ({cfg['encoding']} input, {result.seconds:.1f} s):")
    for t in points:
        print(f"  T = {t:>4}: accuracy {result.accuracy[t - 1]:.4f}")
    if args.out:
        from .atomic import atomic_path

        with atomic_path(args.out) as tmp:
            to_frame(result, net=str(args.net), input_seed=int(args.seed)).to_csv(tmp, index=False)
        print(f"accuracy and firing rates at every t: {args.out}")
    return 0


def cmd_export_nir(args: argparse.Namespace) -> int:
    """Write ``--net`` as a NIR graph to ``--out``."""
    from .network import load_network

    try:
        from .export import write_nir
    except ImportError as exc:
        raise ValueError(f"NIR export needs the nir package ({exc}): pip install 'snnconv[nir]'") from exc
    reset = settings(simulation=_given(args, {"reset": "reset"}))["simulation"]["reset"]
    graph = write_nir(load_network(args.net), args.out, reset=reset)
    print(f"{args.out}: NIR graph of {len(graph.nodes)} nodes ({reset} reset recorded in its metadata)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The ``snnconv`` argument parser (defaults: None, filled from the config schema by :func:`settings`)."""
    defaults = settings()
    conv, sim = defaults["conversion"], defaults["simulation"]
    parser = argparse.ArgumentParser(
        prog="snnconv",
        description="Convert your own model, simulate it and export it, outside Snakemake.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="{convert,simulate,export-nir,plan,design}")

    p = sub.add_parser(
        "convert",
        help="convert a trained ANN (your nn.Sequential or a pipeline checkpoint) into a spiking network",
        description="Convert a trained ANN into a spiking network with the pipeline's conversion "
        "(docs/method.md). Supported layers: Linear, Conv2d, ReLU, AvgPool2d, Flatten, BatchNorm1d/2d (folded), "
        "Dropout; the model must end with a Linear readout. The first unsupported layer is named with its position.",
    )
    p.add_argument("--model", required=True, type=Path, help="torch.save(model, path) of your model, or a model.pt")
    p.add_argument("--norm", required=True, help="norm name, e.g. max, p99.9, model, p99.9-v0half, l4 (docs/method.md)")
    p.add_argument("--data", required=True, type=Path, help="normalization images: an .npz (x, or x_train) or a folder")
    p.add_argument("--out", required=True, type=Path, help="the spiking network to write (.pt; a .json record beside)")
    p.add_argument("--norm-set-size", type=int, help=f"images drawn from --data (default {conv['norm_set_size']})")
    p.add_argument("--norm-set-seed", type=int, help=f"seed of that draw (default {conv['norm_set_seed']})")
    p.add_argument("--per-channel", action="store_const", const=True, help="one λ per conv channel")
    p.add_argument("--maxpool-to-avgpool", action="store_const", const=True, help="approximate MaxPool2d by AvgPool2d")
    p.add_argument("--trust-code", action="store_true", help="unpickle a model class of your own (runs its code)")
    p.set_defaults(run=cmd_convert)

    p = sub.add_parser(
        "simulate",
        help="simulate a converted network and print its accuracy over time",
        description="Simulate integrate-and-fire neurons on labelled images with the pipeline's simulator.",
    )
    p.add_argument("--net", required=True, type=Path, help="a network written by `snnconv convert` (or the pipeline)")
    p.add_argument(
        "--data", required=True, type=Path, help="labelled images: an .npz (x and y, or x_test/y_test) or a folder"
    )
    p.add_argument("--T", type=int, help=f"time steps (default {sim['T']})")
    p.add_argument("--encoding", help=f"poisson or constant (default {sim['encoding']})")
    p.add_argument("--max-rate", type=float, help=f"spike probability of a white pixel (default {sim['max_rate']})")
    p.add_argument("--reset", help=f"subtract or zero (default {sim['reset']})")
    p.add_argument("--decode", help=f"membrane or spikes (default {sim['decode']})")
    p.add_argument("--seed", type=int, default=sim["input_seeds"][0], help="seed of the Poisson input")
    p.add_argument("--batch-size", type=int, help=f"images per batch (default {sim['batch_size']})")
    p.add_argument("--time-chunk", type=int, help=f"steps per block (default {sim['time_chunk']})")
    p.add_argument("--device", help=f"auto, cpu or cuda (default {sim['device']})")
    p.add_argument(
        "--compile", help=f"auto, true or false: one torch.compile'd step per time step (default {sim['compile']})"
    )
    p.add_argument("--subset", type=int, help="the first N images only (default: all)")
    p.add_argument("--out", type=Path, help="CSV of accuracy and firing rates at every t")
    p.set_defaults(run=cmd_simulate)

    p = sub.add_parser(
        "export-nir",
        help="write a converted network as a NIR graph (needs the nir extra)",
        description="Write a converted network as a NIR graph for other simulators and neuromorphic chips "
        "(docs/nir.md: what NIR expresses and what is refused).",
    )
    p.add_argument("--net", required=True, type=Path, help="a network written by `snnconv convert` (or the pipeline)")
    p.add_argument("--out", required=True, type=Path, help="the .nir file to write")
    p.add_argument("--reset", help=f"the reset the network is simulated with (default {sim['reset']})")
    p.set_defaults(run=cmd_export_nir)

    p = sub.add_parser(
        "plan",
        help="print the jobs, device-hours and memory per job a config will need, before anything runs",
        description="Job count, expected device-hours and host memory per job of a workflow config, from the "
        "per-step costs in snnconv/resources/step_costs.yaml (each printed as measured or assumed, with its source).",
    )
    p.add_argument("--configfile", required=True, type=Path, help="the workflow config to plan")
    p.add_argument("--device", choices=("cpu", "gpu"), help="plan every job on this device (default: the config's)")
    p.set_defaults(run=cmd_plan)

    p = sub.add_parser(
        "design",
        help="print the expected 95 %% half-widths of a study's headline differences, from a pilot's results",
        description="Expected half-widths of L4 − its uniform control and L4 − the strongest plain baseline, the "
        "training seed as the unit of replication, for designs of S training seeds, I input seeds and N test images, "
        "from the variance components of a finished run (snnconv/analysis/design.py says how and what it assumes).",
    )
    p.add_argument("--results", required=True, type=Path, help="the pilot's results table (accuracy_all.csv[.gz])")
    p.add_argument("--configfile", required=True, type=Path, help="the pilot's config (config.effective.yaml)")
    p.add_argument(
        "--pilot-images",
        type=int,
        help="test images the pilot simulated (default: its simulation.test_subset, which must then be > 0)",
    )
    p.add_argument("--T", type=int, nargs="+", default=[8, 16, 32, 64], help="time steps to plan (default 8 16 32 64)")
    p.add_argument("--seeds", type=int, nargs="+", default=[3, 5], help="training seeds of the designs (default 3 5)")
    p.add_argument("--input-seeds", type=int, nargs="+", default=[1, 3], help="input seeds per training seed (1 3)")
    p.add_argument("--images", type=int, nargs="+", default=[10000], help="test images of the designs (10000)")
    p.add_argument("--out", type=Path, help="also write the whole table as CSV")
    p.set_defaults(run=cmd_design)
    return parser


def cmd_design(args: argparse.Namespace) -> int:
    """Print the expected half-widths of the designs asked for, from the pilot (snnconv.analysis.design)."""
    import itertools

    import yaml

    from .analysis.design import PILOT_CONFIDENCE, design_table
    from .analysis.load import read_accuracy_all
    from .workflow import settings as workflow_settings
    from .workflow.config import validate_config

    for path in (args.results, args.configfile):
        if not path.is_file():
            raise ValueError(f"{path}: no such file")
    config = validate_config(yaml.safe_load(args.configfile.read_text()) or {})
    pilot_images = args.pilot_images or config["simulation"]["test_subset"]
    if not pilot_images:
        raise ValueError(
            f"{args.configfile}: simulation.test_subset is 0 (the whole test set): give --pilot-images, the number "
            "of test images the pilot simulated"
        )
    df = read_accuracy_all(args.results, rates=False)
    missing = sorted(set(args.T) - set(df["t"].unique()))
    if missing:
        raise ValueError(f"{args.results}: no rows at t = {missing} (the pilot ran to t = {int(df['t'].max())})")
    designs = list(itertools.product(args.seeds, args.input_seeds, args.images))
    table = design_table(df, workflow_settings.report_norms(config), pilot_images, args.T, designs)
    if args.out:
        table.to_csv(args.out, index=False)
    shown = table.assign(
        network=table["dataset"] + "/" + table["arch"],
        design=[f"S={s} I={i} N={n}" for s, i, n in zip(table["seeds"], table["input_seeds"], table["images"])],
    )
    wide = shown.pivot_table(index=["network", "comparison", "t"], columns="design", values="half_width", sort=True)
    print(
        f"Expected 95 % half-widths (accuracy points) of the seed-level paired differences, from {args.results} "
        f"({pilot_images} images); targets: {_targets(table)}"
    )
    print(wide.round(2).to_string())
    met = shown.groupby("design")[["meets", "meets_pessimistic"]].mean()
    print(
        "share of (network, comparison, t) that meet the target (with the pilot's seed variance at its "
        f"{PILOT_CONFIDENCE:.0%} upper bound): "
        + ", ".join(f"{d} {r.meets:.0%} ({r.meets_pessimistic:.0%})" for d, r in met.iterrows())
    )
    return 0


def _targets(table: Any) -> str:
    """The half-width targets of the table's datasets, e.g. ``mnist ≤ 0.3``."""
    pairs = table.drop_duplicates("dataset")[["dataset", "target"]].itertuples(index=False)
    return ", ".join(f"{d} ≤ {t:g}" for d, t in pairs)


def cmd_plan(args: argparse.Namespace) -> int:
    """Print the plan of ``--configfile`` (snnconv/workflow/plan.py; no torch)."""
    from .workflow.plan import main as plan_main

    return plan_main(["--configfile", str(args.configfile), *(["--device", args.device] if args.device else [])])


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; a bad input ends with ``snnconv: error: <what and where>`` and exit status 2."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args))
    except (ValueError, FileNotFoundError) as exc:  # ConfigError is a ValueError
        print(f"snnconv {args.command}: error: {exc}", file=sys.stderr)
        return 2
