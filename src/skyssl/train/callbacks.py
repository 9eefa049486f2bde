"""Two callbacks: `last.ckpt` at the end of a run, and a progress bar that leaves stdout alone.

The final `last.ckpt` is written at the moment that makes a resume exact.

ModelCheckpoint writes `last.ckpt` every N steps. The run's final state needs one more save, and when
it happens matters: after `fit` returns, Lightning has already closed the epoch, so a run stopped by
`--max-steps` in mid-epoch would be saved as "epoch finished" and a resume would skip the rest of
that epoch's batches. This callback saves inside the last training step instead (the state a periodic
checkpoint has), and after the last epoch only when training ran out of epochs.
"""

from __future__ import annotations

import sys
from pathlib import Path

import lightning.pytorch as pl
from lightning.pytorch.callbacks import TQDMProgressBar
from lightning.pytorch.callbacks.progress.tqdm_progress import Tqdm


class FinalCheckpoint(pl.Callback):
    """Save `path` at the step where `max_steps` is reached, or at the end of training otherwise."""

    def __init__(self, path: str | Path, every_n_steps: int) -> None:
        self.path = str(path)
        self.every_n_steps = every_n_steps
        self._saved_step = -1

    def _save(self, trainer: pl.Trainer) -> None:
        if trainer.global_step % self.every_n_steps and trainer.global_step != self._saved_step:
            trainer.save_checkpoint(self.path, weights_only=False)  # (ModelCheckpoint saved this step otherwise)
        self._saved_step = trainer.global_step

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule, *args, **kwargs) -> None:
        if 0 <= trainer.max_steps <= trainer.global_step:
            self._save(trainer)

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self._saved_step != trainer.global_step:
            self._save(trainer)


class StderrProgressBar(TQDMProgressBar):
    """Lightning's tqdm bar on stderr: stdout carries only the verb's result (`--json`)."""

    def init_train_tqdm(self) -> Tqdm:
        return Tqdm(desc=self.train_description, position=2 * self.process_position, disable=self.is_disabled,
                    leave=True, dynamic_ncols=True, file=sys.stderr, smoothing=0, bar_format=self.BAR_FORMAT)
