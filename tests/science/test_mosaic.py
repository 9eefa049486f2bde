"""The mosaic: the object nearest each occupied cell's centre, placed where the cell is on the map."""

from __future__ import annotations

import numpy as np
import pytest

from skyssl.errors import InputError
from skyssl.science.mosaic import cell_of, centre_crop, display_tiles, mosaic_sheet, pick_cells
from skyssl.surveys import get


def test_each_occupied_cell_shows_the_object_nearest_its_centre():
    # The map spans [0, 4] × [0, 4]; a 2 × 2 grid has cells of 2 with centres at 1 and 3.
    xy = np.array([
        [0.0, 0.0],   # 0: bounds, lower-left cell, far from (1, 1)
        [4.0, 4.0],   # 1: bounds, upper-right cell, far from (3, 3)
        [1.2, 0.9],   # 2: lower-left, 0.22 from its centre: chosen
        [0.5, 0.5],   # 3: lower-left, 0.71 away
        [3.0, 3.5],   # 4: upper-right, 0.5 away: chosen
        [3.6, 2.6],   # 5: upper-right, 0.72 away
        [0.5, 3.0],   # 6: upper-left, 0.5 away
        [1.5, 3.0],   # 7: upper-left, 0.5 away too: the tie goes to the lower position, 6
    ])
    cells = pick_cells(xy, 2)
    picked = dict(zip(zip(cells.cell_x.tolist(), cells.cell_y.tolist(), strict=True), cells.positions.tolist(),
                      strict=True))
    assert picked == {(0, 0): 2, (1, 1): 4, (0, 1): 6}  # (1, 0), lower-right, is empty
    # Sheet order puts the map's top row first: upper-left is tile 0, upper-right 1, lower-left 2.
    tile_of = dict(zip(cells.positions.tolist(), cells.tile_index.tolist(), strict=True))
    assert tile_of == {6: 0, 4: 1, 2: 2}


def test_cell_edges_and_a_degenerate_axis():
    assert cell_of(np.array([0.0, 0.49, 0.5, 1.0]), 0.0, 1.0, 2).tolist() == [0, 0, 1, 1]
    cells = pick_cells(np.array([[1.0, 5.0], [1.0, 5.0], [1.0, 5.0]]), 4)  # every point identical
    assert cells.positions.tolist() == [0]


def test_the_sheet_puts_each_tile_in_its_cell_and_leaves_empty_cells_background():
    xy = np.array([[0.0, 0.0], [1.0, 1.0]])  # lower-left and upper-right of a 2 × 2 grid
    cells = pick_cells(xy, 2)
    tiles = np.zeros((2, 3, 3, 3), dtype=np.uint8)
    tiles[cells.positions == 0] = 10
    tiles[cells.positions == 1] = 200
    sheet = mosaic_sheet(tiles, cells, background=(255, 255, 255))
    assert sheet.shape == (6, 6, 3)
    assert (sheet[:3, 3:] == 200).all()   # upper-right: object 1
    assert (sheet[3:, :3] == 10).all()    # lower-left: object 0
    assert (sheet[:3, :3] == 255).all() and (sheet[3:, 3:] == 255).all()
    with pytest.raises(InputError, match="1 tiles for 2 occupied cells"):
        mosaic_sheet(tiles[:1], cells)


def test_crops_and_display_tiles():
    images = np.zeros((2, 3, 10, 10), dtype=np.float32)
    images[:, :, 4:6, 4:6] = 1.0
    assert centre_crop(images, 4).shape == (2, 3, 4, 4) and centre_crop(images, 4)[..., 1:3, 1:3].min() == 1.0
    assert centre_crop(images, 0) is images and centre_crop(images, 20) is images
    tiles = display_tiles(images, get("legacy"), crop_px=4)
    assert tiles.shape == (2, 4, 4, 3) and tiles.dtype == np.uint8
    assert tiles[0, 1, 1].sum() > tiles[0, 0, 0].sum()  # the bright centre is brighter than the sky


@pytest.mark.parametrize(("xy", "cells", "message"), [
    (np.zeros((0, 2)), 4, "n ≥ 1"),
    (np.zeros((3, 3)), 4, "\\(n, 2\\)"),
    (np.zeros((3, 2)), 0, "at least one cell"),
])
def test_bad_mosaic_input(xy, cells, message):
    with pytest.raises(InputError, match=message):
        pick_cells(xy, cells)
