"""`skyssl convert INPUT --out STORE`: the authors' HDF5 files or a folder of FITS cutouts → a store."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from skyssl.cli.app import app


class ImageDtype(StrEnum):
    float32 = "float32"
    float16 = "float16"


def progress_bar() -> Progress:
    """A rich progress bar on stderr, shown only on a terminal so that logs stay one line per event."""
    console = Console(stderr=True)
    return Progress(
        TextColumn("converting"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("objects"),
        TimeRemainingColumn(),
        console=console,
        disable=not console.is_terminal,
        transient=True,
    )


@app.command()
def convert(
    input_path: Path = typer.Argument(
        ...,
        metavar="INPUT",
        help="An authors' DR9/SDSS HDF5 file, a folder of them, a skyssl store, or a folder of FITS cutouts.",
    ),
    out: Path = typer.Option(..., "--out", help="The store folder to write."),
    survey: str | None = typer.Option(
        None, "--survey", help="Survey name (e.g. legacy-dr9-north); default: from the bands."
    ),
    rows_per_shard: int | None = typer.Option(
        None, "--rows-per-shard", help="Objects per HDF5 shard (default: about 512 MiB of images)."
    ),
    dtype: ImageDtype = typer.Option(ImageDtype.float32, "--dtype", help="Stored pixel type."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing store at --out."),
    catalog: Path | None = typer.Option(
        None,
        "--catalog",
        help="Catalogue table (FITS/ECSV/CSV) with ra, dec and a file column, for FITS cutouts.",
    ),
    file_column: str = typer.Option(
        "file", "--file-column", help="Catalogue column naming each cutout file."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print machine-readable JSON."),
) -> None:
    """Convert cutouts into a skyssl store; rerun the same command to resume an interrupted run."""
    from skyssl.store.convert import convert as convert_to_store

    with progress_bar() as progress:
        task = progress.add_task("convert", total=None)
        try:
            result = convert_to_store(
                input_path,
                out,
                survey_name=survey,
                rows_per_shard=rows_per_shard,
                image_dtype=dtype.value,
                overwrite=overwrite,
                catalog=catalog,
                file_column=file_column,
                on_progress=lambda done, total: progress.update(task, completed=done, total=total),
            )
        except KeyboardInterrupt:
            partial = out.with_name(out.name + ".partial")
            print(
                f"skyssl: finished shards are kept in {partial}; rerun the same command to resume",
                file=sys.stderr,
            )
            raise
    for warning in result.warnings:
        print(f"skyssl: warning: {warning}", file=sys.stderr)
    summary = {
        "out": str(result.out),
        "n_objects": result.n_objects,
        "n_shards": result.n_shards,
        "resumed_shards": result.resumed_shards,
        "survey": result.survey,
        "dtype": result.image_dtype,
    }
    if as_json:
        print(json.dumps(summary, indent=2))
    else:
        resumed = f", {result.resumed_shards} resumed" if result.resumed_shards else ""
        print(
            f"wrote {result.out}: {result.n_objects} objects in {result.n_shards} shard(s){resumed}, "
            f"{result.image_dtype}, survey {result.survey}"
        )
