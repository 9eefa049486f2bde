"""Several processes embedding one store: which shards each rank takes, and when ranks wait for each other.

Extraction has no gradients to all-reduce, so ranks share nothing but the output folder: each rank
embeds one contiguous range of shards (:func:`assigned_shards`) and writes those shard files itself —
the artefact's shards are separate files named by index, so ranks never write to the same file. Ranks
meet three times through a barrier: after rank 0 has prepared (or found) the partial folder, after
the others have joined it (joining clears stale `.tmp` files, which must not happen while rank 0
writes), and at the end, after which rank 0 alone checks the ids and writes the manifest.

Launch one process per GPU with torchrun or SLURM's srun, exactly as for `skyssl pretrain`; the
launcher's environment is read through Lightning's cluster environments, so SLURM's MASTER_ADDR is
derived from the node list when it is not set. The barriers use a gloo process group (they carry no
data), with a long timeout because rank 0 may finish its shards hours before a slower rank.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TypeVar

import torch

T = TypeVar("T")
BARRIER_TIMEOUT = timedelta(days=3)


def _no_barrier() -> None:
    """One process has nobody to wait for."""


@dataclass(frozen=True)
class Ranks:
    """This process's place in the job: `rank` of `world_size`, its `local_rank` on the node, a barrier."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    barrier: Callable[[], None] = field(default=_no_barrier, compare=False)

    def in_turn(self, make: Callable[[], T]) -> T:
        """Rank 0 calls `make` first, then the others, each group behind a barrier (setup of shared files)."""
        result = make() if self.rank == 0 else None
        self.barrier()
        if self.rank != 0:
            result = make()
        self.barrier()
        return result

    def device(self) -> torch.device:
        """This rank's GPU when there are GPUs, else the CPU."""
        return torch.device(f"cuda:{self.local_rank}") if torch.cuda.is_available() else torch.device("cpu")


SINGLE = Ranks()
"""The one-process job."""


def assigned_shards(n_shards: int, rank: int, world_size: int) -> list[int]:
    """Rank `rank`'s contiguous share of shards 0 … n_shards − 1; shares differ by at most one shard."""
    if not 0 <= rank < world_size:
        raise ValueError(f"rank {rank} outside a world of {world_size}")
    return list(range(n_shards * rank // world_size, n_shards * (rank + 1) // world_size))


def ranks_from_environment() -> Ranks:
    """The ranks torchrun or srun started (joining a gloo group), or :data:`SINGLE` without a launcher."""
    from lightning.fabric.plugins.environments import SLURMEnvironment, TorchElasticEnvironment

    for environment in (TorchElasticEnvironment, SLURMEnvironment):
        if environment.detect():
            env = environment()
            break
    else:
        return SINGLE
    if env.world_size() <= 1:
        return SINGLE
    import torch.distributed as dist

    if not dist.is_initialized():
        os.environ.setdefault("MASTER_ADDR", env.main_address)  # srun sets neither; torchrun sets both
        os.environ.setdefault("MASTER_PORT", str(env.main_port))
        dist.init_process_group("gloo", init_method="env://", rank=env.global_rank(), world_size=env.world_size(),
                                timeout=BARRIER_TIMEOUT)
    return Ranks(dist.get_rank(), dist.get_world_size(), env.local_rank(), dist.barrier)
