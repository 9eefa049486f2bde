"""`skyssl show STORE (--ids … | --random N) --out sheet.png`: look at cutouts, labelled by object id."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import typer

from skyssl.cli.app import app
from skyssl.errors import SkysslError

if TYPE_CHECKING:
    from skyssl.store import Store

RGB_CHOICES = ("dr2", "lupton")


def parse_ids(text: str) -> np.ndarray:
    """'1, 2,3' → int64 ids; anything that is not a comma-separated integer list is a user error."""
    tokens = [t.strip() for t in text.split(",") if t.strip()]
    if not tokens:
        raise SkysslError("--ids is empty; give comma-separated object ids, e.g. --ids 12,40,7")
    values = []
    for token in tokens:
        try:
            values.append(int(token))
        except ValueError:
            raise SkysslError(f"--ids: {token!r} is not an integer object id") from None
    try:
        return np.array(values, dtype=np.int64)
    except OverflowError:
        raise SkysslError("--ids: object ids must fit in 64 bits") from None


def choose_rows(store: Store, ids: str | None, random_n: int | None, seed: int) -> np.ndarray:
    """Rows to show: the given ids in the order given, or N distinct random rows in row order.

    Asking for more random objects than the store holds shows them all.
    """
    if (ids is None) == (random_n is None):
        raise SkysslError("choose the objects with exactly one of --ids or --random")
    if ids is not None:
        return store.rows_for_ids(parse_ids(ids))
    if random_n < 1:
        raise SkysslError(f"--random needs a positive count, not {random_n}")
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(store.n_objects, size=min(random_n, store.n_objects), replace=False))


@app.command()
def show(
    store: Path = typer.Argument(..., help="A skyssl store, an authors' HDF5 file, or a folder of them."),
    out: Path = typer.Option(..., "--out", help="PNG file to write (written atomically)."),
    ids: str | None = typer.Option(None, "--ids", help="Comma-separated object ids, shown in this order."),
    random_n: int | None = typer.Option(None, "--random", help="Show N random objects instead of --ids."),
    columns: int = typer.Option(10, "--columns", help="Tiles per row."),
    tile_px: int = typer.Option(0, "--tile-px", help="Tile size in pixels (0: native cutout size)."),
    seed: int = typer.Option(0, "--seed", help="Seed for --random (same seed, same objects)."),
    rgb: str = typer.Option(
        "dr2", "--rgb",
        help="dr2: the Legacy Surveys viewer asinh mapping with the survey's preset (dr2 for Legacy "
        "Surveys, sdss_rgb defaults for SDSS); lupton: Lupton et al. (2004) via astropy.",
    ),
    label: bool = typer.Option(True, "--label/--no-label", help="Write each object id on its tile."),
    gutter_px: int = typer.Option(2, "--gutter-px", help="White gap between tiles, in pixels."),
    as_json: bool = typer.Option(False, "--json", help="Print machine-readable JSON."),
) -> None:
    """A PNG sheet of chosen cutouts, north up and east left, each labelled with its object id."""
    if rgb not in RGB_CHOICES:
        raise SkysslError(f"--rgb must be one of {', '.join(RGB_CHOICES)}, not {rgb!r}")
    if columns < 1:
        raise SkysslError(f"--columns must be at least 1, not {columns}")
    if tile_px < 0 or gutter_px < 0:
        raise SkysslError("--tile-px and --gutter-px must be ≥ 0")
    if out.is_dir():
        raise SkysslError(f"--out {out} is a folder; give a PNG file name")
    if not out.parent.is_dir():
        raise SkysslError(f"--out {out}: folder {out.parent} does not exist")
    from skyssl.store import Store
    from skyssl.viz import image_grid, save_png, tile_labels
    from skyssl.viz.tiles import store_tiles

    with Store.open(store) as cutouts:
        rows = choose_rows(cutouts, ids, random_n, seed)
        tiles = store_tiles(cutouts, rows, rgb=rgb)
        object_ids = cutouts.object_ids[rows]
    labels = tile_labels(object_ids) if label else None
    sheet = image_grid(tiles, columns=min(columns, len(tiles)), gutter_px=gutter_px, labels=labels,
                       tile_px=tile_px)
    save_png(sheet, out)
    summary = {"out": str(out), "n_objects": int(rows.size), "columns": min(columns, len(tiles)),
               "sheet_shape_px": [int(sheet.shape[0]), int(sheet.shape[1])], "rgb": rgb,
               "object_ids": [int(i) for i in object_ids]}
    if as_json:
        print(json.dumps(summary))
    else:
        print(f"wrote {out}: {rows.size} objects, {sheet.shape[1]}×{sheet.shape[0]} px")
