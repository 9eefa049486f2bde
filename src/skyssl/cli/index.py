"""`skyssl index`: build a Faiss index (flat, IVF-PQ or HNSW) over embeddings, with its recall measured."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from skyssl.cli.app import app
from skyssl.errors import SkysslError

KINDS = ("flat", "ivfpq", "hnsw")


@app.command()
def index(
    embeddings: Path = typer.Option(..., "--embeddings", help="Embeddings folder (from `skyssl embed`)."),
    out: Path = typer.Option(..., "--out", help="Index folder to write."),
    kind: str = typer.Option("flat", "--kind", help="flat (exact), ivfpq or hnsw (approximate)."),
    vector_kind: str = typer.Option("backbone", "--vectors", help="Which vectors to index: backbone or projection."),
    k: int = typer.Option(100, "--k", help="k of the recall@k measured at build time."),
    sample_queries: int = typer.Option(1000, "--sample-queries", help="Sample queries for the recall measurement."),
    recall_target: float = typer.Option(0.95, "--recall-target", help="Tune nprobe/efSearch to reach this recall@k."),
    seed: int = typer.Option(0, "--seed", help="Seed of the training sample and the recall sample."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing index at --out."),
    as_json: bool = typer.Option(False, "--json", help="Print the index manifest as JSON."),
) -> None:
    """Build a cosine-similarity index over embeddings; the manifest records the recall measured."""
    if kind not in KINDS:
        raise SkysslError(f"--kind must be one of {', '.join(KINDS)}, not {kind!r}")
    if k < 1:
        raise SkysslError(f"--k must be at least 1, got {k}")
    from skyssl.manifest import read_manifest
    from skyssl.search.build import INDEX_KIND, INDEX_SCHEMA_VERSION, build_index

    path = build_index(embeddings, out, kind=kind, vector_kind=vector_kind, sample_queries=sample_queries, k=k,
                       recall_target=recall_target, seed=seed, overwrite=overwrite)
    manifest = read_manifest(path, INDEX_KIND, INDEX_SCHEMA_VERSION)
    if as_json:
        print(json.dumps(manifest, indent=2))
        return
    recall = manifest["recall_at_k"]
    print(f"{kind} index of {manifest['n_objects']} × {manifest['dim']} in {path}: recall@{recall['k']} = "
          f"{recall['value']:.3f} ± {recall['stderr']:.3f} (params {manifest['params']})")
