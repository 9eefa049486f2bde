"""`skyssl serve`: the web app (search, relevance feedback, grading) over an index, on uvicorn."""

from __future__ import annotations

from pathlib import Path

import typer

from skyssl.cli.app import app


@app.command()
def serve(
    index: Path = typer.Option(..., "--index", help="Index folder (from `skyssl index`); it knows its embeddings "
                               "and store."),
    labels: Path | None = typer.Option(None, "--labels", help="Labels database (SQLite; created if missing). "
                                       "Default: INDEX/labels.sqlite."),
    candidates: Path | None = typer.Option(None, "--candidates", help="Ranked candidate CSV (object_id, score, "
                                           "rank) for review mode, e.g. from `skyssl probe predict`."),
    checkpoint: Path | None = typer.Option(None, "--checkpoint", help="The pretraining run that made the "
                                           "embeddings; enables search by uploaded cutout."),
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to bind (0.0.0.0 exposes it to the network)."),
    port: int = typer.Option(8000, "--port", help="TCP port (0 picks a free one)."),
) -> None:
    """Serve the JSON API (docs at /docs) and the browser UI; prints the URL, then runs until Ctrl-C."""
    from skyssl.app import create_app, serve_forever
    from skyssl.app.serving import bind_socket

    bind_socket(host, port).close()  # a taken port fails in a second, not after opening the index
    serve_forever(create_app(index, labels, candidates, checkpoint), host, port)
