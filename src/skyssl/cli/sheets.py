"""`skyssl sheets`: one contact sheet per truth class of a simulated store (what `docs/` shows)."""

from __future__ import annotations

import re
from pathlib import Path

import typer

from skyssl.cli.app import app
from skyssl.errors import SkysslError


@app.command()
def sheets(
    store_path: Path = typer.Argument(..., help="A simulated store (with truth columns)."),
    out: Path = typer.Option(..., "--out", help="Folder for the PNG sheets."),
    per_class: int = typer.Option(10, "--per-class", help="Objects per sheet."),
    tile_px: int = typer.Option(96, "--tile-px", help="Tile size in pixels."),
) -> None:
    """Contact sheets of lenses by grade, each rare morphology and each artefact."""
    if per_class < 1:
        raise SkysslError("--per-class must be at least 1")
    from skyssl.sim.validation import class_rows
    from skyssl.store import Store
    from skyssl.viz import image_grid, save_png, tile_labels
    from skyssl.viz.tiles import store_tiles

    out.mkdir(parents=True, exist_ok=True)
    with Store.open(store_path) as store:
        for name, rows in class_rows(store, per_class).items():
            if rows.size == 0:
                print(f"{name}: none in this store")
                continue
            sheet = image_grid(store_tiles(store, rows), columns=min(per_class, 10),
                               labels=tile_labels(store.object_ids[rows]), tile_px=tile_px)
            slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
            save_png(sheet, out / f"{slug}.png")
            print(f"{name}: {rows.size} → {out / (slug + '.png')}")
