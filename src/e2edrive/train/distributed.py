"""Who this process is in a training job: one small dataclass made once and passed down (torchtitan's
ParallelDims in spirit); the model file knows nothing of it.

Under `torchrun` (or `e2edrive train --nproc N`) the environment names the rank and world size; the process
group is gloo on CPU, NCCL on CUDA. Alone, it is rank 0 of 1 and no process group is made.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

from e2edrive.core.errors import UserError

DEVICES = ("auto", "cpu", "cuda")


@dataclass(frozen=True)
class Distributed:
    world_size: int = 1
    rank: int = 0
    local_rank: int = 0
    device: str = "cpu"
    """'cpu' or 'cuda:<local_rank>'."""
    backend: str | None = None
    """'gloo' or 'nccl' when world_size > 1."""

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def device_type(self) -> str:
        return torch.device(self.device).type


def pick_device(preference: str = "auto", local_rank: int = 0) -> str:
    if preference not in DEVICES:
        raise UserError(f"device={preference!r}: expected one of {DEVICES}")
    if preference == "cuda" and not torch.cuda.is_available():
        raise UserError("device=cuda but torch sees no CUDA device (a CPU build of torch, or no GPU)")
    if preference == "cpu" or (preference == "auto" and not torch.cuda.is_available()):
        return "cpu"
    return f"cuda:{local_rank % torch.cuda.device_count()}"


def setup(device: str = "auto") -> Distributed:
    """Join the job torchrun started (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR in the environment), or run
    alone."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    chosen = pick_device(device, local_rank)
    if world_size == 1:
        return Distributed(device=chosen)
    backend = "nccl" if chosen.startswith("cuda") else "gloo"
    if chosen.startswith("cuda"):
        torch.cuda.set_device(torch.device(chosen))
    if not dist.is_initialized():
        dist.init_process_group(backend)
    return Distributed(world_size, rank, local_rank, chosen, backend)


def teardown(d: Distributed) -> None:
    if d.world_size > 1 and dist.is_initialized():
        dist.destroy_process_group()


def broadcast_int(value: int, d: Distributed) -> int:
    """Rank 0's value on every rank."""
    if d.world_size == 1:
        return int(value)
    t = torch.tensor([int(value)], dtype=torch.int64, device=d.device)
    dist.broadcast(t, src=0)
    return int(t.item())


def all_reduce_sum(values: torch.Tensor, d: Distributed) -> torch.Tensor:
    """Elementwise sum over ranks (float64 on the job's device)."""
    if d.world_size == 1:
        return values
    t = values.to(device=d.device, dtype=torch.float64)
    dist.all_reduce(t)
    return t.cpu()


def all_gather_objects(obj, d: Distributed) -> list:
    if d.world_size == 1:
        return [obj]
    out = [None] * d.world_size
    dist.all_gather_object(out, obj)
    return out


def barrier(d: Distributed) -> None:
    if d.world_size > 1:
        dist.barrier()
