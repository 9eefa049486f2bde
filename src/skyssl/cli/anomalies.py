"""`skyssl anomalies`: rank every embedded object by how unusual its representation is.

Writes a ranked CSV (object_id, score, rank, ra, dec) that the web app's review mode reads; with
`--sheet N` also a PNG of the top N cutouts beside it. When the store holds truth columns (or `--target`
names labels), the ranking is evaluated against them: ROC AUC and precision in the top N.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import typer

from skyssl.cli.app import app
from skyssl.errors import SkysslError

SHEET_COLUMNS = 10


def check_arguments(out: Path, method: str, k: int, top_n: int, sheet: int) -> None:
    from skyssl.science.anomalies import METHODS

    if method not in METHODS:
        raise SkysslError(f"--method must be one of {', '.join(METHODS)}, not {method!r}")
    if k < 1:
        raise SkysslError(f"--k must be at least 1, got {k}")
    if top_n < 1 or sheet < 0:
        raise SkysslError("--top-n must be at least 1 and --sheet at least 0")
    if out.is_dir():
        raise SkysslError(f"--out {out} is a folder; give a CSV file name such as anomalies.csv")
    if not out.parent.is_dir():
        raise SkysslError(f"--out {out}: folder {out.parent} does not exist")


@app.command()
def anomalies(
    embeddings: Path = typer.Option(..., "--embeddings", help="Embeddings folder (from `skyssl embed`)."),
    out: Path = typer.Option(..., "--out", help="Ranked CSV to write (object_id, score, rank, ra, dec)."),
    method: str = typer.Option("knn", "--method", help="knn: mean cosine distance to the k nearest neighbours "
                               "(exact); iforest: isolation forest on the leading principal components."),
    k: int = typer.Option(10, "--k", help="Neighbours for --method knn."),
    vector_kind: str = typer.Option("backbone", "--vectors", help="Which vectors: backbone or projection."),
    target: list[str] | None = typer.Option(None, "--target", help="Also evaluate against this label (repeatable): "
                                            "a boolean column or 'column==value'."),
    top_n: int = typer.Option(100, "--top-n", help="N of the precision in the top N (10 is always reported)."),
    sheet: int = typer.Option(0, "--sheet", help="Write the top N cutouts as a PNG beside the CSV (0: none)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the isolation forest."),
    as_json: bool = typer.Option(False, "--json", help="Print the evaluation against truth as JSON."),
) -> None:
    """Anomaly scores on representations, ranked; evaluated on rare classes and artefacts when truth exists."""
    check_arguments(out, method, k, top_n, sheet)
    from skyssl.cli.progress import progress_bar
    from skyssl.embed.reader import Embeddings
    from skyssl.mining.candidates import ranking
    from skyssl.science.anomalies import anomaly_scores, check_k
    from skyssl.science.anomalies_eval import evaluate_scores, label_targets, truth_targets
    from skyssl.science.anomalies_ranked import write_ranked_csv

    with Embeddings.open(embeddings) as opened:
        if opened.n_objects == 0:
            raise SkysslError(f"{embeddings} holds no vectors; nothing to score")
        with opened.open_store() as store:
            if method == "knn":
                check_k(k, opened.n_objects)
            rows = opened.rows

            def read_column(name: str) -> np.ndarray:
                return store.read_column(name)[rows]

            targets = {**truth_targets(store.columns, read_column), **label_targets(target or [], read_column)}
            vectors = opened.vectors(vector_kind)
            with progress_bar(opened.n_objects, f"scoring ({method})") as advance:
                scores = anomaly_scores(vectors, method, k, seed, on_batch=advance)
            has_sky = "ra" in store.columns and "dec" in store.columns
            sky = (read_column("ra"), read_column("dec")) if has_sky else (None, None)
            write_ranked_csv(out, opened.object_ids, scores, *sky)
            order = ranking(scores)
            sheet_path = _write_sheet(store, rows[order[:sheet]], opened.object_ids[order[:sheet]],
                                      scores[order[:sheet]], out) if sheet else None
            object_ids = opened.object_ids
    summary = {"out": str(out), "method": method, "k": k if method == "knn" else None, "vector_kind": vector_kind,
               "n_objects": int(scores.size), "sheet": None if sheet_path is None else str(sheet_path),
               "top_object_ids": [int(i) for i in object_ids[order[:10]]],
               "evaluation": evaluate_scores(scores, targets, sorted({10, top_n}))}
    _report(summary, as_json)


def _write_sheet(store, rows: np.ndarray, object_ids: np.ndarray, scores: np.ndarray, out: Path) -> Path:
    """The top cutouts in rank order, labelled with id and score, as `<out stem>_top.png`."""
    from skyssl.viz.grid import image_grid, tile_labels
    from skyssl.viz.png import save_png
    from skyssl.viz.tiles import store_tiles

    tiles = store_tiles(store, rows)
    sheet = image_grid(tiles, columns=min(SHEET_COLUMNS, len(tiles)), labels=tile_labels(object_ids, scores),
                       tile_px=96)
    return save_png(sheet, out.with_name(out.stem + "_top.png"))


def _report(summary: dict, as_json: bool) -> None:
    if as_json:
        print(json.dumps(summary, indent=2))
        return
    print(f"wrote {summary['out']}: {summary['n_objects']} objects ranked by {summary['method']}")
    if summary["sheet"]:
        print(f"wrote {summary['sheet']}")
    for name, figures in summary["evaluation"].items():
        if "skipped" in figures:
            print(f"{name:<18} skipped ({figures['n_positives']} positives)")
            continue
        precision = "  ".join(f"{key} {value:.3f}" for key, value in figures.items() if key.startswith("precision"))
        print(f"{name:<18} positives {figures['n_positives']:<6} base rate {figures['base_rate']:.4f}  "
              f"ROC AUC {figures['roc_auc']:.3f}  {precision}")
