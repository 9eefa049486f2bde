"""The pretraining data module: a store split into training rows and a held-out monitor set.

The held-out rows are drawn once from the run seed (the same objects on every rank and after a resume)
and never trained on; the label-free monitor retrieves them (:mod:`skyssl.train.monitor`). Training
batches come from :class:`~skyssl.train.sampler.RankBatchSampler` through a loader that Lightning can
checkpoint: its state is the global step, from which the sampler recomputes epoch and offset.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import lightning.pytorch as pl
import numpy as np
import torch
from torch.utils.data import DataLoader

from skyssl.errors import SkysslError
from skyssl.train.data import RawBatch, StoreDataset, collate_raw
from skyssl.train.sampler import EpochPermutation, RankBatchSampler

_HELD_OUT_STREAM = 0x4E1D


def split_rows(n_objects: int, n_held_out: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(training rows, held-out rows), both ascending, disjoint, covering every row."""
    rng = np.random.default_rng([seed, _HELD_OUT_STREAM])
    held = np.sort(rng.choice(n_objects, size=n_held_out, replace=False)) if n_held_out else np.zeros(0, np.int64)
    mask = np.ones(n_objects, dtype=bool)
    mask[held] = False
    return np.flatnonzero(mask).astype(np.int64), held.astype(np.int64)


class ResumableLoader(DataLoader):
    """A DataLoader whose Lightning state is the number of completed steps.

    Lightning saves `state_dict()` in every checkpoint and calls `load_state_dict()` on resume before it
    creates the iterator, so the first batch after a resume is the one an uninterrupted run would take.
    The step count comes from the trainer, not from the sampler: worker prefetching runs the sampler
    ahead of training.
    """

    def __init__(self, *args, steps_done: Callable[[], int], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._steps_done = steps_done

    def state_dict(self) -> dict[str, int]:
        return {"global_step": int(self._steps_done()), "steps_per_epoch": len(self.batch_sampler)}

    def load_state_dict(self, state: dict[str, int]) -> None:
        if state.get("steps_per_epoch", len(self.batch_sampler)) != len(self.batch_sampler):
            raise SkysslError(
                f"the checkpoint has {state['steps_per_epoch']} steps per epoch but this run has "
                f"{len(self.batch_sampler)}: resume with the same store, batch_size and number of devices"
            )
        self.batch_sampler.start_at(state["global_step"])


class PretrainDataModule(pl.LightningDataModule):
    """Training batches of raw pixels + conditions, and the held-out rows for the monitor."""

    def __init__(self, path: str, batch_size: int, n_held_out: int, seed: int, num_workers: int = 0,
                 block_rows: int = 1, monitor_batch_size: int = 256) -> None:
        super().__init__()
        self.path = str(path)
        self.batch_size = batch_size
        self.seed = seed
        self.num_workers = num_workers
        self.block_rows = block_rows
        self.monitor_batch_size = monitor_batch_size
        self.dataset = StoreDataset(self.path)
        self.train_rows, self.held_out_rows = split_rows(len(self.dataset), n_held_out, seed)

    @property
    def n_train(self) -> int:
        return int(self.train_rows.size)

    def _world(self) -> tuple[int, int]:
        trainer = self.trainer
        return (trainer.world_size, trainer.global_rank) if trainer is not None else (1, 0)

    def train_dataloader(self) -> ResumableLoader:
        world_size, rank = self._world()
        sampler = RankBatchSampler(EpochPermutation(self.train_rows, self.seed, self.block_rows),
                                   self.batch_size, world_size, rank)
        workers = self.num_workers
        return ResumableLoader(
            self.dataset,
            batch_sampler=sampler,
            collate_fn=collate_raw,
            num_workers=workers,
            pin_memory=torch.cuda.is_available(),
            persistent_workers=workers > 0,
            prefetch_factor=4 if workers > 0 else None,
            steps_done=lambda: self.trainer.global_step if self.trainer is not None else 0,
        )

    def held_out_batches(self) -> Iterator[RawBatch]:
        """The held-out rows in ascending order, in batches read in this process (for the monitor)."""
        rows = self.held_out_rows
        for start in range(0, rows.size, self.monitor_batch_size):
            yield self.dataset.__getitems__(rows[start : start + self.monitor_batch_size].tolist())

    def teardown(self, stage: str) -> None:
        self.dataset.close()
