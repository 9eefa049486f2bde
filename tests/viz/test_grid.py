"""Image grids: one array, tiles where GridLayout says, labels drawn, atomic PNG writes."""

import numpy as np
import pytest
from PIL import Image

from skyssl.errors import SkysslError
from skyssl.viz.grid import GridLayout, image_grid, inspection_sheets, resize_tiles, save_png, tile_labels


def constant_tiles(n: int, size: int = 8) -> np.ndarray:
    """Tile k is filled with a colour unique to k (for k < 256²)."""
    k = np.arange(n)
    colours = np.stack([k % 256, k // 256, np.full(n, 7)], axis=1).astype(np.uint8)
    return np.broadcast_to(colours[:, None, None, :], (n, size, size, 3)).copy()


def test_500_tile_sheet_shape_and_placement():
    tiles = constant_tiles(500)
    sheet = image_grid(tiles, columns=5, gutter_px=2)
    layout = GridLayout(500, 5, 8, 8, 2)
    assert layout.rows == 100
    assert sheet.shape == (100 * 10 + 2, 5 * 10 + 2, 3) == (*layout.shape, 3)
    assert sheet.dtype == np.uint8
    for k in range(500):
        y, x = layout.origin(k)
        block = sheet[y : y + 8, x : x + 8]
        assert (block == tiles[k, 0, 0]).all(), k
    # gutters are background white
    assert (sheet[:2] == 255).all() and (sheet[:, :2] == 255).all()
    assert (sheet[10:12, 2:10] == 255).all()


def test_partial_last_row_is_background():
    sheet = image_grid(constant_tiles(7), columns=3, gutter_px=1, background=(0, 0, 0))
    layout = GridLayout(7, 3, 8, 8, 1)
    y, x = layout.origin(8)  # empty cell after the last tile
    assert sheet.shape == (3 * 9 + 1, 3 * 9 + 1, 3)
    assert (sheet[y : y + 8, x : x + 8] == 0).all()


def test_row_flip_puts_storage_row_zero_at_bottom():
    tile = np.zeros((1, 4, 4, 3), dtype=np.uint8)
    tile[0, 0] = 200  # storage row 0 (south)
    flipped = image_grid(tile, columns=1, gutter_px=0)
    unflipped = image_grid(tile, columns=1, gutter_px=0, flip_rows=False)
    assert (flipped[3] == 200).all() and (flipped[:3] == 0).all()
    assert (unflipped[0] == 200).all()


def test_labels_drawn_inside_their_tiles_only():
    tiles = np.full((6, 40, 40, 3), 90, dtype=np.uint8)
    labels = tile_labels(np.arange(6) + 1_000_000_000_000)
    plain = image_grid(tiles, columns=3, gutter_px=3)
    labelled = image_grid(tiles, columns=3, gutter_px=3, labels=labels)
    layout = GridLayout(6, 3, 40, 40, 3)
    changed = np.any(labelled != plain, axis=2)
    for k in range(6):
        y, x = layout.origin(k)
        corner = labelled[y : y + 12, x : x + 40]
        assert (corner == 255).all(axis=2).any() and (corner == 0).all(axis=2).any()  # white on black
        assert not changed[y + 30 : y + 40, x : x + 40].any()  # bottom of the tile untouched
        changed[y : y + 40, x : x + 40] = False
    assert not changed.any()  # nothing spilled into the gutters


def test_labels_with_scores_and_count_check():
    assert tile_labels([5, 6], [0.12345, 1.0]) == ["5\n0.123", "6\n1.000"]
    with pytest.raises(SkysslError):
        image_grid(constant_tiles(3), labels=["a"])
    with pytest.raises(SkysslError):
        tile_labels([1, 2], [0.5])


def test_resize_tiles():
    tiles = constant_tiles(3, size=4)
    assert resize_tiles(tiles, 0) is tiles
    up = resize_tiles(tiles, 12)
    assert up.shape == (3, 12, 12, 3) and (up == tiles[:, :1, :1]).all()
    down = resize_tiles(tiles, 3)
    assert down.shape == (3, 3, 3, 3) and (down == tiles[:, :1, :1]).all()
    odd = resize_tiles(tiles, 10)
    assert odd.shape == (3, 10, 10, 3)


def test_float_tiles_converted():
    sheet = image_grid(np.full((2, 3, 3, 3), 0.5, dtype=np.float32), columns=2, gutter_px=0)
    assert (sheet == 128).all()


def test_inspection_sheets_split_in_order():
    tiles = constant_tiles(23)
    sheets = list(inspection_sheets(tiles, labels=None, columns=2, rows=5, gutter_px=0))
    assert len(sheets) == 3
    assert sheets[0].shape == (5 * 8, 2 * 8, 3)
    assert (sheets[1][0, 0] == tiles[10, 0, 0]).all()
    assert sheets[2].shape == (2 * 8, 2 * 8, 3)  # 3 tiles left: 2 rows


def test_save_png_atomic_roundtrip(tmp_path):
    sheet = image_grid(constant_tiles(4), columns=2)
    path = save_png(sheet, tmp_path / "sheet.png")
    with Image.open(path) as image:
        np.testing.assert_array_equal(np.asarray(image), sheet)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sheet.png"]
    with pytest.raises(SkysslError):
        save_png(sheet, tmp_path / "missing" / "sheet.png")
    with pytest.raises(SkysslError):
        save_png(np.zeros((2, 2, 5), np.uint8), tmp_path / "bad.png")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sheet.png"]


def test_failed_write_leaves_nothing(tmp_path, monkeypatch):
    import skyssl.viz.png as png

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(png.os, "replace", broken_replace)
    with pytest.raises(OSError):
        save_png(constant_tiles(1)[0], tmp_path / "sheet.png")
    assert list(tmp_path.iterdir()) == []
