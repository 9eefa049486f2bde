"""The map study end to end, shared by `skyssl umap` and the demo: map the embeddings, draw the mosaic
and the coloured panels, and (given the run that made the vectors) the pixel-space map beside it and
the stationarity test under augmentations.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from skyssl.embed.reader import Embeddings
from skyssl.science import mosaic as mosaic_lib
from skyssl.science.umap_artefact import load_map_model, write_map
from skyssl.science.umap_map import MapCoordinates, MapModel, fit_map, map_embeddings, place_with
from skyssl.science.umap_pixels import neighbour_agreement, side_by_side_figure, store_pixel_features
from skyssl.science.umap_stationarity import stationarity, stationarity_figure
from skyssl.store import Store
from skyssl.surveys import Survey

DEFAULT_GRID_CELLS = 24
DEFAULT_TILE_PX = 32
DEFAULT_CROP_PX = 64
DEFAULT_PIXEL_SAMPLE = 2000
DEFAULT_STATIONARITY_SAMPLE = 500


@dataclass
class MapResult:
    """A made map: the model, every object's position (embedding order) and where the artefact went."""

    model: MapModel
    coords: MapCoordinates
    object_ids: np.ndarray
    rows: np.ndarray
    path: Path


def make_map(embeddings: Embeddings, out: Path, vector_kind: str = "backbone", fit_sample: int = 100_000,
             pca_dims: int = 0, n_neighbours: int = 15, min_dist: float = 0.1, seed: int = 0,
             reuse: Path | None = None, overwrite: bool = False,
             on_batch: Callable[[int], None] | None = None) -> MapResult:
    """Fit a map on the embeddings (or place them with the fitted map at `reuse`) and write it to `out`."""
    if reuse is None:
        model, coords = map_embeddings(embeddings, vector_kind, fit_sample, pca_dims, n_neighbours, min_dist, seed,
                                       on_batch=on_batch)
    else:
        model = load_map_model(reuse)
        coords = place_with(model, embeddings, vector_kind, on_batch=on_batch)
    source = {"embeddings": str(embeddings.path.resolve()), "embeddings_manifest_sha256": embeddings.manifest_sha256,
              "vector_kind": vector_kind, "fitted_here": reuse is None,
              "model_from": None if reuse is None else str(Path(reuse).resolve())}
    path = write_map(out, model, embeddings.object_ids, coords, source, overwrite=overwrite)
    return MapResult(model, coords, embeddings.object_ids, embeddings.rows, path)


def mosaic_image(store: Store, survey: Survey, rows: np.ndarray, xy: np.ndarray,
                 n_cells: int = DEFAULT_GRID_CELLS, crop_px: int = DEFAULT_CROP_PX,
                 tile_px: int = DEFAULT_TILE_PX) -> tuple[np.ndarray, mosaic_lib.MosaicCells]:
    """The mosaic sheet of a map over objects at store `rows`, and the cells it shows."""
    cells = mosaic_lib.pick_cells(xy, n_cells)
    chosen_rows = np.asarray(rows, np.int64)[cells.positions]
    order = np.argsort(chosen_rows, kind="stable")  # sorted reads, then back to cell order
    images = np.empty((chosen_rows.size, *store.image_shape), dtype=np.float32)
    images[order] = store.read_images(chosen_rows[order])
    tiles = mosaic_lib.display_tiles(images, survey, crop_px)
    return mosaic_lib.mosaic_sheet(tiles, cells, tile_px=tile_px), cells


def study_sample(fitted: np.ndarray, n: int, seed: int) -> np.ndarray:
    """Sorted embedding positions of up to `n` fitted objects (seeded): the pixel and stationarity samples."""
    candidates = np.flatnonzero(fitted)
    if candidates.size == 0:
        candidates = np.arange(fitted.size)
    if candidates.size <= n:
        return candidates
    return np.sort(np.random.default_rng(seed).choice(candidates, size=n, replace=False))


def pixel_map(encoder, store: Store, result: MapResult, values: np.ndarray | None, column: str | None,
              sample: int = DEFAULT_PIXEL_SAMPLE, seed: int = 0) -> tuple[Figure, dict]:
    """The pixel-space UMAP of a sample of the mapped objects beside their representation positions."""
    positions = study_sample(result.coords.fitted, sample, seed)
    pixels = store_pixel_features(encoder.pipeline, store, result.rows[positions])
    params = result.model.params
    _, pixel_xy = fit_map(pixels, 0, min(params.get("n_neighbors", 15), positions.size - 1),
                          params.get("min_dist", 0.1), seed)
    sample_values = None if values is None else values[positions]
    figure = side_by_side_figure(result.coords.xy[positions], pixel_xy, sample_values, column)
    figures: dict = {"n_objects": int(positions.size), "colour_column": column}
    if sample_values is not None and column is not None:
        from skyssl.science.umap_panels import is_categorical

        if is_categorical(sample_values):
            figures["neighbour_agreement_representations"] = neighbour_agreement(result.coords.xy[positions],
                                                                                 sample_values)
            figures["neighbour_agreement_pixels"] = neighbour_agreement(pixel_xy, sample_values)
    return figure, figures


def stationarity_test(encoder, store: Store, result: MapResult, vector_kind: str = "backbone",
                      sample: int = DEFAULT_STATIONARITY_SAMPLE, seed: int = 0) -> tuple[Figure, dict]:
    """Appendix B: how far augmented views move in the map, against its neighbour and pair distances."""
    from skyssl.embed.copies import augmented_pairs

    positions = study_sample(result.coords.fitted, sample, seed)
    centre, augmented = augmented_pairs(encoder, store, result.rows[positions], vector_kind, seed)
    centre_xy, augmented_xy = result.model.transform(centre), result.model.transform(augmented)
    figures = stationarity(centre_xy, augmented_xy, result.coords.xy, seed)
    transform_shift = np.linalg.norm(centre_xy - result.coords.xy[positions], axis=1)
    figures["median_transform_vs_map_in_neighbour_distances"] = float(
        np.median(transform_shift) / figures["typical_neighbour_distance"])
    return stationarity_figure(centre_xy, augmented_xy, result.coords.xy, figures), figures
