"""`skyssl umap`: the UMAP map of the representation space with Hayat et al.'s image mosaic.

Writes, next to `--out map.png`: `map_<column>.png` for every `--color-by` column, the Map artefact
`map.umap/` (coordinates keyed by object_id + the fitted model), and with `--checkpoint` the
pixel-space map (`map_pixels.png`) and the stationarity test (`map_stationarity.png`).
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from skyssl.cli.app import app
from skyssl.errors import SkysslError

SKIPPED_WITHOUT_RUN = ("pixel-space map and stationarity test skipped: they need --checkpoint RUN (the run that "
                       "made the embeddings)")


def sibling(out: Path, suffix: str) -> Path:
    """`map.png` → `map<suffix>` in the same folder."""
    return out.with_name(out.stem + suffix)


def map_folder_overwritable(folder: Path) -> bool:
    """Only an earlier map may be replaced by a rerun; any other folder there is refused by the writer."""
    from skyssl.errors import ArtefactError
    from skyssl.manifest import read_manifest
    from skyssl.science.umap_artefact import MAP_KIND, MAP_SCHEMA_VERSION

    try:
        read_manifest(folder, MAP_KIND, MAP_SCHEMA_VERSION)
    except ArtefactError:
        return False
    return True


def check_arguments(out: Path, fit_sample: int, pca: int, grid: int, tile_px: int, crop_px: int, sample: int) -> None:
    if out.is_dir():
        raise SkysslError(f"--out {out} is a folder; give a PNG file name such as map.png")
    if not out.parent.is_dir():
        raise SkysslError(f"--out {out}: folder {out.parent} does not exist")
    if out.suffix.lower() != ".png":
        raise SkysslError(f"--out {out}: the mosaic is a PNG; name it with .png")
    if fit_sample < 1 or pca < 0:
        raise SkysslError("--fit-sample must be at least 1 and --pca at least 0 (0: no PCA)")
    if grid < 1 or tile_px < 1 or crop_px < 0 or sample < 1:
        raise SkysslError("--grid, --tile-px and --sample must be at least 1, --crop-px at least 0")


@app.command()
def umap(
    embeddings: Path = typer.Option(..., "--embeddings", help="Embeddings folder (from `skyssl embed`)."),
    out: Path = typer.Option(..., "--out", help="Mosaic PNG; panels and the map artefact are written beside it."),
    color_by: list[str] | None = typer.Option(None, "--color-by", help="Catalogue or truth column to colour a "
                                              "panel by (repeatable; per-band fields as mag_r)."),
    checkpoint: Path | None = typer.Option(None, "--checkpoint", help="Run dir that made the embeddings: adds the "
                                           "pixel-space map and the stationarity test under augmentations."),
    fit_sample: int = typer.Option(100_000, "--fit-sample", help="Objects UMAP is fitted on (seeded sample); the "
                                   "rest are placed by the fitted model."),
    pca: int = typer.Option(0, "--pca", help="Project the unit vectors on this many principal components first "
                            "(0: UMAP on the vectors directly, cosine metric)."),
    vector_kind: str = typer.Option("backbone", "--vectors", help="Which vectors: backbone or projection."),
    map_in: Path | None = typer.Option(None, "--map", help="Place the objects with this fitted map (a .umap "
                                       "folder) instead of fitting a new one."),
    map_out: Path | None = typer.Option(None, "--map-out", help="Map artefact folder (default: OUT's name with "
                                        ".umap)."),
    grid: int = typer.Option(24, "--grid", help="Mosaic cells per side."),
    tile_px: int = typer.Option(32, "--tile-px", help="Mosaic tile size in pixels."),
    crop_px: int = typer.Option(64, "--crop-px", help="Central crop of each cutout shown (0: whole stamp)."),
    neighbours: int = typer.Option(15, "--neighbours", help="UMAP n_neighbors."),
    min_dist: float = typer.Option(0.1, "--min-dist", help="UMAP min_dist."),
    sample: int = typer.Option(2000, "--sample", help="Objects in the pixel-space map (and a quarter of them, at "
                               "least 1, in the stationarity test)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the fit sample, PCA, UMAP and augmentations."),
    as_json: bool = typer.Option(False, "--json", help="Print what was written and the figures as JSON."),
) -> None:
    """UMAP of the representations: mosaic of cutouts (one per occupied grid cell) and coloured panels."""
    check_arguments(out, fit_sample, pca, grid, tile_px, crop_px, sample)
    from skyssl.cli.progress import progress_bar
    from skyssl.embed.reader import Embeddings
    from skyssl.science.umap_panels import column_values, panel_figure
    from skyssl.science.umap_study import make_map, mosaic_image
    from skyssl.viz.plots import figure_png
    from skyssl.viz.png import save_png, write_bytes_atomic
    from skyssl.viz.tiles import display_survey

    map_out = map_out or sibling(out, ".umap")
    summary: dict = {"mosaic": str(out), "map": str(map_out), "panels": {}, "skipped": []}
    with Embeddings.open(embeddings) as opened:
        if opened.n_objects == 0:
            raise SkysslError(f"{embeddings} holds no vectors; nothing to map")
        with opened.open_store() as store:
            if vector_kind not in opened.kinds:
                raise SkysslError(f"{embeddings} holds {opened.kinds} vectors, not {vector_kind!r}")
            survey = display_survey(store)
            colours = {name: column_values(store, name, opened.rows) for name in color_by or []}
            encoder = _encoder_for(checkpoint, opened)
            with progress_bar(opened.n_objects, "placing objects") as advance:
                result = make_map(opened, map_out, vector_kind, fit_sample, pca, neighbours, min_dist, seed, map_in,
                                  overwrite=map_folder_overwritable(map_out), on_batch=advance)
            sheet, cells = mosaic_image(store, survey, result.rows, result.coords.xy, grid, crop_px, tile_px)
            save_png(sheet, out)
            for name, values in colours.items():
                path = sibling(out, f"_{name}.png")
                write_bytes_atomic(figure_png(panel_figure(result.coords.xy, values, name)), path)
                summary["panels"][name] = str(path)
            if encoder is None:
                summary["skipped"].append(SKIPPED_WITHOUT_RUN)
            else:
                summary.update(_with_run(encoder, store, result, colours, out, vector_kind, sample, seed))
    summary.update({"n_objects": int(result.coords.xy.shape[0]), "n_fitted": int(result.coords.fitted.sum()),
                    "occupied_cells": int(cells.positions.size), "grid": grid, "params": result.model.params})
    _report(summary, as_json)


def _encoder_for(checkpoint: Path | None, opened):
    """The run's encoder, checked to be the one that made the vectors (None without --checkpoint)."""
    if checkpoint is None:
        return None
    from skyssl.embed.model import load_run
    from skyssl.embed.query import check_same_checkpoint

    encoder = load_run(checkpoint, device="auto")
    check_same_checkpoint(opened.manifest.get("checkpoint"), encoder, f"the vectors in {opened.path}")
    return encoder


def _with_run(encoder, store, result, colours: dict, out: Path, vector_kind: str, sample: int, seed: int) -> dict:
    """The pixel-space map and the stationarity test, written beside the mosaic."""
    from skyssl.science.umap_study import pixel_map, stationarity_test
    from skyssl.viz.plots import figure_png
    from skyssl.viz.png import write_bytes_atomic

    encoder.check_store(store)
    column = next(iter(colours), None)
    figure, pixel_figures = pixel_map(encoder, store, result, colours.get(column), column, sample, seed)
    pixels_path = write_bytes_atomic(figure_png(figure), sibling(out, "_pixels.png"))
    figure, station = stationarity_test(encoder, store, result, vector_kind, max(1, sample // 4), seed)
    station_path = write_bytes_atomic(figure_png(figure), sibling(out, "_stationarity.png"))
    return {"pixel_map": str(pixels_path), "pixel_map_figures": pixel_figures,
            "stationarity_plot": str(station_path), "stationarity": station}


def _report(summary: dict, as_json: bool) -> None:
    if as_json:
        print(json.dumps(summary, indent=2))
        return
    print(f"wrote {summary['mosaic']}: {summary['occupied_cells']} of {summary['grid']}² cells occupied, "
          f"{summary['n_objects']} objects ({summary['n_fitted']} fitted)")
    print(f"wrote {summary['map']} (coordinates by object_id and the fitted model)")
    for path in summary["panels"].values():
        print(f"wrote {path}")
    if "pixel_map" in summary:
        print(f"wrote {summary['pixel_map']}")
        station = summary["stationarity"]
        print(f"wrote {summary['stationarity_plot']}: median shift under augmentation "
              f"{station['median_shift_in_neighbour_distances']:.2f} neighbour distances, "
              f"{station['median_shift_over_pair_distance']:.3f} of a random pair")
    for line in summary["skipped"]:
        print(line)
