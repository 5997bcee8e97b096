"""Input encodings: Bernoulli ("Poisson") rate coding and constant current (docs/method.md §S1).

Poisson spikes come from the counter-based stream of :mod:`.stream`: the spike of pixel j of image i at step t is
a pure function of (seed, i, t, j), computed on the simulation device, so an image gets the same spikes whatever
batch, time chunk, device, thread count or dtype it is simulated with. The encoder here serves the eager engine
(a block of steps at a time); the compiled step calls :func:`.stream.spikes_at` itself.

On the CPU the hash runs on pieces of about PIECE words (whole image rows), in place in two scratch buffers that
stay in cache, and only the spikes are written to memory (a whole time chunk of them is tens of MB).
"""

from __future__ import annotations

import torch

from .stream import check_counters, image_keys, spike_limits, triple32, triple32_
from .stream import image_ids as image_ids_of
from .workspace import Workspace

ENCODINGS = ("poisson", "constant")
PIECE = 1 << 16  # int32 words hashed per piece on the CPU: 256 KiB per scratch buffer, in L2 (measured)


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


class PoissonEncoder:
    """Bernoulli spikes with per-step probability ``clamp(pixel * max_rate, 0, 1)`` from the counter stream (§S1).

    ``image_ids`` are the images' indices in their dataset split (default 0..B-1): they, not the position in
    the batch, key the stream. ``block`` returns the next steps; the first call starts at t = 1.
    """

    constant = False

    def __init__(
        self,
        images: torch.Tensor,
        seed: int,
        image_ids: torch.Tensor | None = None,
        max_rate: float = 1.0,
        device: torch.device | str = "cpu",
        dtype: torch.dtype = torch.float32,
        workspace: Workspace | None = None,
    ) -> None:
        self.device, self.dtype, self.ws = torch.device(device), dtype, workspace
        self.shape = tuple(images.shape)
        ids = image_ids_of(len(images), image_ids)
        n = images[0].numel() if len(images) else 0
        check_counters(ids, n, 0)
        self.limit = spike_limits(images.to(self.device), max_rate)
        self.base, self.r = image_keys(ids.to(self.device), seed, n)
        self.t = 0  # steps emitted so far

    def _buffer(self, key: str, shape: tuple[int, ...], dtype: torch.dtype) -> torch.Tensor:
        """A workspace buffer (overwritten by the next block) or, without a workspace, a fresh tensor."""
        if self.ws:
            return self.ws.get(key, shape, dtype, self.device)
        return torch.empty(shape, dtype=dtype, device=self.device)

    def block(self, steps: int) -> torch.Tensor:
        """The next ``steps`` time steps of input spikes, shape (steps, B, C, H, W), on the encoder's device.

        With a workspace the result lives in a reused buffer, valid until the next call. Per piece (rows of one
        step, or several whole steps of a small batch): xor the base words with the step words, hash in place,
        compare the top 31 bits with the limits into a bool mask, and copy the mask into the spikes in the compute
        dtype. Grouping steps matters for small inputs, where the cost is the number of calls, not the words.
        """
        B, n = self.limit.shape
        check_counters(torch.zeros(0), n, self.t + steps)
        out = self._buffer("enc_spikes", (steps, *self.shape), self.dtype)
        flat = out.view(steps, B, n)
        cpu = self.device.type == "cpu"
        rows = max(1, min(B, PIECE // max(1, n))) if cpu else B
        group = max(1, min(steps, PIECE // max(1, B * n))) if rows == B else 1  # whole steps per piece
        x, tmp = (self._buffer(k, (group * rows * n,), torch.int32) for k in ("enc_x", "enc_tmp"))
        mask = self._buffer("enc_mask", (group * rows * n,), torch.bool)
        steps_t = torch.arange(self.t + 1, self.t + steps + 1, dtype=torch.int32, device=self.device)
        q = triple32(steps_t.unsqueeze(1) ^ self.r.unsqueeze(0))  # (steps, B): one word per (step, image)
        for s0 in range(0, steps, group):
            s1 = min(steps, s0 + group)
            for r0 in range(0, B, rows):
                r1 = min(B, r0 + rows)
                shape = (s1 - s0, r1 - r0, n)
                xs, ts, ms = (buf[: (s1 - s0) * (r1 - r0) * n].view(shape) for buf in (x, tmp, mask))
                torch.bitwise_xor(self.base[r0:r1], q[s0:s1, r0:r1].unsqueeze(2), out=xs)
                triple32_(xs, ts)
                torch.bitwise_right_shift(xs, 1, out=ts).bitwise_and_(0x7FFFFFFF)
                flat[s0:s1, r0:r1].copy_(torch.le(ts, self.limit[r0:r1], out=ms))
        self.t += steps
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
    image_ids: torch.Tensor | None = None,
    max_rate: float,
    device: torch.device | str,
    dtype: torch.dtype,
    workspace: Workspace | None = None,
) -> PoissonEncoder | ConstantEncoder:
    """Encoder for one batch of images in [0, 1] (anything else is refused, naming the value)."""
    check_pixels(images)
    if encoding == "poisson":
        return PoissonEncoder(images, seed, image_ids, max_rate, device, dtype, workspace)
    if encoding == "constant":
        return ConstantEncoder(images, max_rate, device, dtype)
    raise ValueError(f"encoding {encoding!r} not in {ENCODINGS}")
