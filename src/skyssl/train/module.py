"""The Lightning module of MoCo v2 pretraining: views on the device, one MoCo step, SGD with warm-up + cosine.

A batch arrives as raw nanomaggie pixels and conditions (:class:`~skyssl.train.data.RawBatch`); in
`on_after_batch_transfer`, already on the training device, :class:`~skyssl.augment.pipeline.AugmentPipeline`
draws the query and key views in one batched pass each, from a `torch.Generator` seeded by
(seed, global step, rank). The global torch RNG (used by MoCo's key permutation) is reseeded the same
way at every step. Together these make a step a function of the weights, the step number and the rank,
so a run resumed from a checkpoint takes exactly the steps an uninterrupted one would.
"""

from __future__ import annotations

import contextlib
import time
from functools import partial
from typing import Any

import lightning.pytorch as pl
import torch
from torch.optim.lr_scheduler import LambdaLR

from skyssl import surveys
from skyssl.augment.pipeline import AugmentPipeline
from skyssl.models.encoders import build_encoder
from skyssl.models.moco import MoCo, convert_to_split_bn
from skyssl.train.config import PretrainConfig
from skyssl.train.data import RawBatch
from skyssl.train.monitor import MONITOR_STREAM, embed_held_out, retrieval_top1
from skyssl.train.schedule import (
    horizon_steps,
    lr_factor,
    scaled_lr,
    step_seed,
    steps_per_epoch,
    warmup_steps,
)
from skyssl.train.throughput import ThroughputMeter

CHECKPOINT_KIND = "skyssl.pretrain"
_VIEW_STREAM, _GLOBAL_STREAM = 1, 2


def build_moco(config: PretrainConfig, in_channels: int, world_size: int) -> MoCo:
    """The MoCo model a config describes for a run of `world_size` processes."""
    encoder = build_encoder(config.model.encoder, in_channels, small_stamp=config.model.small_stamp)
    splits = config.moco.resolve_bn_splits(world_size)
    if splits > 1:  # also under shuffle "none": reproduces DDP's per-rank BatchNorm groups on one process
        encoder = convert_to_split_bn(encoder, splits)
    return MoCo(
        encoder,
        head_hidden_dim=config.model.head_hidden_dim,
        emb_dim=config.model.emb_dim,
        queue_size=config.moco.queue_size,
        momentum=config.moco.momentum,
        temperature=config.moco.temperature,
        shuffle=config.moco.resolve_shuffle(world_size),
        num_splits=splits,
    )


@contextlib.contextmanager
def evaluating(module: torch.nn.Module):
    """Eval mode for the duration, then every submodule back to the mode it had."""
    modes = {m: m.training for m in module.modules()}
    module.eval()
    try:
        yield module
    finally:
        for m, training in modes.items():
            m.train(training)


class PretrainModule(pl.LightningModule):
    """MoCo v2 on a survey's stamps. `config` is a :class:`PretrainConfig` dump (kept as hyperparameters).

    The encoder takes the pipeline's output channels (the survey's bands, or z, r, g for the legacy
    ToRGB input); `world_size` resolves `moco.shuffle: auto` and the BatchNorm splits.
    """

    def __init__(self, config: dict[str, Any], survey_name: str, world_size: int = 1) -> None:
        super().__init__()
        self.save_hyperparameters(logger=False)
        self.config = PretrainConfig.model_validate(config)
        self.survey = surveys.get(survey_name)
        self.augment = AugmentPipeline(self.config.augment_config(), self.survey)
        self.moco = build_moco(self.config, self.augment.output_channels, world_size)
        if self.config.channels_last:
            self.moco.to(memory_format=torch.channels_last)
        if self.config.compile:
            for encoder in (self.moco.encoder_q, self.moco.encoder_k):
                encoder.compile()  # in place: state-dict keys stay those of the plain module
        self.meter: ThroughputMeter | None = None
        self.last_monitor: dict[str, float] = {}
        self._monitor_step = -1
        self._interval: dict[str, Any] = {}
        self.seconds_before = 0.0  # training time of earlier segments of a resumed run
        self._segment_start: float | None = None

    # --- sizes and schedule --------------------------------------------------------------------
    @property
    def global_batch(self) -> int:
        return self.config.batch_size * self.trainer.world_size

    def schedule_steps(self) -> tuple[int, int, int]:
        """(steps per epoch, warm-up steps, horizon) for the trainer's data module and world size."""
        epoch_steps = steps_per_epoch(self.trainer.datamodule.n_train, self.global_batch)
        horizon = horizon_steps(self.config.max_epochs, self.config.max_steps, epoch_steps)
        warmup = warmup_steps(self.config.optim.warmup_steps, self.config.optim.warmup_epochs, epoch_steps)
        return epoch_steps, warmup, horizon

    def configure_optimizers(self):
        opt = self.config.optim
        params = [p for p in self.moco.parameters() if p.requires_grad]
        optimizer = torch.optim.SGD(params, lr=scaled_lr(opt.lr_per_256, self.global_batch),
                                    momentum=opt.momentum, weight_decay=opt.weight_decay)
        _, warmup, horizon = self.schedule_steps()
        factor = partial(lr_factor, warmup=warmup, horizon=horizon, schedule=opt.schedule,
                         final=opt.final_lr_fraction)  # a partial, not a closure: LambdaLR checkpoints it
        scheduler = LambdaLR(optimizer, factor)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}

    # --- views ---------------------------------------------------------------------------------
    def _to_device(self, raw: RawBatch) -> RawBatch:
        return RawBatch(*(t.to(self.device, non_blocking=True) for t in raw))

    def _input(self, views: torch.Tensor) -> torch.Tensor:
        return views.contiguous(memory_format=torch.channels_last) if self.config.channels_last else views

    def _generator(self, seed: int) -> torch.Generator:
        generator = torch.Generator(device=self.device)
        generator.manual_seed(seed)
        return generator

    def make_views(self, batch: RawBatch, step: int, rank: int) -> tuple[torch.Tensor, torch.Tensor]:
        """(query views, key views) of a batch already on the device: two independent draws."""
        generator = self._generator(step_seed(self.config.seed, step, rank, _VIEW_STREAM))
        images = batch.images.float()
        view_q = self.augment(images, batch.ebv, batch.psfsize, batch.psfdepth, generator)
        view_k = self.augment(images, batch.ebv, batch.psfsize, batch.psfdepth, generator)
        return self._input(view_q), self._input(view_k)

    def on_after_batch_transfer(self, batch: Any, dataloader_idx: int) -> Any:
        if not isinstance(batch, RawBatch) or self.trainer is None or not self.trainer.training:
            return batch
        return self.make_views(batch, self.trainer.global_step, self.trainer.global_rank)

    # --- training ------------------------------------------------------------------------------
    def on_train_start(self) -> None:
        self.meter = ThroughputMeter(self.global_batch, window=self.config.log_every_n_steps)
        self._segment_start = time.perf_counter()
        if self.global_step == 0:
            self.run_monitor()  # the untrained baseline of the monitor

    def on_train_batch_start(self, batch: Any, batch_idx: int) -> None:
        torch.manual_seed(step_seed(self.config.seed, self.global_step, self.global_rank, _GLOBAL_STREAM))

    def training_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> torch.Tensor:
        view_q, view_k = batch
        out = self.moco(view_q, view_k)
        loss, acc1 = out["loss"].detach(), out["acc1"].detach()
        self._interval["loss"] = self._interval.get("loss", 0.0) + loss  # tensors: no host sync per step
        self._interval["acc1"] = self._interval.get("acc1", 0.0) + acc1
        self._interval["n"] = self._interval.get("n", 0) + 1
        self._interval["lr"] = self.optimizers().param_groups[0]["lr"]  # the rate this step's update uses
        self.log_dict({"loss": loss, "acc1": acc1}, prog_bar=True, logger=False, batch_size=view_q.shape[0])
        return out["loss"]

    def on_train_batch_end(self, outputs: Any, batch: Any, batch_idx: int) -> None:
        self.meter.tick()
        step = self.global_step
        if step % self.config.log_every_n_steps == 0:
            self._log_interval(step)
        every = self.config.monitor.every_n_steps
        if every and step % every == 0:
            self.run_monitor()

    def _log_interval(self, step: int) -> None:
        """One CSV row at `step`: loss and positive-pair accuracy averaged since the last row (rank 0's
        share of the batch under DDP), the lr of the latest step, and samples/s over the recent window."""
        n = self._interval.get("n", 0)
        if not n or self.logger is None:
            return
        metrics = {
            "train/loss": float(self._interval["loss"]) / n,
            "train/acc1": float(self._interval["acc1"]) / n,
            "lr": self._interval["lr"],
            "epoch": self.current_epoch,
        }
        rate = self.meter.window_rate()
        if rate is not None:
            metrics["train/samples_per_s"] = rate
        self._interval = {}
        if self.trainer.is_global_zero:
            self.logger.log_metrics(metrics, step=step)

    def on_train_end(self) -> None:
        self.run_monitor()

    # --- monitor -------------------------------------------------------------------------------
    def run_monitor(self) -> None:
        """Retrieval top-1 of the held-out objects, on rank 0, logged at the current global step."""
        datamodule = self.trainer.datamodule
        if (not self.config.monitor.every_n_steps or datamodule is None or not len(datamodule.held_out_rows)
                or self._monitor_step == self.global_step or not self.trainer.is_global_zero):
            return
        started = time.perf_counter()
        precision = self.trainer.precision_plugin
        with evaluating(self.moco), torch.no_grad(), precision.forward_context():
            queries, keys = embed_held_out(
                datamodule.held_out_batches(),
                self._to_device,
                lambda images: self._input(self.augment.center_view(images.float())),
                lambda b, g: self._input(self.augment(b.images.float(), b.ebv, b.psfsize, b.psfdepth, g)),
                self.moco.representation,
                self._generator(step_seed(self.config.seed, 0, 0, MONITOR_STREAM)),
            )
        top1 = retrieval_top1(queries, keys)
        self._monitor_step = self.global_step
        self.last_monitor = {"step": self.global_step, "retrieval_top1": top1, "n_held_out": len(queries)}
        if self.logger is not None:
            self.logger.log_metrics({"monitor/retrieval_top1": top1}, step=self.global_step)
        if self.meter is not None:
            self.meter.exclude(time.perf_counter() - started)

    def train_seconds(self) -> float:
        """Wall time spent in `fit` over every segment of the run so far."""
        segment = 0.0 if self._segment_start is None else time.perf_counter() - self._segment_start
        return self.seconds_before + segment

    # --- checkpoints ---------------------------------------------------------------------------
    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        self.seconds_before = float(checkpoint.get("skyssl", {}).get("train_seconds", 0.0))

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """A small, framework-free record next to Lightning's, for readers that only want the encoder."""
        checkpoint["skyssl"] = {
            "kind": CHECKPOINT_KIND,
            "encoder": self.config.model.encoder,
            "small_stamp": self.config.model.small_stamp,
            "in_channels": self.augment.output_channels,
            "representation_dim": self.moco.out_dim,
            "encoder_prefix": "moco.encoder_q.",
            "survey": self.survey.name,
            "augment": self.augment.config.model_dump(mode="json"),
            "augment_spec": self.augment.config.to_spec(),
            "crop_px": self.augment.crop_px,
            "train_seconds": self.train_seconds(),
        }
