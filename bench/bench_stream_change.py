"""Old and new input streams on one real net: the accuracy curves agree within the input-seed spread.

Usage::

    python bench/bench_stream_change.py                    # MNIST CNN, 1,000 test images, T = 100, 5 seeds per stream
    python bench/bench_stream_change.py --smoke            # digits, tiny, seconds

The simulator's input stream changed from a CPU Mersenne Twister keyed by (seed, batch index) to the counter-based
stream keyed by (seed, image id, t, pixel) (docs/method.md §S1). Every Poisson result moves to other, equally valid
draws. This script trains one network (MNIST CNN, the default options), converts it ('max' and 'p99.9') and
simulates the same test images with both streams and several input seeds each, through the same step-by-step
reference simulator, so that only the stream differs. The previous stream is re-implemented here from its
definition and checked against the spikes its test pinned (sha256 prefix ``c35bd4a59e151387``).

Writes ``docs/bench/stream_change.csv`` (accuracy per stream, norm, seed and t) and ``stream_change.png`` (mean ±
seed s.d. per stream) and prints, per norm, the largest gap between the stream means and a per-t Welch test of the
two streams' seeds with a Benjamini-Hochberg correction over t.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import print_header  # noqa: E402

from snnconv.defaults import arch_args, convert_args, dataset_args, stepwise_args, training_args

REPO = Path(__file__).resolve().parent.parent
OLD_PIN = "c35bd4a59e151387"


class OldMersenneStream:
    """The previous stream: per step, ceil(n/2) 63-bit words from a CPU ``torch.Generator`` seeded with
    sha256("snnconv-poisson:{seed}:{batch index}") (63 bits), split into two 31-bit uniforms; spike iff
    u <= round(p·2^31) − 1."""

    constant = False

    def __init__(self, images: torch.Tensor, seed: int, batch_index: int, dtype: torch.dtype = torch.float32) -> None:
        digest = hashlib.sha256(f"snnconv-poisson:{int(seed)}:{int(batch_index)}".encode()).digest()
        self.generator = torch.Generator().manual_seed(int.from_bytes(digest[:8], "little") >> 1)
        prob = images.detach().double().clamp(0.0, 1.0)
        self.limit = (torch.round(prob * 2.0**31) - 1).to(torch.int32)
        self.dtype = dtype

    def block(self, steps: int) -> torch.Tensor:
        """The next ``steps`` steps of spikes, (steps, B, ...)."""
        n = self.limit.numel()
        out = []
        for _ in range(steps):
            words = torch.empty((n + 1) // 2, dtype=torch.int64).random_(generator=self.generator)
            u = words.view(torch.int32)[:n].bitwise_and(0x7FFFFFFF).view(self.limit.shape)
            out.append((u <= self.limit).to(self.dtype))
        return torch.stack(out)


def check_old_stream() -> None:
    """The re-implementation reproduces the spikes the previous stream's test pinned."""
    images = torch.linspace(0, 1, 2 * 28 * 28).reshape(2, 1, 28, 28)
    spikes = OldMersenneStream(images, 0, 0).block(5).to(torch.uint8).numpy().tobytes()
    got = hashlib.sha256(spikes).hexdigest()[:16]
    if got != OLD_PIN:
        raise SystemExit(f"old stream re-implementation differs from the pinned spikes: {got} != {OLD_PIN}")
    print(f"old stream re-implementation matches the pinned spikes ({OLD_PIN})", flush=True)


def trained_net(smoke: bool, data_dir: str) -> tuple[str, dict[str, object], torch.Tensor, torch.Tensor]:
    """One trained CNN, converted with 'max' and 'p99.9'; returns (dataset, nets by norm, test images, labels)."""
    from snnconv.convert import convert, parse_norm
    from snnconv.data import ArrayDataset, prepare_dataset
    from snnconv.train import train_ann

    if smoke:
        name, opts = "digits", dataset_args("digits")
    else:
        name, opts = "mnist", dataset_args("mnist", subset_train=20000, subset_test=1000)
    ds, _ = prepare_dataset(name, opts, data_dir)
    cfg = training_args(
        epochs=1 if smoke else 2, batch_size=64, lr=0.003, optimizer="adam", threads=torch.get_num_threads()
    )
    arch = arch_args("cnn", channels=[16, 32], kernel=3, hidden=64, dropout=0.1)
    cache = REPO / "results" / "bench" / "cache" / f"stream_change_{name}_cnn.pt"
    if cache.is_file():  # the same seeded training (results/ is not committed)
        from snnconv.models import build_model

        model = build_model("cnn", ds.shape, len(ds.classes), **arch)
        model.load_state_dict(torch.load(cache, weights_only=True))
        model.eval()
        print(f"{name} CNN loaded from {cache}", flush=True)
    else:
        result = train_ann(ds, "cnn", arch, cfg, seed=0, progress=False)
        print(f"{name} CNN trained: test accuracy {result.test_accuracy:.4f} in {result.seconds:.0f} s", flush=True)
        model = result.model
        cache.parent.mkdir(parents=True, exist_ok=True)
        torch.save(model.state_dict(), cache)
    norm_images = ArrayDataset.as_float(ds.x_train[:2000])
    nets = {norm: convert(model, norm_images, parse_norm(norm, {}), **convert_args()) for norm in ("max", "p99.9")}
    return name, nets, ArrayDataset.as_float(ds.x_test), torch.from_numpy(ds.y_test).long()


def curves(nets: dict[str, object], x: torch.Tensor, y: torch.Tensor, T: int, seeds: int, batch: int) -> pd.DataFrame:
    """Accuracy at every t for both streams, every norm and input seed (the same step-by-step simulator)."""
    from snnconv.simulate import simulate_stepwise

    rows = []
    for norm, net in nets.items():
        for seed in range(seeds):
            kw = dict(seed=seed, batch_size=batch, device="cpu", dtype=torch.float32)
            new = simulate_stepwise(net, x, y, T, **stepwise_args(**kw)).accuracy
            batches = iter(range(10**9))
            old = simulate_stepwise(
                net,
                x,
                y,
                T,
                **stepwise_args(encoder=lambda xb, ids, s=seed, b=batches: OldMersenneStream(xb, s, next(b)), **kw),
            ).accuracy
            for stream, acc in (("counter (new)", new), ("Mersenne Twister (old)", old)):
                rows += [
                    {"stream": stream, "norm": norm, "seed": seed, "t": t + 1, "accuracy": a} for t, a in enumerate(acc)
                ]
            print(f"{norm} seed {seed}: accuracy at T={T} new {new[-1]:.4f} old {old[-1]:.4f}", flush=True)
    return pd.DataFrame(rows)


def summarize(frame: pd.DataFrame) -> None:
    """Per norm: the largest |difference of the stream means| over t, and a Welch t-test of the two streams' seeds at
    every t with a Benjamini-Hochberg correction over the t's (scipy): agreement = no adjusted p below 0.05."""
    from scipy import stats

    for norm, part in frame.groupby("norm"):
        gaps, pvalues = [], []
        for t, at_t in part.groupby("t"):
            new, old = (at_t[at_t.stream == s].accuracy.to_numpy() for s in sorted(at_t.stream.unique()))
            gaps.append((abs(new.mean() - old.mean()), t))
            if new.std() + old.std() > 0:  # identical constant curves (t = 1) have no test
                pvalues.append(stats.ttest_ind(new, old, equal_var=False).pvalue)
        adjusted = stats.false_discovery_control(np.array(pvalues))
        gap, at = max(gaps)
        spread = part.groupby(["t", "stream"]).accuracy.std().mean()
        print(
            f"ratio stream change {norm}: max |mean gap| {100 * gap:.2f} points (at t={at}); mean seed s.d. "
            f"{100 * spread:.2f} points; Welch tests at {len(pvalues)} t: {np.mean(np.array(pvalues) < 0.05):.1%} with "
            f"p < 0.05, smallest BH-adjusted p {adjusted.min():.2f}: "
            f"{'agree within the seed spread' if adjusted.min() >= 0.05 else 'DIFFER'}",
            flush=True,
        )


def plot(frame: pd.DataFrame, path: Path, title: str) -> None:
    """Mean ± seed s.d. of each stream, one panel per norm."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    norms = sorted(frame.norm.unique())
    fig, axes = plt.subplots(1, len(norms), figsize=(5 * len(norms), 3.6), sharey=True)
    for ax, norm in zip(np.atleast_1d(axes), norms):
        for stream, part in frame[frame.norm == norm].groupby("stream"):
            s = part.groupby("t").accuracy.agg(["mean", "std"])
            ax.plot(s.index, 100 * s["mean"], label=stream)
            ax.fill_between(s.index, 100 * (s["mean"] - s["std"]), 100 * (s["mean"] + s["std"]), alpha=0.25)
        ax.set(title=f"{title}, {norm}", xlabel="time step t", xscale="log")
        ax.grid(alpha=0.3)
    np.atleast_1d(axes)[0].set_ylabel("accuracy (%)")
    np.atleast_1d(axes)[0].legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    print(f"wrote {path}", flush=True)


def main() -> None:
    """Parse options, check the old stream, run both streams, write the table and the figure."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--T", type=int, default=None, help="default 100 (smoke 20)")
    ap.add_argument("--seeds", type=int, default=None, help="input seeds per stream (default 5; smoke 2)")
    ap.add_argument("--data-dir", default=str(REPO.parent / "shared" / "data"))
    ap.add_argument("--summarize-only", action="store_true", help="only re-read the CSV and print the summary")
    ap.add_argument("--out", default=None, help="folder for the CSV and PNG (default docs/bench; smoke: results/bench)")
    args = ap.parse_args()
    print_header("bench_stream_change")
    torch.set_num_threads(1)  # one thread: on a shared machine OpenMP barriers stall a loaded second thread
    check_old_stream()
    T, seeds = args.T or (20 if args.smoke else 100), args.seeds or (2 if args.smoke else 5)
    out = Path(args.out or (REPO / ("results/bench" if args.smoke else "docs/bench")))
    if args.summarize_only:  # re-read a finished run's table
        frame = pd.read_csv(out / "stream_change.csv")
        summarize(frame)
        return
    name, nets, x, y = trained_net(args.smoke, args.data_dir)
    frame = curves(nets, x, y, T, seeds, batch=500)
    out.mkdir(parents=True, exist_ok=True)
    frame.to_csv(out / "stream_change.csv", index=False, float_format="%.6g")
    summarize(frame)
    plot(frame, out / "stream_change.png", f"{name} CNN, {len(x)} test images")


if __name__ == "__main__":
    main()
