"""`skyssl pretrain`: MoCo v2 on a store, into a run dir (see :mod:`skyssl.train.run` for DDP launches)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import typer

from skyssl.cli.app import app
from skyssl.errors import SkysslError


def _devices(text: str | None) -> int | str | None:
    if text is None or text == "auto":
        return text
    try:
        value = int(text)
    except ValueError:
        raise SkysslError(f"--devices must be a positive integer or 'auto', not {text!r}") from None
    if value < 1:
        raise SkysslError(f"--devices must be a positive integer or 'auto', not {text!r}")
    return value


def _summary(run: Path) -> dict:
    """What the run dir holds after training: the step and the last metrics rows."""
    from skyssl.train.csvlog import read_metrics
    from skyssl.train.run import checkpoint_step

    rows = read_metrics(run / "metrics.csv")
    train = [r for r in rows if r.get("train/loss")]
    monitor = [r for r in rows if r.get("monitor/retrieval_top1")]
    return {
        "run": str(run),
        "checkpoint": str(run / "last.ckpt"),
        "model_card": str(run / "MODEL_CARD.md"),
        "global_step": checkpoint_step(run / "last.ckpt"),
        "train_loss": float(train[-1]["train/loss"]) if train else None,
        "monitor_retrieval_top1": float(monitor[-1]["monitor/retrieval_top1"]) if monitor else None,
    }


@app.command()
def pretrain(
    config: Path | None = typer.Option(None, "--config", help="YAML config (configs/*.yaml); a resumed run "
                                       "defaults to its own config.yaml."),
    data: Path = typer.Option(..., "--data", help="Store (or the authors' HDF5 file or folder) to train on."),
    out: Path = typer.Option(..., "--out", help="Run dir: last.ckpt, metrics.csv, config.yaml, MODEL_CARD.md."),
    max_steps: int | None = typer.Option(None, "--max-steps", help="Stop after this many optimizer steps in total "
                                         "(the schedule still follows the config)."),
    resume: bool = typer.Option(False, "--resume", help="Continue the run in --out from its last.ckpt."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing run dir at --out."),
    devices: str | None = typer.Option(None, "--devices", help="Devices (processes) per node, or 'auto'."),
    accelerator: str | None = typer.Option(None, "--accelerator", help="cpu, gpu or auto."),
    num_nodes: int | None = typer.Option(None, "--num-nodes", help="Nodes (multi-node DDP under torchrun/SLURM)."),
    strategy: str | None = typer.Option(None, "--strategy", help="auto or ddp."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON summary on stdout."),
) -> None:
    """Pretrain MoCo v2 with survey-physics augmentations; resumable, DDP-ready (torchrun, SLURM)."""
    if config is None and not resume:
        raise SkysslError("--config is required to start a run")
    if config is not None and not config.is_file():
        raise SkysslError(f"{config}: no such config file")
    if not data.exists():
        raise SkysslError(f"{data}: no such store")
    from skyssl.train.config import load_config
    from skyssl.train.run import pretrain as run_pretrain

    loaded = load_config(config) if config is not None else None
    logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)  # keep the terminal to the progress bar
    run = run_pretrain(loaded, data, out, max_steps=max_steps, resume=resume, overwrite=overwrite,
                       devices=_devices(devices), accelerator=accelerator, num_nodes=num_nodes, strategy=strategy)
    from lightning.fabric.utilities.rank_zero import rank_zero_only

    if rank_zero_only.rank != 0:
        return
    summary = _summary(run)
    print(json.dumps(summary, indent=2) if as_json else
          f"step {summary['global_step']}: checkpoint {summary['checkpoint']}, model card {summary['model_card']}")
