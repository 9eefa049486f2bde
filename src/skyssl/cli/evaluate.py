"""`skyssl evaluate …`: quality measures of representations; `evaluate search` is similarity search's.

`evaluate` is a sub-app so that later measures (linear probes…) register their own commands on
:data:`evaluate_app`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import typer

from skyssl.cli.app import app
from skyssl.cli.figures import print_figures
from skyssl.errors import SkysslError

evaluate_app = typer.Typer(name="evaluate", help="Measure the quality of representations.", no_args_is_help=True,
                           add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None)
app.add_typer(evaluate_app, name="evaluate")


def _copy_top1(embeddings: Path, checkpoint: Path, vector_kind: str, copies: int, seed: int) -> Callable[[], float]:
    """A callable computing augmented_copy_top1 with the run's model (after evaluate_search's own checks)."""
    def compute() -> float:
        from skyssl.embed.copies import augmented_pairs, sample_rows
        from skyssl.embed.model import load_run
        from skyssl.embed.query import check_same_checkpoint
        from skyssl.embed.reader import Embeddings
        from skyssl.search.evaluate import augmented_copy_top1_rate

        encoder = load_run(checkpoint, device="auto")
        with Embeddings.open(embeddings) as opened, opened.open_store() as store:
            check_same_checkpoint(opened.manifest.get("checkpoint"), encoder, f"the vectors in {embeddings}")
            rows = sample_rows(opened.rows, copies, seed)
            centre, augmented = augmented_pairs(encoder, store, rows, vector_kind, seed)
        return augmented_copy_top1_rate(centre, augmented)

    return compute


@evaluate_app.command("search")
def search(
    embeddings: Path = typer.Option(..., "--embeddings", help="Embeddings folder (from `skyssl embed`)."),
    label: str = typer.Option(..., "--label", help="Positives: a boolean column (is_lens) or 'column==value' "
                              "(lens_grade==A)."),
    k: int = typer.Option(100, "--k", help="Neighbours per query."),
    vector_kind: str = typer.Option("backbone", "--vectors", help="Which vectors: backbone or projection."),
    checkpoint: Path | None = typer.Option(None, "--checkpoint", help="Run dir that made the embeddings: also "
                                           "measure augmented_copy_top1 with its model."),
    copies: int = typer.Option(1000, "--copies", help="Objects sampled for augmented_copy_top1."),
    seed: int = typer.Option(0, "--seed", help="Seed of the sample and of the augmented views."),
    as_json: bool = typer.Option(False, "--json", help="Print the figures as JSON."),
) -> None:
    """Each positive alone as a query: precision@k (itself excluded), base rate and enrichment.

    With --checkpoint, augmented_copy_top1 is the fraction of sampled objects (--copies) whose augmented
    view's nearest centre view, both embedded by the run's model, is their own (Stein et al. 2021's
    label-free check); without it the figure is null.
    """
    if k < 1:
        raise SkysslError(f"--k must be at least 1, got {k}")
    if copies < 1:
        raise SkysslError(f"--copies must be at least 1, got {copies}")
    from skyssl.search.evaluate import evaluate_search

    copy_top1 = None if checkpoint is None else _copy_top1(embeddings, checkpoint, vector_kind, copies, seed)
    figures = evaluate_search(embeddings, label, k=k, vector_kind=vector_kind, augmented_copy_top1=copy_top1)
    print_figures(figures, as_json)
