"""The counter-based input spike stream: one uniform u(seed, image id, t, pixel) per input spike (docs/method.md §S1).

Each input spike is ``u < p`` for a 31-bit uniform ``u`` that is a pure function of (seed, image id, step t,
pixel index), computed on the simulation device in 32-bit integer arithmetic. Nothing is drawn from a generator
with state, so the spikes of an image do not depend on the batch it is simulated in, on how time is chunked, on
the device, the thread count or the dtype: they are bit-identical everywhere (tests/unit/simulate/test_simulate_stream.py).

Construction (all words 32-bit; ``H`` is ``triple32``, a bijection of the 32-bit integers with the lowest
avalanche bias known for 3 multiply rounds, from C. Wellons' hash-prospector; ``^`` is xor):

* seed keys ``k1, k2, k3``: the first 12 bytes of sha256("snnconv-stream:<seed>");
* per image ``i``: ``a_i = H(i ^ k1)``, ``r_i = H(i ^ k3)``; per pixel ``j``: ``g_j = H(j ^ k2)``;
* per (image, pixel), once per batch: ``base_ij = H(g_j ^ a_i)``; per (image, step): ``q_it = H(t ^ r_i)``;
* per spike: ``u = H(base_ij ^ q_it) >> 1`` (the top 31 bits), spike iff ``u < round(p · 2^31)``.

Because ``H`` is a bijection, two pixels of one image never share a ``base`` and two steps of one image never
share a ``q``, so within an image no two (pixel, step) streams coincide by construction. The tensors hold the
words' bit patterns as int32: multiplication, xor and addition are the same on signed and unsigned words (two's
complement wrap-around, what every PyTorch backend does), and the logical right shift is an arithmetic shift
with the sign bits masked off.
"""

from __future__ import annotations

import hashlib

import torch

NAME = "triple32-counter"  # recorded with every result so that a table says which stream made it
MAX_COUNTER = (1 << 31) - 1  # image ids, pixel indices and steps must stay below 2^31 (non-negative int32)
_MASK31 = 0x7FFFFFFF
# triple32: (shift, multiplier) rounds, then a final xorshift (hash-prospector, "Three round functions").
_ROUNDS = ((17, 0xED5AD4BB), (11, 0xAC4C1B51), (15, 0x31848BAB))
_FINAL_SHIFT = 14


def as_int32(word: int) -> int:
    """The signed int32 with the bit pattern of the 32-bit word ``word`` (0 <= word < 2^32)."""
    word &= 0xFFFFFFFF
    return word - (1 << 32) if word >= 1 << 31 else word


_MULTIPLIERS = tuple(as_int32(m) for _, m in _ROUNDS)


def _shift_xor(x: torch.Tensor, k: int) -> torch.Tensor:
    """``x ^ (x >>> k)`` on 32-bit words stored as int32 (the logical shift: arithmetic shift, sign bits masked)."""
    return x ^ ((x >> k) & ((1 << (32 - k)) - 1))


def triple32(x: torch.Tensor) -> torch.Tensor:
    """The triple32 hash of every word of the int32 tensor ``x`` (a new int32 tensor; traceable by torch.compile)."""
    for (shift, _), mult in zip(_ROUNDS, _MULTIPLIERS):
        x = _shift_xor(x, shift) * mult
    return _shift_xor(x, _FINAL_SHIFT)


def triple32_(x: torch.Tensor, tmp: torch.Tensor) -> torch.Tensor:
    """:func:`triple32` in place on ``x``, with ``tmp`` (same shape and dtype) as scratch: no allocation."""
    for (shift, _), mult in zip(_ROUNDS, _MULTIPLIERS):
        torch.bitwise_right_shift(x, shift, out=tmp).bitwise_and_((1 << (32 - shift)) - 1)
        x.bitwise_xor_(tmp).mul_(mult)
    torch.bitwise_right_shift(x, _FINAL_SHIFT, out=tmp).bitwise_and_((1 << (32 - _FINAL_SHIFT)) - 1)
    return x.bitwise_xor_(tmp)


def seed_keys(seed: int) -> tuple[int, int, int]:
    """The three 32-bit keys (as int32) of an input seed: the first 12 bytes of sha256("snnconv-stream:<seed>")."""
    digest = hashlib.sha256(f"snnconv-stream:{int(seed)}".encode()).digest()
    return tuple(as_int32(int.from_bytes(digest[4 * i : 4 * i + 4], "little")) for i in range(3))  # type: ignore[return-value]


def image_ids(n: int, ids: torch.Tensor | None = None) -> torch.Tensor:
    """The images' ids as int64 (n,): ``ids`` checked to hold one per image, or 0..n-1 (their order in the split)."""
    out = torch.arange(n) if ids is None else torch.as_tensor(ids).reshape(-1).long()
    if len(out) != n:
        raise ValueError(f"need one image id per image, got {len(out)} ids for {n} images")
    return out


def check_counters(image_ids: torch.Tensor, n_pixels: int, T: int) -> None:
    """ValueError naming the value unless image ids, pixel indices and steps fit the stream's 31-bit counters."""
    if image_ids.numel() and (int(image_ids.min()) < 0 or int(image_ids.max()) > MAX_COUNTER):
        raise ValueError(
            f"image ids must lie in [0, {MAX_COUNTER}] (an image's index in its dataset split), got "
            f"[{int(image_ids.min())}, {int(image_ids.max())}]"
        )
    if n_pixels > MAX_COUNTER or T > MAX_COUNTER:
        raise ValueError(f"the input stream counts pixels and steps below 2^31, got {n_pixels} pixels and T = {T}")


def spike_limits(images: torch.Tensor, max_rate: float) -> torch.Tensor:
    """Per pixel, ``round(p · 2^31) − 1`` as int32 (B, n) for p = clamp(pixel · max_rate, 0, 1), computed in float64
    on the images' device: a 31-bit uniform u spikes iff u <= limit, i.e. with probability p to within 2^-32."""
    prob = images.detach().reshape(len(images), -1).to(torch.float64, copy=True)
    prob.mul_(float(max_rate)).clamp_(0.0, 1.0).mul_(2.0**31).round_().sub_(1.0)
    return prob.to(torch.int32)


def image_keys(image_ids: torch.Tensor, seed: int, n_pixels: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``(base, r)`` of a batch: base (B, n) = H(g_j ^ a_i) per (image, pixel), r (B,) = H(i ^ k3) per image."""
    k1, k2, k3 = seed_keys(seed)
    ids = image_ids.to(torch.int32)
    pixels = torch.arange(n_pixels, dtype=torch.int32, device=ids.device)
    a, g = triple32(ids ^ k1), triple32(pixels ^ k2)
    base = g.unsqueeze(0) ^ a.unsqueeze(1)
    return triple32_(base, torch.empty_like(base)), triple32(ids ^ k3)


def uniforms_at(t: torch.Tensor, base: torch.Tensor, r: torch.Tensor) -> torch.Tensor:
    """The 31-bit uniforms u (int32 in [0, 2^31), B × n) of step ``t`` (int32, 0-d or broadcastable to r)."""
    q = triple32(t ^ r)
    return (triple32(base ^ q.unsqueeze(-1)) >> 1) & _MASK31


def spikes_at(t: torch.Tensor, base: torch.Tensor, limit: torch.Tensor, r: torch.Tensor) -> torch.Tensor:
    """Input spikes (bool, B × n) of step ``t`` (1-based): u <= limit.

    A pure tensor function, so that a compiled simulation step fuses it with the first layer's input.
    """
    return uniforms_at(t, base, r) <= limit


def uniforms(seed: int, image_ids: torch.Tensor, steps: torch.Tensor, n_pixels: int) -> torch.Tensor:
    """The stream's 31-bit uniforms (int32, len(steps) × B × n) for images ``image_ids`` at steps ``steps``."""
    base, r = image_keys(image_ids, seed, n_pixels)
    return torch.stack([uniforms_at(t, base, r) for t in steps.to(torch.int32)])
