"""Which samples each training step reads, on every rank: a deterministic function of (seed, step).

The stream of *global* batches is the same whatever the number of processes: global batch g holds
`batch_size × world_size × accumulate` sample ids, drawn without replacement from a seeded permutation of the
data (epoch after epoch), or with replacement by a built dataset's weights. Rank r's micro-batch m of step g is
its own slice of that global batch, so

- every rank reads its own shard (no two ranks read the same ids in a step);
- N processes with micro-batch B and one process with micro-batch B accumulating N of them see the same global
  batches (the DDP parity test relies on it);
- the data position is just the step: a resumed run continues exactly where the killed one stopped.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class ShardSpec:
    """This process's part of each global batch."""

    batch_size: int
    """Samples per micro-batch on one rank."""
    world_size: int = 1
    rank: int = 0
    accumulate: int = 1
    """Micro-batches per optimizer step on each rank."""

    def __post_init__(self) -> None:
        if self.batch_size < 1 or self.world_size < 1 or self.accumulate < 1:
            raise ValueError(f"batch_size, world_size and accumulate must be >= 1, got {self}")
        if not 0 <= self.rank < self.world_size:
            raise ValueError(f"rank={self.rank} outside [0, {self.world_size})")

    @property
    def global_batch(self) -> int:
        return self.batch_size * self.world_size * self.accumulate


class StepSampler:
    """Yields, for steps start_step, start_step + 1, ..., this rank's micro-batches: lists of sample ids.

    weights: None for a uniform pass over the data each epoch (every sample once, in a seeded order), else
    per-sample weights (a built dataset's balance): each global batch is drawn with replacement by them.
    """

    def __init__(self, num_samples: int, shard: ShardSpec, seed: int = 0, weights: torch.Tensor | None = None) -> None:
        if num_samples < 1:
            raise ValueError("no samples to draw from")
        self.num_samples = num_samples
        self.shard = shard
        self.seed = seed
        self.weights = None if weights is None else torch.as_tensor(weights, dtype=torch.double)
        self._cache: tuple[int, torch.Tensor] | None = None

    @property
    def steps_per_epoch(self) -> int:
        return max(1, self.num_samples // self.shard.global_batch)

    def global_batch(self, step: int) -> torch.Tensor:
        """(global_batch,) sample ids of step `step` (the same on every rank)."""
        g = self.shard.global_batch
        if self.weights is not None:
            gen = torch.Generator().manual_seed(self.seed * 1_000_003 + step)
            return torch.multinomial(self.weights, g, replacement=True, generator=gen)
        epoch, within = divmod(step, self.steps_per_epoch)
        if self._cache is None or self._cache[0] != epoch:
            gen = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
            self._cache = (epoch, torch.randperm(self.num_samples, generator=gen))
        order = self._cache[1]
        if len(order) < g:  # fewer samples than one global batch: repeat the permutation
            order = order.repeat(-(-g // len(order)))
        return order[within * g : within * g + g] if len(order) >= (within + 1) * g else order[:g]

    def micro_batches(self, step: int) -> list[list[int]]:
        """This rank's `accumulate` micro-batches of step `step`."""
        s = self.shard
        ids = self.global_batch(step)
        per_micro = s.batch_size * s.world_size
        out = []
        for m in range(s.accumulate):
            chunk = ids[m * per_micro : (m + 1) * per_micro]
            out.append(chunk[s.rank * s.batch_size : (s.rank + 1) * s.batch_size].tolist())
        return out

    def iter_from(self, start_step: int, stop_step: int | None = None) -> Iterator[list[int]]:
        """Micro-batches in order from start_step (a DataLoader sampler of batches)."""
        step = start_step
        while stop_step is None or step < stop_step:
            yield from self.micro_batches(step)
            step += 1
