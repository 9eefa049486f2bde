"""The image mosaic of a 2-D map (Hayat et al. 2021, Figure 2): one cutout per occupied cell of a grid.

The map's bounding box is cut into `n_cells × n_cells` cells; each cell holding at least one object
shows the object nearest the cell's centre (Euclidean in map units, ties to the lower position), so
the mosaic reads as a picture of what lives where in the representation space. Empty cells stay
background. Cell (column 0, row 0) is the map's lower-left corner; the sheet puts it bottom-left, so
the mosaic has the orientation of a scatter plot of the same map.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from skyssl.errors import InputError
from skyssl.surveys import Survey
from skyssl.viz.grid import WHITE, image_grid
from skyssl.viz.rgb import survey_rgb, to_uint8


@dataclass(frozen=True)
class MosaicCells:
    """The occupied cells: which object each one shows and where the cell is (x right, y up)."""

    positions: np.ndarray
    cell_x: np.ndarray
    cell_y: np.ndarray
    n_cells: int

    @property
    def tile_index(self) -> np.ndarray:
        """Index of each cell's tile in a sheet of `n_cells` columns whose first row is the map's top."""
        return (self.n_cells - 1 - self.cell_y) * self.n_cells + self.cell_x


def cell_of(values: np.ndarray, low: float, high: float, n_cells: int) -> np.ndarray:
    """Cell index 0 … n_cells−1 of each value along one axis of [low, high]; the top edge joins the last cell."""
    span = high - low if high > low else 1.0
    return np.clip(np.floor((values - low) / span * n_cells), 0, n_cells - 1).astype(np.int64)


def cell_centres(cells: np.ndarray, low: float, high: float, n_cells: int) -> np.ndarray:
    span = high - low if high > low else 1.0
    return low + (cells + 0.5) * span / n_cells


def pick_cells(xy: np.ndarray, n_cells: int) -> MosaicCells:
    """For every occupied cell of an n_cells × n_cells grid over the map, the object nearest its centre."""
    xy = np.asarray(xy, dtype=np.float64)
    if xy.ndim != 2 or xy.shape[1] != 2 or xy.shape[0] == 0:
        raise InputError(f"a mosaic needs (n, 2) map positions with n ≥ 1, not {xy.shape}")
    if n_cells < 1:
        raise InputError(f"a mosaic needs at least one cell per side, got {n_cells}")
    (x0, y0), (x1, y1) = xy.min(axis=0), xy.max(axis=0)
    cx, cy = cell_of(xy[:, 0], x0, x1, n_cells), cell_of(xy[:, 1], y0, y1, n_cells)
    distance2 = ((xy[:, 0] - cell_centres(cx, x0, x1, n_cells)) ** 2
                 + (xy[:, 1] - cell_centres(cy, y0, y1, n_cells)) ** 2)
    cell = cy * n_cells + cx
    order = np.lexsort((np.arange(xy.shape[0]), distance2, cell))
    _, first = np.unique(cell[order], return_index=True)
    chosen = order[first]
    return MosaicCells(chosen, cx[chosen], cy[chosen], n_cells)


def centre_crop(images: np.ndarray, crop_px: int) -> np.ndarray:
    """The central crop_px × crop_px of (n, C, H, W) stamps (0 or larger than the stamp: the whole stamp)."""
    height, width = images.shape[-2:]
    if not crop_px or crop_px >= min(height, width):
        return images
    top, left = (height - crop_px) // 2, (width - crop_px) // 2
    return images[..., top : top + crop_px, left : left + crop_px]


def display_tiles(images_nmgy: np.ndarray, survey: Survey, crop_px: int = 0) -> np.ndarray:
    """uint8 RGB tiles of stamps in the survey's display colours, centre-cropped to `crop_px`."""
    return to_uint8(survey_rgb(centre_crop(np.asarray(images_nmgy), crop_px), survey))


def mosaic_sheet(tiles: np.ndarray, cells: MosaicCells, tile_px: int = 0,
                 background: tuple[int, int, int] = WHITE) -> np.ndarray:
    """One uint8 (H, W, 3) sheet: tile k (uint8 (n, h, w, 3), in `cells` order) at its cell, gapless."""
    tiles = np.asarray(tiles)
    if tiles.shape[0] != cells.positions.size:
        raise InputError(f"{tiles.shape[0]} tiles for {cells.positions.size} occupied cells")
    canvas = np.empty((cells.n_cells**2, *tiles.shape[1:]), dtype=np.uint8)
    canvas[...] = np.asarray(background, dtype=np.uint8)
    canvas[cells.tile_index] = tiles
    return image_grid(canvas, columns=cells.n_cells, gutter_px=0, tile_px=tile_px, background=background)
