"""`skyssl neighbors`: the all-pairs exact top-k table (resumable; one small read per object)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from skyssl.cli.app import app
from skyssl.cli.progress import progress_bar
from skyssl.errors import SkysslError


@app.command()
def neighbors(
    embeddings: Path = typer.Option(..., "--embeddings", help="Embeddings folder (from `skyssl embed`)."),
    out: Path = typer.Option(..., "--out", help="Neighbour-table folder to write (a rerun resumes it)."),
    k: int = typer.Option(50, "--k", help="Neighbours per object, the object itself at rank 0 included."),
    mag_window: float | None = typer.Option(None, "--mag-window", help="Only compare objects within ±this many "
                                            "magnitudes of each other (the authors used 0.5 in z), exactly per object."),
    mag_band: str = typer.Option("z", "--mag-band", help="Band of the magnitude window."),
    vector_kind: str = typer.Option("backbone", "--vectors", help="Which vectors: backbone or projection."),
    dtype: str = typer.Option("float32", "--dtype", help="Similarity storage: float32 or float16."),
    block_rows: int = typer.Option(8192, "--block-rows", help="Rows per block file (the unit of resume)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing table at --out."),
    as_json: bool = typer.Option(False, "--json", help="Print the table manifest as JSON."),
) -> None:
    """Exact top-k neighbours of every object by cosine similarity, as fixed-stride binary rows."""
    if k < 1:
        raise SkysslError(f"--k must be at least 1, got {k}")
    from skyssl.embed.reader import Embeddings
    from skyssl.manifest import read_manifest
    from skyssl.search.neighbor_table import NEIGHBORS_KIND, NEIGHBORS_SCHEMA_VERSION
    from skyssl.search.neighbors import build_neighbors

    if block_rows < 1:
        raise SkysslError(f"--block-rows must be at least 1, got {block_rows}")
    with Embeddings.open(embeddings) as opened:
        n_blocks = -(-opened.n_objects // block_rows)
    with progress_bar(n_blocks, "neighbour blocks") as advance:
        path = build_neighbors(embeddings, out, k=k, vector_kind=vector_kind, mag_window=mag_window, mag_band=mag_band,
                               similarity_dtype=dtype, block_rows=block_rows, overwrite=overwrite,
                               on_block=lambda done, total: advance(1))
    manifest = read_manifest(path, NEIGHBORS_KIND, NEIGHBORS_SCHEMA_VERSION)
    if as_json:
        print(json.dumps(manifest, indent=2))
    else:
        window = f", magnitude window ±{mag_window} in {mag_band}" if mag_window is not None else ""
        print(f"top-{k} neighbours of {manifest['n_objects']} objects in {path} ({len(manifest['blocks'])} blocks{window})")
