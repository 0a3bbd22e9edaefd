"""Data-parallel training across processes (torch DistributedDataParallel), as `torchrun` starts it:

    torchrun --nproc_per_node=2 -m heritage_kg.cli train --config FILE.toml

Every process builds the same features, model and seeded epoch order; each trains on its shard of
that order (DistributedSampler's: padded to a multiple of the world size, every world-size-th row
from the rank), with batches of batch_size / world size rows, so that the ranks' batches together
are the batches one process would take, and DDP averages the gradients. Validation, early
stopping and the final evaluation run whole on every rank and agree; only rank 0 writes the run
folder and its checkpoints. On a CPU the backend is gloo (set GLOO_SOCKET_IFNAME=lo where the
machine's default interface does not reach itself)."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class Workers:
    """Where this process stands among the training processes (one process: rank 0 of 1)."""

    rank: int = 0
    world_size: int = 1

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    @property
    def writes(self) -> bool:
        """Only rank 0 writes files: the others hold the same state."""
        return self.rank == 0

    def batch_size(self, global_batch: int) -> int:
        """Each rank's share of a global batch."""
        return max(1, math.ceil(global_batch / self.world_size))

    def shard(self, order: torch.Tensor) -> torch.Tensor:
        """This rank's rows of an epoch's order, as DistributedSampler(shuffle=False) takes them
        from it: the order padded by its own start to a multiple of the world size, then every
        world_size-th row from the rank. Every rank gets the same number of rows, so none waits
        for a gradient another never sends."""
        if not self.distributed:
            return order
        total = math.ceil(len(order) / self.world_size) * self.world_size
        padded = torch.cat([order, order[:total - len(order)]]) if total > len(order) else order
        return padded[self.rank::self.world_size]

    def wrap(self, model: torch.nn.Module) -> torch.nn.Module:
        """The module whose forward trains: DDP around `model` when distributed (gradients are
        averaged over the ranks in backward), `model` itself otherwise."""
        if not self.distributed:
            return model
        from torch.nn.parallel import DistributedDataParallel

        return DistributedDataParallel(model)

    def barrier(self) -> None:
        if self.distributed:
            dist.barrier()


def join_workers() -> Workers:
    """Joins the process group torchrun describes in the environment (RANK, WORLD_SIZE,
    MASTER_ADDR, MASTER_PORT), once; without a launcher, a single process."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        return Workers()
    if not dist.is_initialized():
        dist.init_process_group("gloo")
    return Workers(dist.get_rank(), dist.get_world_size())
