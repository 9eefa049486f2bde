"""`skyssl info PATH`: what a store or an authors' file holds, and what is wrong with it."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from skyssl.cli.app import app

if TYPE_CHECKING:
    from skyssl.store import Store


def describe(store: Store, full: bool = False) -> dict:
    from skyssl.store.validate import validate

    report = validate(store, full=full)
    return {
        "path": str(store.path),
        "layout": store.layout,
        "files": len(store.files),
        "survey": store.survey.name if store.survey else None,
        "n_objects": store.n_objects,
        "bands": list(store.bands) if store.bands else None,
        "image_shape": list(store.image_shape),
        "dtype": str(store.dtype),
        "pixel_scale_arcsec": store.pixel_scale_arcsec,
        "id_source": store.id_source,
        "columns": store.columns,
        "checked_rows": report.checked_rows,
        "problems": report.problems,
        "warnings": report.warnings,
    }


@app.command()
def info(
    path: Path = typer.Argument(..., help="A skyssl store, an authors' DR9/SDSS HDF5 file, or a folder of them."),
    as_json: bool = typer.Option(False, "--json", help="Print machine-readable JSON."),
    full: bool = typer.Option(False, "--full", help="Check every image even in a large store (default: sample)."),
) -> None:
    """Counts, bands, columns, id source and the problems found. Exits 1 when there are problems."""
    from skyssl.store import Store

    with Store.open(path) as store:
        summary = describe(store, full=full)
    if as_json:
        print(json.dumps(summary, indent=2))
    else:
        width = max(len(k) for k in summary)
        for key, value in summary.items():
            if isinstance(value, list) and key in ("problems", "warnings"):
                print(f"{key:<{width}}  {len(value)}")
                for item in value:
                    print(f"{'':<{width}}  - {item}")
            elif isinstance(value, list):
                print(f"{key:<{width}}  {', '.join(str(v) for v in value)}")
            else:
                print(f"{key:<{width}}  {value}")
    if summary["problems"]:
        extra = f" (+{len(summary['problems']) - 1} more)" if len(summary["problems"]) > 1 else ""
        print(f"skyssl: error: {path}: {summary['problems'][0]}{extra}", file=sys.stderr)
        raise typer.Exit(1)
