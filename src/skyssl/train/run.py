"""`pretrain`: a store and a config in, a run dir out (checkpoints, metrics.csv, config, model card).

Single process::

    skyssl pretrain --config configs/cpu-small.yaml --data STORE --out RUN [--max-steps N]
    skyssl pretrain --config configs/cpu-small.yaml --data STORE --out RUN --resume --max-steps M

Several GPUs on one node — Lightning starts the other processes itself by re-running the command::

    skyssl pretrain --config configs/legacy-r50.yaml --data STORE --out RUN --devices 4 --accelerator gpu

torchrun (one command per node; Lightning reads the torchelastic environment)::

    torchrun --nproc_per_node 4 --nnodes 2 --node_rank $NODE --master_addr $HOST --master_port 29500 \\
        -m skyssl.cli.main pretrain --config configs/legacy-r50.yaml --data STORE --out RUN \\
        --devices 4 --num-nodes 2 --accelerator gpu

SLURM (one task per GPU; Lightning detects SLURM and takes ranks from SLURM_PROCID)::

    #SBATCH --nodes 2 --ntasks-per-node 4 --gpus-per-node 4
    srun python -m skyssl.cli.main pretrain --config configs/legacy-r50.yaml --data STORE --out RUN \\
        --devices 4 --num-nodes 2 --accelerator gpu

On CPU, `--accelerator cpu --devices 2` runs two gloo processes. `--devices` × `--num-nodes` must
match the processes the launcher starts; every process must see the store and the run dir at the same
paths (a shared file system). `--max-steps` stops a run early without changing its learning-rate
schedule, whose length comes from the config, so stopping at 20 and resuming to 30 takes the same
steps as running to 30.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import torch
from lightning.pytorch.callbacks import ModelCheckpoint

from skyssl import __version__
from skyssl.augment.pipeline import AugmentPipeline
from skyssl.errors import SkysslError
from skyssl.store import Store
from skyssl.train import rundir
from skyssl.train.callbacks import FinalCheckpoint, StderrProgressBar
from skyssl.train.config import PretrainConfig, config_from_dict, load_config
from skyssl.train.csvlog import METRICS_FILE, AppendingCSVLogger, read_metrics, rewind_metrics
from skyssl.train.datamodule import PretrainDataModule
from skyssl.train.model_card import device_description, render_model_card, store_provenance
from skyssl.train.module import PretrainModule
from skyssl.train.schedule import scaled_lr, steps_per_epoch

_QUIET_WARNINGS = (
    r".*does not have many workers.*",  # the CPU config deliberately runs few workers
    r".*smaller than the logging interval.*",
    r".*Checkpoint directory .* exists and is not empty.*",  # a resumed run reuses its own folder
    r".*overridden `on_after_batch_transfer`.*",  # the module owns the device-side views on purpose
    r".*treespec, LeafSpec.*",  # a Lightning-internal deprecation, not ours to fix
)


def with_overrides(config: PretrainConfig, **overrides: Any) -> PretrainConfig:
    """The config with the given fields replaced (None means keep), validated again."""
    data = config.model_dump(mode="json")
    data.update({k: v for k, v in overrides.items() if v is not None})
    return config_from_dict(data, "command-line options")


def open_checked_store(data_path: str | Path, config: PretrainConfig) -> tuple[Store, AugmentPipeline]:
    """The store and its augmentation pipeline, or a one-line error if they cannot train together."""
    store = Store.open(data_path)
    try:
        survey = store.survey
        if survey is None:
            raise SkysslError(f"{data_path}: the store names no survey (bands {store.bands}); cannot augment")
        if config.survey is not None and survey.name != config.survey:
            raise SkysslError(f"the config is for survey {config.survey} but {data_path} holds {survey.name}")
        if store.image_shape[0] != survey.n_bands:
            raise SkysslError(f"{data_path}: {store.image_shape[0]} image planes for {survey.n_bands} bands")
        pipeline = AugmentPipeline(config.augment_config(), survey)
        if pipeline.crop_px > min(store.image_shape[1:]):
            raise SkysslError(f"{pipeline.crop_px} px views do not fit the {store.image_shape[1]} px stamps")
    except BaseException:
        store.close()
        raise
    return store, pipeline


def _strategy(config: PretrainConfig) -> str:
    multi = config.num_nodes > 1 or (isinstance(config.devices, int) and config.devices > 1)
    return "ddp" if config.strategy == "ddp" or (config.strategy == "auto" and multi) else "auto"


def build_trainer(config: PretrainConfig, run: Path, max_steps: int | None, progress: bool) -> pl.Trainer:
    """A Trainer for `config` writing into `run`."""
    checkpoint = ModelCheckpoint(
        dirpath=run,
        filename="step{step:08d}",
        auto_insert_metric_name=False,
        every_n_train_steps=config.checkpoint_every_n_steps,
        save_last=True,
        save_top_k=config.keep_checkpoints,
        monitor="step" if config.keep_checkpoints else None,
        mode="max",
        enable_version_counter=False,
    )
    callbacks: list[pl.Callback] = [checkpoint, FinalCheckpoint(run / rundir.LAST_CHECKPOINT,
                                                                config.checkpoint_every_n_steps)]
    if progress:
        callbacks.append(StderrProgressBar(refresh_rate=max(1, config.log_every_n_steps // 5)))
    return pl.Trainer(
        accelerator=config.accelerator,
        devices=config.devices,
        num_nodes=config.num_nodes,
        strategy=_strategy(config),
        precision="32-true" if config.precision == "32" else config.precision,
        max_epochs=config.max_epochs or -1,
        max_steps=max_steps or config.max_steps or -1,
        logger=AppendingCSVLogger(run),
        callbacks=callbacks,
        enable_progress_bar=progress,
        enable_model_summary=False,
        log_every_n_steps=config.log_every_n_steps,
        use_distributed_sampler=False,
        num_sanity_val_steps=0,
        benchmark=torch.cuda.is_available(),
        default_root_dir=run,
    )


def command_line(argv: list[str]) -> str:
    """How this process was started, as a user would type it again."""
    if not argv:
        return "(unknown)"
    program = Path(argv[0])
    if program.name == "skyssl":
        head = ["skyssl"]
    elif program.name == "main.py" and program.parent.name == "cli":
        head = ["python", "-m", "skyssl.cli.main"]
    else:
        head = ["python", argv[0]]
    return " ".join([*head, *argv[1:]])


def checkpoint_step(path: str | Path) -> int:
    """The global step a Lightning checkpoint was saved at (memory-mapped: the weights are not read)."""
    checkpoint = torch.load(path, map_location="cpu", weights_only=False, mmap=True)
    return int(checkpoint.get("global_step", 0))


def monitor_summary(rows: list[dict[str, str]], n_held_out: int) -> dict[str, Any]:
    """Untrained (step 0) and latest retrieval top-1 from metrics.csv rows, which span every segment."""
    values = [(r["step"], float(r["monitor/retrieval_top1"])) for r in rows if r.get("monitor/retrieval_top1")]
    summary: dict[str, Any] = {"n_held_out": n_held_out}
    if values:
        summary["baseline"] = values[0][1] if values[0][0] == "0" else None
        summary["final"], summary["final_step"] = values[-1][1], values[-1][0]
    return summary


def _card_info(run: Path, config: PretrainConfig, module: PretrainModule, dm: PretrainDataModule,
               trainer: pl.Trainer, provenance: dict, data_path: str | Path) -> dict[str, Any]:
    """Everything the model card states, gathered from the config, the module, the trainer and the store."""
    epoch_steps, warmup, horizon = module.schedule_steps()
    step, batch = trainer.global_step, module.global_batch
    accelerator = "gpu" if trainer.strategy.root_device.type == "cuda" else "cpu"
    augment = module.augment
    reproduce = (f"skyssl pretrain --config {run.resolve() / rundir.CONFIG_FILE} --data {Path(data_path).resolve()} "
                 f"--out NEW_RUN --max-steps {step} --devices {trainer.num_devices} --num-nodes {trainer.num_nodes}")
    return {
        "run": str(run), "skyssl_version": __version__, "data": provenance,
        "config": config.model_dump(mode="json"), "augment_spec": augment.config.to_spec(),
        "augment": augment.config.model_dump(mode="json"), "crop_px": augment.crop_px,
        "representation_dim": module.moco.out_dim, "n_train": dm.n_train, "n_held_out": int(dm.held_out_rows.size),
        "shuffle": module.moco.shuffle, "bn_splits": config.moco.resolve_bn_splits(trainer.world_size),
        "training": {
            "global_step": step, "steps_per_epoch": epoch_steps, "epochs": step / epoch_steps,
            "world_size": trainer.world_size, "global_batch": batch, "warmup_steps": warmup,
            "peak_lr": scaled_lr(config.optim.lr_per_256, batch), "horizon_steps": horizon,
            "train_seconds": module.train_seconds(),
            "samples_per_s": module.meter.steady_rate() if module.meter else None,
            "device": device_description(accelerator, trainer.world_size),
        },
        "monitor": monitor_summary(read_metrics(run / METRICS_FILE), int(dm.held_out_rows.size)),
        "commands": {"ran": command_line(sys.argv), "reproduce": reproduce},
    }


def pretrain(
    config: PretrainConfig | str | Path | None,
    data_path: str | Path,
    out_dir: str | Path,
    max_steps: int | None = None,
    resume: bool = False,
    overwrite: bool = False,
    devices: int | str | None = None,
    accelerator: str | None = None,
    num_nodes: int | None = None,
    strategy: str | None = None,
    progress: bool = True,
) -> Path:
    """Pretrain MoCo v2 on a store; return the run dir (holding last.ckpt, metrics.csv, MODEL_CARD.md).

    Everything that can be wrong with the inputs (config, store, survey, run dir) is checked before
    the first step. Hardware arguments override the config's fields of the same name. With `resume`
    and no `config`, the run's own `config.yaml` is used.
    """
    run = Path(out_dir)
    if config is None:
        if not resume:
            raise SkysslError("a config is needed to start a run (--config)")
        if not (run / rundir.LAST_CHECKPOINT).is_file():
            raise SkysslError(f"{run}: no {rundir.LAST_CHECKPOINT} to resume from")
        config = run / rundir.CONFIG_FILE
    config = config if isinstance(config, PretrainConfig) else load_config(config)
    config = with_overrides(config, devices=devices, accelerator=accelerator, num_nodes=num_nodes, strategy=strategy)
    if max_steps is not None and max_steps < 1:
        raise SkysslError("--max-steps must be at least 1")
    store, _ = open_checked_store(data_path, config)
    with store:
        provenance = store_provenance(store)
    zero = rundir.is_global_zero_from_env()
    if zero:
        rundir.prepare_run_dir(run, resume, overwrite)
    if resume:
        rundir.check_resumable(load_config(run / rundir.CONFIG_FILE), config)
    last = run / rundir.LAST_CHECKPOINT
    if zero:
        rundir.write_start_files(run, config, config.augment_config())
        if resume:
            rewind_metrics(run / METRICS_FILE, checkpoint_step(last))

    pl.seed_everything(config.seed, workers=True, verbose=False)
    datamodule = PretrainDataModule(data_path, config.batch_size, config.monitor.n_held_out(provenance["n_objects"]),
                                    config.seed, config.num_workers, config.block_rows, config.monitor.batch_size)
    with warnings.catch_warnings():
        for pattern in _QUIET_WARNINGS:
            warnings.filterwarnings("ignore", message=pattern)
        trainer = build_trainer(config, run, max_steps, progress)
        module = PretrainModule(config.model_dump(mode="json"), provenance["survey"], trainer.world_size)
        steps_per_epoch(datamodule.n_train, config.batch_size * trainer.world_size)  # fails early if too few rows
        trainer.fit(module, datamodule=datamodule, ckpt_path=str(last) if resume else None)
    if trainer.is_global_zero:
        info = _card_info(run, config, module, datamodule, trainer, provenance, data_path)
        (run / rundir.MODEL_CARD).write_text(render_model_card(info))
    return run
