"""`skyssl photoz train`: photometric redshifts as a classifier over redshift bins (Hayat et al. 2021).

Models: `--probe` (the default) fits a softmax linear probe on the embeddings; `--finetune` fine-tunes the
pretraining run's encoder (`--checkpoint RUN`) with the backbone learning rate 10× below the head's;
`--scratch` trains the same architecture from random weights. Several flags train several models on
the same split. `--fractions` repeats each on nested fractions of the training labels (the
label-efficiency curve). The model options here are shared with `skyssl morphology train`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from skyssl.cli.app import app
from skyssl.cli.figures import print_figures

photoz_app = typer.Typer(name="photoz", help="Photometric redshifts from representations.", no_args_is_help=True,
                         add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None)
app.add_typer(photoz_app, name="photoz")

EMBEDDINGS = typer.Option(..., "--embeddings", help="Embeddings folder (from `skyssl embed`).")
PROBE = typer.Option(False, "--probe", help="Train the linear probe on frozen representations (the default "
                     "when no model is named).")
FINETUNE = typer.Option(False, "--finetune", help="Fine-tune the run's encoder (needs --checkpoint).")
SCRATCH = typer.Option(False, "--scratch", help="The same architecture from random weights (needs --checkpoint).")
CHECKPOINT = typer.Option(None, "--checkpoint", help="Run dir of `skyssl pretrain`, for --finetune / --scratch.")
DATA = typer.Option(None, "--data", help="Store of the images; default the store the embeddings came from.")
TEST_FRACTION = typer.Option(0.2, "--test-fraction", help="Fraction of labelled objects held out for the metrics.")
L2 = typer.Option(1e-3, "--l2", help="L2 penalty of the linear probe (mean loss + ½·l2·‖W‖²).")
MAX_ITER = typer.Option(200, "--max-iter", help="LBFGS iterations of the linear probe.")
VECTORS = typer.Option("backbone", "--vectors", help="Which vectors the probe uses: backbone or projection.")
MAX_STEPS = typer.Option(300, "--max-steps", help="Optimizer steps of each fine-tuned / scratch network.")
BATCH_SIZE = typer.Option(64, "--batch-size", help="Images per step of the image models.")
HEAD_LR = typer.Option(1e-3, "--head-lr", help="Adam learning rate of the head; the backbone's is 10× lower.")
AUGMENT = typer.Option(True, "--augment/--no-augment", help="Train the image models on augmented views.")
SEED = typer.Option(0, "--seed", help="Seed of the split, the label subsets and the image models.")
DEVICE = typer.Option("auto", "--device", help="auto (CUDA when present), cpu, cuda or cuda:N.")
AS_JSON = typer.Option(False, "--json", help="Print the figures as JSON on stdout.")


def chosen_methods(probe: bool, finetune: bool, scratch: bool) -> tuple[str, ...]:
    chosen = tuple(m for m, on in (("probe", probe), ("finetune", finetune), ("scratch", scratch)) if on)
    return chosen or ("probe",)


def fit_settings(checkpoint: Path | None, data: Path | None, l2: float, max_iter: int, vectors: str, max_steps: int,
                 batch_size: int, head_lr: float, augment: bool, seed: int, device: str):
    from skyssl.science.photoz_morphology_study import FitSettings

    return FitSettings(l2=l2, max_iter=max_iter, vector_kind=vectors, run_dir=checkpoint, store_path=data,
                       max_steps=max_steps, batch_size=batch_size, head_lr=head_lr, augment=augment, seed=seed,
                       device=device)


def print_study(figures: dict[str, Any], as_json: bool) -> None:
    """The study's figures, and in text mode its label-efficiency curve one row per line."""
    print_figures(figures, as_json)
    if as_json:
        return
    curve = figures.get("label_efficiency", [])
    for row in curve if len(curve) > 1 else []:
        print("  ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()))


@photoz_app.command("train")
def train(
    embeddings: Path = EMBEDDINGS,
    out: Path = typer.Option(..., "--out", help="Folder for metrics.json, predictions, PDFs, models and plots; an "
                             "earlier photo-z folder there is replaced."),
    label: str = typer.Option("z_true", "--label", help="Redshift column; negative values (−99) mean none."),
    bins: str = typer.Option("auto", "--bins", help="Bin preset: auto (from the store's survey), sdss (180 bins "
                             "on [0, 0.4)) or legacy (200 on [0, 1.0))."),
    n_bins: int | None = typer.Option(None, "--n-bins", help="Override the preset's number of bins."),
    z_max: float | None = typer.Option(None, "--z-max", help="Override the preset's upper redshift."),
    fractions: str = typer.Option("1.0", "--fractions", help="Fractions of the training labels, nested, e.g. "
                                  "0.1,0.25,0.5,1.0: the label-efficiency curve."),
    probe: bool = PROBE,
    finetune: bool = FINETUNE,
    scratch: bool = SCRATCH,
    checkpoint: Path | None = CHECKPOINT,
    data: Path | None = DATA,
    test_fraction: float = TEST_FRACTION,
    l2: float = L2,
    max_iter: int = MAX_ITER,
    vectors: str = VECTORS,
    max_steps: int = MAX_STEPS,
    batch_size: int = BATCH_SIZE,
    head_lr: float = HEAD_LR,
    augment: bool = AUGMENT,
    seed: int = SEED,
    device: str = DEVICE,
    as_json: bool = AS_JSON,
) -> None:
    """Train photo-z models on one split; print σ_MAD, η (|Δz| > 0.05 and 0.15), bias, CRPS and PIT-KS.

    Top-level figures are the first model's in the order probe, finetune, scratch; `models` holds
    every model's and `label_efficiency` one row per model and label fraction.
    """
    from skyssl.cli.progress import progress_bar
    from skyssl.science.labels import parse_fractions
    from skyssl.science.photoz import PhotozSettings, photoz_study

    methods = chosen_methods(probe, finetune, scratch)
    parsed = parse_fractions(fractions)
    settings = PhotozSettings(label=label, preset=bins, n_bins=n_bins, z_max=z_max, methods=methods,
                              fractions=tuple(parsed), test_fraction=test_fraction,
                              fit=fit_settings(checkpoint, data, l2, max_iter, vectors, max_steps, batch_size,
                                               head_lr, augment, seed, device))
    n_fits = len(methods) * len({*parsed, 1.0})
    with progress_bar(n_fits, "photo-z models") as advance:
        figures = photoz_study(embeddings, settings, out, advance)
    print_study(figures, as_json)
