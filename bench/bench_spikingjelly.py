"""snnconv vs SpikingJelly's ann2snn, side by side: same ANN, same λ, same Poisson spikes, same machine.

Usage::

    python bench/bench_spikingjelly.py                 # MNIST MLP 784-1200-1200-10 + CNN 16c3-p2-32c3-p2-64-10, 1000 samples, T=100
    python bench/bench_spikingjelly.py --smoke         # digits, tiny nets, seconds
    python bench/bench_spikingjelly.py --profile       # add a torch.profiler table per implementation

SpikingJelly is optional and never a project dependency. Install it without letting pip touch torch::

    .venv/bin/pip install --no-deps spikingjelly && .venv/bin/pip install "loguru>=0.7,<1"

(loguru is the only extra package the ann2snn import path of spikingjelly 2.0.0 needs). Without it
this script prints ``skipped: spikingjelly not installed`` and exits 0.

What is compared (see docs/benchmarks.md for the measured numbers and the explanation):

* One ANN per architecture, built with :func:`snnconv.models.build_model`, briefly trained with a fixed
  seed (cached under ``results/bench/cache``), converted twice with 'max' normalization on the SAME
  normalization images: by :func:`snnconv.convert.convert` and by SpikingJelly's FX ``Converter`` with
  ``RateCodingRecipe(mode="max")`` (calibration data given as ONE batch, so its momentum-averaged
  per-batch max equals the plain max over the set).
* Input spikes: computed ONCE with snnconv's own :class:`~snnconv.simulate.PoissonEncoder` (the counter
  stream keyed by image id, shape (T, N, C, H, W)), i.e. bit-identical to the stream
  :func:`snnconv.simulate.simulate` computes internally. SpikingJelly gets these precomputed
  float spikes; ours computes them itself, so ours' time INCLUDES the input stream.
* Timings: ours (``simulate``) vs SpikingJelly single-step (loop over t, sum the readout) and multi-step
  (``set_step_mode('m')``, whole (T, B, ...) sequence per call), best of ``--reps`` interleaved runs,
  at each ``--threads`` setting, ours both eager and compiled (compile time excluded: a warm-up compiles first).
  Printed ratio: ours (faster engine) / fastest SpikingJelly mode (targets: MLP <= 0.7, CNN <= 0.2).
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import print_header, timed, timed_cpu  # noqa: E402

from snnconv.defaults import arch_args, convert_args, dataset_args, sim_args

ROOT = Path(__file__).resolve().parents[1]
T_POINTS = (10, 25, 50, 100)
TARGETS = {"mlp": 0.7, "cnn": 0.2}  # ours ÷ SpikingJelly's fastest mode


def have_spikingjelly() -> bool:
    """True if spikingjelly's ann2snn imports (it needs loguru besides the packages we already have)."""
    try:
        import spikingjelly.activation_based.ann2snn  # noqa: F401
    except ImportError as exc:
        print(f"spikingjelly: skipped: spikingjelly not installed ({exc})", flush=True)
        return False
    return True


# ----------------------------------------------------------------------------------------------- data/ANN
def load_data(
    smoke: bool, n_train: int, n_test: int, data_dir: str
) -> tuple[str, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """MNIST subsets from ``data_dir`` (digits in smoke mode or when MNIST is not there)."""
    from snnconv.data import ArrayDataset, prepare_dataset

    name = "digits"
    if not smoke:
        try:
            ds, _ = prepare_dataset("mnist", dataset_args("mnist", subset_train=n_train, subset_test=n_test), data_dir)
            name = "mnist"
        except (FileNotFoundError, ValueError) as exc:
            print(f"# MNIST not available ({exc}); falling back to digits", flush=True)
    if name == "digits":
        ds, _ = prepare_dataset(
            "digits", dataset_args("digits", subset_train=min(n_train, 1347), subset_test=min(n_test, 450))
        )
    return (
        name,
        ArrayDataset.as_float(ds.x_train),
        torch.from_numpy(ds.y_train).long(),
        ArrayDataset.as_float(ds.x_test),
        torch.from_numpy(ds.y_test).long(),
    )


def arch_options(arch: str, smoke: bool, in_shape: tuple[int, ...]) -> dict[str, Any]:
    """The benchmark ANNs: MLP 784-1200-1200-10 and the default CNN 16c3-p2-32c3-p2-64-10 (tiny in smoke mode)."""
    if arch == "mlp":
        return {"hidden": [64, 64] if smoke else [1200, 1200], "dropout": 0.2}
    return {"channels": [4, 8] if smoke else [16, 32], "kernel": 3, "hidden": 32 if smoke else 64, "dropout": 0.2}


def train_ann(
    arch: str,
    opts: dict[str, Any],
    dataset: str,
    x: torch.Tensor,
    y: torch.Tensor,
    epochs: int,
    seed: int,
    cache_dir: Path | None,
) -> nn.Sequential:
    """Build and briefly train (Adam, batch 100, fixed seed); cached by a key of everything that matters."""
    from snnconv.models import build_model

    model = build_model(arch, tuple(x.shape[1:]), 10, **arch_args(arch, **opts))
    key = hashlib.sha256(
        json.dumps(
            [arch, opts, dataset, list(x.shape), float(x.sum()), int(y.sum()), epochs, seed, torch.__version__],
            sort_keys=True,
        ).encode()
    ).hexdigest()[:16]
    path = None if cache_dir is None else cache_dir / f"{dataset}-{arch}-{key}.pt"
    if path is not None and path.exists():
        model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
        return model.eval()
    torch.manual_seed(seed)
    model = build_model(arch, tuple(x.shape[1:]), 10, **arch_args(arch, **opts))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    gen = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        model.train()
        perm = torch.randperm(len(x), generator=gen)
        for lo in range(0, len(x), 100):
            idx = perm[lo : lo + 100]
            loss = nn.functional.cross_entropy(model(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    model.eval()
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        torch.save(model.state_dict(), tmp)
        tmp.replace(path)
    return model


# ---------------------------------------------------------------------------------------------- conversion
def sj_scales(sj: nn.Module) -> list[float]:
    """λ per spiking layer of a SpikingJelly-converted net: the ``scaler1`` VoltageScaler's scale."""
    from spikingjelly.activation_based.ann2snn.modules import VoltageScaler

    return [float(m.scale) for n, m in sj.named_modules() if isinstance(m, VoltageScaler) and n.endswith("scaler1")]


def sj_convert(model: nn.Module, norm: torch.Tensor, batches: int = 1, reset_zero: bool = False) -> nn.Module:
    """SpikingJelly FX conversion, RateCodingRecipe(mode='max'), calibration set split into ``batches``."""
    from spikingjelly.activation_based import neuron
    from spikingjelly.activation_based.ann2snn import Converter, RateCodingRecipe

    loader = list(torch.chunk(norm, batches))
    factory = (lambda scale: neuron.IFNode(v_threshold=1.0, v_reset=0.0)) if reset_zero else None
    recipe = RateCodingRecipe(dataloader=loader, mode="max", neuron_factory=factory)
    import logging

    logging.getLogger().setLevel(logging.WARNING)
    return Converter(recipe, device="cpu").convert(copy.deepcopy(model)).eval()


def quiet_spikingjelly() -> None:
    """Silence spikingjelly's loguru INFO lines and tqdm calibration bars."""
    try:
        from spikingjelly.logger import logger

        logger.remove()
        logger.add(sys.stderr, level="WARNING")
    except Exception:
        pass
    import spikingjelly.activation_based.ann2snn.recipes.rate_coding as rc

    rc.tqdm = lambda it, *a, **k: it


# ---------------------------------------------------------------------------------------------- simulation
def poisson_spikes(images: torch.Tensor, T: int, batch: int, seed: int) -> torch.Tensor:
    """(T, N, C, H, W) float32 spikes: exactly the stream ``simulate(..., seed=seed)`` computes (image ids 0..N-1)."""
    from snnconv.simulate import PoissonEncoder

    out = torch.empty((T, *images.shape), dtype=torch.float32)
    for lo in range(0, len(images), batch):
        ids = torch.arange(lo, min(lo + batch, len(images)))
        out[:, lo : lo + batch] = PoissonEncoder(images[lo : lo + batch], seed, image_ids=ids).block(T)
    return out


def run_ours(
    net: Any,
    images: torch.Tensor,
    labels: torch.Tensor,
    T: int,
    batch: int,
    chunk: int,
    seed: int,
    reset: str = "subtract",
    compile: str = "false",
) -> np.ndarray:
    """snnconv's simulator (it computes the same Poisson spikes itself): accuracy at t = 1..T."""
    from snnconv.simulate import simulate

    return simulate(
        net,
        images,
        labels,
        T,
        **sim_args(seed=seed, batch_size=batch, time_chunk=chunk, device="cpu", reset=reset, compile=compile),
    ).accuracy


def run_sj_single(sj: nn.Module, spikes: torch.Tensor, labels: torch.Tensor, batch: int) -> np.ndarray:
    """SpikingJelly single-step mode: for t: out += net(x_t); accuracy of the running sum at every t."""
    from spikingjelly.activation_based import functional

    functional.set_step_mode(sj, "s")
    T, N = spikes.shape[:2]
    correct = torch.zeros(T, dtype=torch.int64)
    with torch.inference_mode():
        for lo in range(0, N, batch):
            functional.reset_net(sj)
            y = labels[lo : lo + batch]
            out = None
            for t in range(T):
                step = sj(spikes[t, lo : lo + batch])
                out = step if out is None else out.add_(step)
                correct[t] += int((out.argmax(1) == y).sum())
    return correct.numpy() / N


def run_sj_multi(sj: nn.Module, spikes: torch.Tensor, labels: torch.Tensor, batch: int) -> np.ndarray:
    """SpikingJelly multi-step mode: one call on the whole (T, B, ...) sequence, cumulative sum over t."""
    from spikingjelly.activation_based import functional

    functional.set_step_mode(sj, "m")
    T, N = spikes.shape[:2]
    correct = torch.zeros(T, dtype=torch.int64)
    try:
        with torch.inference_mode():
            for lo in range(0, N, batch):
                functional.reset_net(sj)
                out = sj(spikes[:, lo : lo + batch]).cumsum(0)
                correct += (out.argmax(-1) == labels[lo : lo + batch]).sum(1)
    finally:
        functional.set_step_mode(sj, "s")
    return correct.numpy() / N


def curve(acc: np.ndarray) -> str:
    """Accuracy at the reported time points (those <= T, and T itself)."""
    T = len(acc)
    pts = [t for t in T_POINTS if t <= T] + ([T] if T not in T_POINTS else [])
    return " ".join(f"t={t}:{acc[t - 1]:.4f}" for t in pts)


def profile_table(label: str, fn: Any, rows: int = 8) -> None:
    """Top ops by self CPU time of one call of ``fn``."""
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU]) as prof:
        fn()
    print(f"--- profile {label} ---")
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=rows), flush=True)


# ---------------------------------------------------------------------------------------------------- main
def bench_arch(arch: str, args: argparse.Namespace, data: tuple) -> list[dict[str, Any]]:
    """Train/convert one architecture, check agreement, time all implementations; returns result rows."""
    from snnconv.convert import convert, parse_norm

    dataset, xtr, ytr, xte, yte = data
    opts = arch_options(arch, args.smoke, tuple(xtr.shape[1:]))
    torch.set_num_threads(max(args.threads))
    cache = None if args.no_cache else Path(args.cache_dir)
    t_train, model = timed(lambda: train_ann(arch, opts, dataset, xtr, ytr, args.epochs, args.seed, cache))
    with torch.no_grad():
        ann_acc = float((model(xte).argmax(1) == yte).float().mean())
    norm = xtr[: args.norm_samples]
    ours = convert(copy.deepcopy(model), norm, parse_norm("max", {}), **convert_args())
    sj = sj_convert(model, norm)
    lam_ours = [float(np.max(l)) for l in ours.meta["lambdas"][:-1]]
    lam_sj = sj_scales(sj)
    rel = max(abs(a - b) / a for a, b in zip(lam_ours, lam_sj)) if len(lam_sj) == len(lam_ours) else float("nan")
    lam_ema = sj_scales(sj_convert(model, norm, batches=max(1, len(norm) // 100)))
    print(
        f"{arch}: {dataset} {tuple(xtr.shape[1:])} {opts}; trained {args.epochs} epoch(s) on {len(xtr)} "
        f"({t_train:.1f} s incl. cache), ANN test accuracy {ann_acc:.4f} on {len(xte)}"
    )
    print(
        f"{arch}: lambda ours (max over {len(norm)} images) {[round(v, 4) for v in lam_ours]}; "
        f"SJ RateCodingRecipe(mode='max', one batch) {[round(v, 4) for v in lam_sj]} (max rel. diff {rel:.1e}); "
        f"SJ with the same set in {max(1, len(norm) // 100)} batches of 100 (momentum-0.1 running average of "
        f"per-batch maxima) {[round(v, 4) for v in lam_ema]}",
        flush=True,
    )

    T, N = args.T, len(xte)
    t_draw, spikes = timed(lambda: poisson_spikes(xte, T, args.batch, args.seed))
    print(
        f"{arch}: input spikes {tuple(spikes.shape)} drawn once in {t_draw:.2f} s (same stream as simulate's "
        f"batch_size={args.batch}, seed={args.seed}); mean input rate {float(spikes.mean()):.4f}",
        flush=True,
    )

    chunks = args.time_chunk or ([50] if arch == "mlp" else [10, 1])
    impls = {f"ours_c{c}": (lambda c=c: run_ours(ours, xte, yte, T, args.batch, c, args.seed)) for c in chunks}
    impls["ours_compiled"] = lambda: run_ours(ours, xte, yte, T, args.batch, chunks[0], args.seed, compile="true")
    impls["sj_single"] = lambda: run_sj_single(sj, spikes, yte, args.batch)
    impls["sj_multi"] = lambda: run_sj_multi(sj, spikes, yte, args.sj_multi_batch)
    warm = [
        lambda: run_ours(ours, xte[:8], yte[:8], 2, 8, chunks[0], args.seed),
        lambda: run_ours(ours, xte, yte, 2, args.batch, chunks[0], args.seed, compile="true"),  # compiles
        lambda: run_sj_single(sj, spikes[:2, :8], yte[:8], 8),
        lambda: run_sj_multi(sj, spikes[:2, :8], yte[:8], 8),
    ]
    sj_modes, our_modes = ("sj_single", "sj_multi"), [f"ours_c{c}" for c in chunks] + ["ours_compiled"]
    accs: dict[str, np.ndarray] = {}
    rows = []
    for threads in args.threads:
        torch.set_num_threads(threads)
        for fn in warm:  # first-call costs (lazy init, allocator) stay out of the timings
            fn()
        best = {k: float("inf") for k in impls}
        cpu = {k: float("inf") for k in impls}
        for _ in range(args.reps):  # interleaved, best kept: load from other processes hits all alike
            for name, fn in impls.items():
                sec, csec, acc = timed_cpu(fn)
                best[name], cpu[name] = min(best[name], sec), min(cpu[name], csec)
                accs[name] = acc
        mine, fastest = min(our_modes, key=best.get), min(sj_modes, key=best.get)
        ratio = best[mine] / best[fastest]
        ratio_cpu = min(cpu[k] for k in our_modes) / min(cpu[k] for k in sj_modes)
        ours_txt = ", ".join(
            f"eager, time_chunk {c}: {best[f'ours_c{c}']:.2f} s ({cpu[f'ours_c{c}']:.2f})" for c in chunks
        )
        ours_txt += f", compiled: {best['ours_compiled']:.2f} s ({cpu['ours_compiled']:.2f})"
        print(
            f"{arch} threads={threads} N={N} T={T} wall (CPU) s: ours [batch {args.batch}, incl. its Poisson draw] "
            f"{ours_txt}; SJ single-step {best['sj_single']:.2f} ({cpu['sj_single']:.2f}) [batch {args.batch}]; "
            f"SJ multi-step {best['sj_multi']:.2f} ({cpu['sj_multi']:.2f}) [batch {args.sj_multi_batch}]; "
            f"best of {args.reps}",
            flush=True,
        )
        print(
            f"RATIO spikingjelly {arch} threads={threads}: ours ({mine}) / SJ-fastest ({fastest}) = {ratio:.2f} "
            f"wall, {ratio_cpu:.2f} CPU time (target <= {TARGETS[arch]}: {'met' if ratio <= TARGETS[arch] else 'MISSED'})",
            flush=True,
        )
        rows.append(
            {
                "arch": arch,
                "threads": threads,
                "N": N,
                "T": T,
                **{f"{k}_s": v for k, v in best.items()},
                **{f"{k}_cpu_s": v for k, v in cpu.items()},
                "ours_best": mine,
                "fastest_sj": fastest,
                "ratio": ratio,
                "ratio_cpu": ratio_cpu,
                "ann_acc": ann_acc,
                "accuracy": {},
            }
        )
    for name, acc in accs.items():
        print(f"{arch} accuracy {name:9s}: {curve(acc)}")
        for row in rows:
            row["accuracy"][name] = {t: float(acc[t - 1]) for t in T_POINTS if t <= T}
    diff = max(float(np.abs(accs[o] - accs[k]).max()) for k in sj_modes for o in our_modes)
    print(f"{arch}: max |accuracy difference| ours vs SJ over t=1..{T}: {diff:.4f}", flush=True)

    if args.check_zero_reset:
        n = min(args.check_zero_reset, N)
        sj0 = sj_convert(model, norm, reset_zero=True)
        sub = poisson_spikes(xte[:n], T, args.batch, args.seed)  # = the stream simulate draws for these n
        a_ours = run_ours(ours, xte[:n], yte[:n], T, args.batch, chunks[0], args.seed, reset="zero")
        a_sj = run_sj_single(sj0, sub, yte[:n], args.batch)
        print(
            f"{arch} reset-to-zero check on {n} samples: ours {curve(a_ours)} | SJ IFNode(v_reset=0) "
            f"{curve(a_sj)} | max |diff| {float(np.abs(a_ours - a_sj).max()):.4f}",
            flush=True,
        )

    if args.profile:
        torch.set_num_threads(max(args.threads))
        n = min(N, args.batch)
        for c in chunks:
            profile_table(
                f"{arch} ours time_chunk={c} N={n} T={T}",
                lambda c=c: run_ours(ours, xte[:n], yte[:n], T, n, c, args.seed),
            )
        profile_table(f"{arch} SJ single-step N={n} T={T}", lambda: run_sj_single(sj, spikes[:, :n], yte[:n], n))
    return rows


def main(argv: list[str] | None = None) -> int:
    """Parse options, run each architecture, print ratio lines (and an optional JSON summary)."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--smoke", action="store_true", help="digits, tiny nets, 200 samples, T=20, one thread")
    ap.add_argument("--archs", nargs="+", default=["mlp", "cnn"], choices=["mlp", "cnn"])
    ap.add_argument("--threads", type=int, nargs="+", default=None, help="default: 1 2 (smoke: 1)")
    ap.add_argument("--samples", type=int, default=None, help="test samples simulated (default 1000; smoke 200)")
    ap.add_argument("--T", type=int, default=None, help="time steps (default 100; smoke 20)")
    ap.add_argument("--train-samples", type=int, default=10000)
    ap.add_argument("--epochs", type=int, default=None, help="training epochs (default 2; smoke 5)")
    ap.add_argument("--norm-samples", type=int, default=1000, help="normalization (calibration) images")
    ap.add_argument("--batch", type=int, default=500, help="ours' batch_size and SJ single-step batch")
    ap.add_argument(
        "--time-chunk",
        type=int,
        nargs="+",
        default=None,
        help="ours' time_chunk value(s), best one used for the ratio (default: 50 = simulate's default "
        "for the MLP; 10 and 1 for the CNN)",
    )
    ap.add_argument("--sj-multi-batch", type=int, default=100, help="SJ multi-step batch (T×B×C×H×W per layer)")
    ap.add_argument("--reps", type=int, default=1, help="interleaved repetitions per thread setting (best kept)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--check-zero-reset",
        type=int,
        default=None,
        metavar="N",
        help="also compare reset-to-zero on N samples (default 200; smoke 0 = off)",
    )
    ap.add_argument("--profile", action="store_true", help="print a torch.profiler table for ours and SJ")
    ap.add_argument("--data-dir", default="/work/shared/data")
    ap.add_argument("--cache-dir", default=str(ROOT / "results" / "bench" / "cache"))
    ap.add_argument("--no-cache", action="store_true")
    ap.add_argument("--json", help="write the result rows here")
    args = ap.parse_args(argv)
    s = args.smoke
    args.threads = args.threads or ([1] if s else [1, 2])
    args.samples = args.samples or (200 if s else 1000)
    args.T = args.T or (20 if s else 100)
    args.epochs = args.epochs or (5 if s else 2)
    args.check_zero_reset = (0 if s else 200) if args.check_zero_reset is None else args.check_zero_reset
    if s:
        args.batch, args.sj_multi_batch = min(args.batch, 100), min(args.sj_multi_batch, 100)
        args.time_chunk = args.time_chunk or [10]

    print_header("bench_spikingjelly")
    if not have_spikingjelly():
        return 0
    quiet_spikingjelly()
    data = load_data(s, args.train_samples, args.samples, args.data_dir)
    rows = []
    for arch in args.archs:
        rows += bench_arch(arch, args, data)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
