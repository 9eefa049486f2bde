"""`skyssl augment STORE (--ids … | --random N) --views N --out sheet.png`: see what the network sees.

One row per object: its centre crop, then N augmented views, all in the viewer's display colours.
Display RGB is made from the views in nanomaggies (before the network's input stretch), so the sheet
shows the physics of the augmentation (rotation, PSF, noise, dust), not the input normalisation.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from skyssl.augment.spec import DEFAULT_SPEC, PAPER_FAITHFUL_SPEC
from skyssl.cli.app import app
from skyssl.cli.show import choose_rows
from skyssl.errors import SkysslError

PROFILES = {"default": DEFAULT_SPEC, "paper_faithful": PAPER_FAITHFUL_SPEC}
MAX_VIEWS = 50


@app.command()
def augment(
    store: Path = typer.Argument(..., help="A skyssl store, an authors' HDF5 file, or a folder of them."),
    out: Path = typer.Option(..., "--out", help="PNG file to write (written atomically)."),
    ids: str | None = typer.Option(None, "--ids", help="Comma-separated object ids, one row each, in this order."),
    random_n: int | None = typer.Option(None, "--random", help="Show N random objects instead of --ids."),
    views: int = typer.Option(8, "--views", help="Augmented views per object (after its centre crop)."),
    spec: str | None = typer.Option(
        None, "--spec", help=f"Two-letter augmentation spec (default: {DEFAULT_SPEC}, or {PAPER_FAITHFUL_SPEC} "
        "with --profile paper_faithful)."),
    profile: str = typer.Option(
        "default", "--profile",
        help="default: catalogue E(B−V)/PSF/depth as the starting point, survey priors as targets; "
        "paper_faithful: the published DR9 behaviour (uniform draws, one-axis size scale)."),
    seed: int = typer.Option(0, "--seed", help="Seed for --random and for the views (same seed, same sheet)."),
    tile_px: int = typer.Option(0, "--tile-px", help="Tile size in pixels (0: the crop size)."),
    as_json: bool = typer.Option(False, "--json", help="Print machine-readable JSON."),
) -> None:
    """A PNG sheet: per object its centre crop then N augmented views, labelled with the object id."""
    if profile not in PROFILES:
        raise SkysslError(f"--profile must be one of {', '.join(PROFILES)}, not {profile!r}")
    if not 1 <= views <= MAX_VIEWS:
        raise SkysslError(f"--views must be within 1–{MAX_VIEWS}, not {views}")
    if tile_px < 0:
        raise SkysslError("--tile-px must be ≥ 0")
    if out.is_dir():
        raise SkysslError(f"--out {out} is a folder; give a PNG file name")
    if not out.parent.is_dir():
        raise SkysslError(f"--out {out}: folder {out.parent} does not exist")
    from skyssl.augment import AugmentConfig, AugmentPipeline
    from skyssl.augment.rows import augment_rows
    from skyssl.store import Store
    from skyssl.viz import image_grid, save_png, survey_rgb, to_uint8
    from skyssl.viz.tiles import display_survey

    config = AugmentConfig.from_spec(spec or PROFILES[profile], profile=profile)
    with Store.open(store) as cutouts:
        survey = display_survey(cutouts)
        pipeline = AugmentPipeline(config, survey)
        rows = choose_rows(cutouts, ids, random_n, seed)
        nmgy = augment_rows(pipeline, cutouts, rows, views, seed)
        object_ids = cutouts.object_ids[rows]
    n_objects, per_row = nmgy.shape[:2]
    tiles = to_uint8(survey_rgb(nmgy.reshape(n_objects * per_row, *nmgy.shape[2:]), survey))
    labels = [str(int(i)) if k == 0 else f"{int(i)} #{k}" for i in object_ids for k in range(per_row)]
    sheet = image_grid(tiles, columns=per_row, labels=labels, tile_px=tile_px)
    save_png(sheet, out)
    summary = {"out": str(out), "n_objects": int(n_objects), "views": views, "spec": config.to_spec(),
               "profile": profile, "crop_px": pipeline.crop_px, "seed": seed,
               "sheet_shape_px": [int(sheet.shape[0]), int(sheet.shape[1])],
               "object_ids": [int(i) for i in object_ids]}
    if as_json:
        print(json.dumps(summary))
    else:
        print(f"wrote {out}: {n_objects} objects × (centre + {views} views), {sheet.shape[1]}×{sheet.shape[0]} px")
