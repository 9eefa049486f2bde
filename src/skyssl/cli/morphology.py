"""`skyssl morphology train`: a binary classifier for one Galaxy-Zoo-style question, judged on confident labels.

The models and their options are those of `skyssl photoz train` (--probe, --finetune, --scratch);
`--budgets` repeats each on nested label counts (the label-efficiency curve).
"""

from __future__ import annotations

from pathlib import Path

import typer

from skyssl.cli.app import app
from skyssl.cli.photoz import (
    AS_JSON,
    AUGMENT,
    BATCH_SIZE,
    CHECKPOINT,
    DATA,
    DEVICE,
    EMBEDDINGS,
    FINETUNE,
    HEAD_LR,
    L2,
    MAX_ITER,
    MAX_STEPS,
    PROBE,
    SCRATCH,
    SEED,
    TEST_FRACTION,
    VECTORS,
    chosen_methods,
    fit_settings,
    print_study,
)

morphology_app = typer.Typer(name="morphology", help="Galaxy morphology from representations.",
                             no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                             rich_markup_mode=None)
app.add_typer(morphology_app, name="morphology")


@morphology_app.command("train")
def train(
    embeddings: Path = EMBEDDINGS,
    question: str = typer.Option(..., "--question", help="smooth, featured, edge_on, bar, spiral, merger (the "
                                 "gz_<question>_fraction columns), or any column of vote fractions."),
    out: Path = typer.Option(..., "--out", help="Folder for metrics.json, predictions, models and plots; an "
                             "earlier morphology folder there is replaced."),
    votes_column: str = typer.Option("gz_num_votes", "--votes-column", help="Column of vote counts."),
    min_votes: int = typer.Option(5, "--min-votes", help="Use objects with at least this many votes (0: all)."),
    confident: float = typer.Option(0.8, "--confident", help="Evaluate on high-quality labels: vote fraction above "
                                    "this or below 1 minus it."),
    budgets: str = typer.Option("all", "--budgets", help="Label counts, nested, e.g. 256,1024,all: the "
                                "label-efficiency curve."),
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
    """Train on every object with enough votes (target: fraction > 0.5); print accuracy, precision, recall,
    F1, AUC and η (misclassified fraction) on the confident test labels, and the vote-fraction RMSE / R².
    """
    from skyssl.cli.progress import progress_bar
    from skyssl.mining.label_efficiency import parse_budgets
    from skyssl.science.morphology import MorphologySettings, morphology_study

    methods = chosen_methods(probe, finetune, scratch)
    settings = MorphologySettings(question=question, votes_column=votes_column, min_votes=min_votes,
                                  confident=confident, methods=methods, budgets=budgets, test_fraction=test_fraction,
                                  fit=fit_settings(checkpoint, data, l2, max_iter, vectors, max_steps, batch_size,
                                                   head_lr, augment, seed, device))
    n_fits = len(methods) * len({*parse_budgets(budgets), "all"})
    with progress_bar(n_fits, f"morphology models ({question})") as advance:
        figures = morphology_study(embeddings, settings, out, advance)
    print_study(figures, as_json)
