"""NIR round-trip helpers: the pipeline's output spike counts, read through a probe."""

from __future__ import annotations

import torch

from snnconv.simulate import Probe

T = 100


class OutputCounts(Probe):
    """Output spike counts per image and neuron of the last layer (decode: spikes), summed over all steps."""

    def __init__(self, last: int) -> None:
        self.last, self.batches = last, {}

    def on_spikes(self, layer: int, batch: int, t0: int, spikes: torch.Tensor, v: torch.Tensor) -> None:
        if layer == self.last:
            counts = spikes.sum(0).to(torch.float64).cpu()
            self.batches[batch] = counts + self.batches.get(batch, 0)

    def counts(self) -> torch.Tensor:
        return torch.cat([self.batches[b] for b in sorted(self.batches)])
