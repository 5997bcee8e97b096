"""Input encodings: Bernoulli ("Poisson") rate coding and constant current (docs/method.md §S1).

Poisson spikes are always drawn on the CPU from a ``torch.Generator`` keyed by (seed, batch index), one
fixed-size draw per time step in time order, so the stream is identical on CPU and GPU, in float32 and
float64, and for every ``time_chunk``. Each step draws ceil(n/2) 63-bit integers (n = B·C·H·W), split into
31-bit uniforms u; a pixel spikes iff u < round(p·2^31), i.e. with probability p to within 2^-32. This is
~4x faster than ``torch.rand`` and exact to far below the float32 resolution of p.

The draw, mask and comparison run on pieces of PIECE words, so their buffers stay in cache and only the
spikes are written to memory (a whole time chunk of them is tens of MB). ``random_`` fills a tensor from the
generator in element order, so drawing a step's words piece by piece gives the same stream as one draw
(tests/test_simulate_encoding.py checks it against the one-draw reference).
"""

from __future__ import annotations

import hashlib

import torch

from .workspace import Workspace

ENCODINGS = ("poisson", "constant")
PIECE = 1 << 16  # 63-bit words per piece: 512 KiB of draws, 128 Ki pixels (measured: bench_simulator.py)


def check_pixels(images: torch.Tensor) -> None:
    """ValueError naming the offending value and sample unless every pixel is a number in [0, 1] (§S1)."""
    if not images.is_floating_point():
        raise ValueError(f"images must be floating point in [0, 1], got dtype {images.dtype}")
    flat = images.detach().reshape(len(images), -1) if images.ndim else images.detach().reshape(1, 1)
    bad = ~((flat >= 0) & (flat <= 1))  # also catches NaN
    if bool(bad.any()):
        sample, pixel = (int(i) for i in bad.nonzero()[0])
        value = float(flat[sample, pixel])
        raise ValueError(
            f"images must lie in [0, 1] (pixel intensity = spike probability per step), got "
            f"{value!r} at sample {sample}, flat pixel {pixel} ({int(bad.sum())} pixel(s) out of range; "
            f"range seen [{float(flat.nan_to_num(0.5).min())}, {float(flat.nan_to_num(0.5).max())}])"
        )


def batch_seed(seed: int, batch_index: int) -> int:
    """Deterministic 63-bit generator seed for one batch (hash of seed and batch index; §S1)."""
    digest = hashlib.sha256(f"snnconv-poisson:{int(seed)}:{int(batch_index)}".encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


class PoissonEncoder:
    """Bernoulli spikes with per-step probability ``clamp(pixel * max_rate, 0, 1)`` (§S1)."""

    constant = False

    def __init__(
        self,
        images: torch.Tensor,
        seed: int,
        batch_index: int,
        max_rate: float = 1.0,
        device: torch.device | str = "cpu",
        dtype: torch.dtype = torch.float32,
        workspace: Workspace | None = None,
    ) -> None:
        self.prob = (images.detach().to("cpu", torch.float64) * float(max_rate)).clamp_(0.0, 1.0)
        # spike iff u <= k - 1 with u uniform on 0..2^31-1 and k = round(p * 2^31) (k - 1 fits in int32)
        self.limit = (torch.round(self.prob * 2.0**31) - 1).to(torch.int32).contiguous()
        self.generator = torch.Generator().manual_seed(batch_seed(seed, batch_index))
        self.device, self.dtype, self.ws = torch.device(device), dtype, workspace

    def _buffer(self, key: str, shape: tuple[int, ...], dtype: torch.dtype, device: torch.device) -> torch.Tensor:
        """A workspace buffer (overwritten by the next block) or, without a workspace, a fresh tensor."""
        return self.ws.get(key, shape, dtype, device) if self.ws else torch.empty(shape, dtype=dtype, device=device)

    def block(self, steps: int) -> torch.Tensor:
        """The next ``steps`` time steps of input spikes, shape (steps, B, C, H, W), on the target device.

        With a workspace the result lives in a reused buffer, valid until the next call. One code path for
        every device: the comparison writes a bool mask on the CPU (1 byte per spike, faster than comparing
        into a float buffer), which one ``copy_`` turns into the compute dtype on the target device.
        """
        n, cpu = self.limit.numel(), torch.device("cpu")
        half = (n + 1) // 2
        piece = min(PIECE, half)
        out = self._buffer("enc_spikes", (steps, *self.limit.shape), self.dtype, self.device)
        flat, limit = out.view(steps, n), self.limit.view(n)
        words = self._buffer("enc_words", (piece,), torch.int64, cpu)
        mask = self._buffer("enc_mask", (2 * piece,), torch.bool, cpu)
        for t in range(steps):  # one fixed-size draw per step, in pieces: independent of how time is chunked
            for start in range(0, half, piece):
                w = words[: min(piece, half - start)].random_(generator=self.generator)  # uniform on 0..2^63-1
                lo, hi = 2 * start, min(2 * (start + len(w)), n)
                u = w.view(torch.int32)[: hi - lo].bitwise_and_(0x7FFFFFFF)  # two 31-bit uniforms per word
                flat[t, lo:hi].copy_(torch.le(u, limit[lo:hi], out=mask[: hi - lo]))
        return out


class ConstantEncoder:
    """Constant input current ``pixel * max_rate`` at every step (§S1); ``block`` returns an expanded view."""

    constant = True

    def __init__(
        self,
        images: torch.Tensor,
        max_rate: float = 1.0,
        device: torch.device | str = "cpu",
        dtype: torch.dtype = torch.float32,
    ) -> None:
        self.value = (images.detach().to(device=device, dtype=dtype) * float(max_rate)).contiguous()

    def block(self, steps: int) -> torch.Tensor:
        """``steps`` copies of the input as a (steps, B, C, H, W) broadcast view (no memory copied)."""
        return self.value.unsqueeze(0).expand(steps, *self.value.shape)


def make_encoder(
    encoding: str,
    images: torch.Tensor,
    *,
    seed: int,
    batch_index: int,
    max_rate: float,
    device: torch.device | str,
    dtype: torch.dtype,
    workspace: Workspace | None = None,
) -> PoissonEncoder | ConstantEncoder:
    """Encoder for one batch of images in [0, 1] (anything else is refused, naming the value)."""
    check_pixels(images)
    if encoding == "poisson":
        return PoissonEncoder(images, seed, batch_index, max_rate, device, dtype, workspace)
    if encoding == "constant":
        return ConstantEncoder(images, max_rate, device, dtype)
    raise ValueError(f"encoding {encoding!r} not in {ENCODINGS}")
