"""`skyssl finetune` (a run's encoder fine-tuned to find lenses) and `skyssl label-efficiency` (linear
probe vs fine-tuned SSL vs from scratch, against the number of labels).

Both take the same recipe options; `--scratch` trains the run's architecture from random weights (the
supervised baseline), with the backbone at the head's learning rate unless --backbone-lr says otherwise.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from skyssl.cli.app import app
from skyssl.cli.figures import print_figures

DEFAULT_HEAD_LR = 1e-3
DEFAULT_BACKBONE_LR = 1e-4  # Stein et al.'s SSL fine-tuning: 10× below the head (formats §6.3)
DEFAULT_POSITIVE_FRACTION = 0.25

CHECKPOINT = typer.Option(..., "--checkpoint", help="Run dir of `skyssl pretrain` (config.yaml, last.ckpt).")
DATA = typer.Option(..., "--data", help="Store holding the images and the label column.")
LABEL = typer.Option("is_lens", "--label", help="Positives: a boolean column (is_lens) or 'column==value' "
                     "(lens_grade==A).")
MAX_STEPS = typer.Option(1000, "--max-steps", help="Optimizer steps per trained network.")
HEAD_LR = typer.Option(DEFAULT_HEAD_LR, "--head-lr", help="Adam learning rate of the linear head.")
BACKBONE_LR = typer.Option(None, "--backbone-lr", help="Learning rate of the encoder (0 freezes it); default "
                           f"{DEFAULT_BACKBONE_LR:g}, or the head's with --scratch.")
WEIGHT_DECAY = typer.Option(0.0, "--weight-decay", help="Adam weight decay (L2), passed to the optimiser.")
BATCH_SIZE = typer.Option(64, "--batch-size", help="Images per step.")
POSITIVE_FRACTION = typer.Option(DEFAULT_POSITIVE_FRACTION, "--positive-fraction", help="Oversample positives to "
                                 "this fraction of every batch; 0 keeps their natural frequency.")
AUGMENT = typer.Option(True, "--augment/--no-augment", help="Train on the run's augmented views (default) or "
                       "on centre crops.")
VAL_FRACTION = typer.Option(0.2, "--val-fraction", help="Fraction of each class held out for validation.")
TOP_N = typer.Option(None, "--top-n", help="N of precision@N; default the number of validation positives.")
SEED = typer.Option(0, "--seed", help="Seed of the split, the initialisation, the batches and the views.")
DEVICE = typer.Option("auto", "--device", help="auto (CUDA when present), cpu, cuda or cuda:N.")
AS_JSON = typer.Option(False, "--json", help="Print the figures as JSON on stdout.")


def recipe(scratch: bool, max_steps: int, head_lr: float, backbone_lr: float | None, weight_decay: float,
           batch_size: int, positive_fraction: float, augment: bool, seed: int):
    """The :class:`SupervisedConfig` of a binary lens run from the command-line options."""
    from skyssl.errors import InputError
    from skyssl.finetune.supervised import SupervisedConfig

    if positive_fraction < 0:
        raise InputError(f"--positive-fraction must be in [0, 1), got {positive_fraction}")
    if backbone_lr is None:
        backbone_lr = head_lr if scratch else DEFAULT_BACKBONE_LR
    return SupervisedConfig(task="binary", init="scratch" if scratch else "checkpoint", head_lr=head_lr,
                            backbone_lr=backbone_lr, weight_decay=weight_decay, max_steps=max_steps,
                            batch_size=batch_size, positive_fraction=positive_fraction or None, augment=augment,
                            seed=seed)


@app.command()
def finetune(
    checkpoint: Path = CHECKPOINT,
    data: Path = DATA,
    out: Path = typer.Option(..., "--out", help="Folder for the fine-tuned model (model.pt, metrics.csv, "
                             "evaluation.json); a previous model there is replaced."),
    label: str = LABEL,
    max_steps: int = MAX_STEPS,
    head_lr: float = HEAD_LR,
    backbone_lr: float | None = BACKBONE_LR,
    weight_decay: float = WEIGHT_DECAY,
    batch_size: int = BATCH_SIZE,
    positive_fraction: float = POSITIVE_FRACTION,
    augment: bool = AUGMENT,
    scratch: bool = typer.Option(False, "--scratch", help="Random init instead of the run's weights: the "
                                 "supervised baseline with the same architecture and views."),
    val_fraction: float = VAL_FRACTION,
    top_n: int | None = TOP_N,
    seed: int = SEED,
    device: str = DEVICE,
    as_json: bool = AS_JSON,
) -> None:
    """Fine-tune the run's encoder plus a linear head on a label; lens-finding metrics on a held-out split.

    Prints precision@N, recall@N, AUC, PR AUC, TPR0, TPR10 and images per lens on the validation split,
    with the split's sizes, steps and seconds.
    """
    from skyssl.mining.finetune import finetune_lenses

    config = recipe(scratch, max_steps, head_lr, backbone_lr, weight_decay, batch_size, positive_fraction, augment,
                    seed)
    print_figures(finetune_lenses(checkpoint, data, label, out, config, val_fraction, top_n, device), as_json)


@app.command("label-efficiency")
def label_efficiency(
    checkpoint: Path = CHECKPOINT,
    data: Path = DATA,
    embeddings: Path = typer.Option(..., "--embeddings", help="The store embedded by the run (`skyssl embed`), "
                                    "for the linear probe."),
    out: Path = typer.Option(..., "--out", help="Folder for the table, the plot and the trained models."),
    label: str = LABEL,
    budgets: str = typer.Option("64,128,256,512,1024,all", "--budgets", help="Label counts, nested; 'all' is the "
                                "whole training split."),
    metric: str = typer.Option("precision_at_n", "--metric", help="Lens-finding figure to plot (precision_at_n, "
                               "recall_at_n, auc, pr_auc, tpr0, tpr10)."),
    min_positives: int = typer.Option(4, "--min-positives", help="Positives kept in every subset at least."),
    max_steps: int = MAX_STEPS,
    head_lr: float = HEAD_LR,
    backbone_lr: float | None = BACKBONE_LR,
    weight_decay: float = WEIGHT_DECAY,
    batch_size: int = BATCH_SIZE,
    positive_fraction: float = POSITIVE_FRACTION,
    augment: bool = AUGMENT,
    val_fraction: float = VAL_FRACTION,
    top_n: int | None = TOP_N,
    seed: int = SEED,
    device: str = DEVICE,
    as_json: bool = AS_JSON,
) -> None:
    """Linear probe, fine-tuned SSL and the same CNN from scratch on nested label budgets, one validation set.

    Writes label_efficiency.csv, label_efficiency.png (the metric against the number of labels, log x)
    and label_efficiency.json under --out. The recipe options set the fine-tuning; the from-scratch
    baseline uses them with random weights and the backbone at the head's learning rate.
    """
    from skyssl.mining.label_efficiency import lens_label_efficiency, parse_budgets

    config = recipe(False, max_steps, head_lr, backbone_lr, weight_decay, batch_size, positive_fraction, augment,
                    seed)
    summary = lens_label_efficiency(checkpoint, data, embeddings, label, parse_budgets(budgets), config, out,
                                    val_fraction, top_n, metric, min_positives, device=device,
                                    progress=lambda line: print(line, file=sys.stderr))
    if as_json:
        print_figures(summary, True)
        return
    print_figures(summary, False)
    for row in summary["rows"]:
        print(f"{row['method']:<16} {row['n_labels']:>7} labels  {metric} {row[metric]:.4f}")
