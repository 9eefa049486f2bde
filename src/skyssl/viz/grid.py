"""Image grids and inspection sheets: many RGB tiles assembled into one uint8 array.

A sheet of 500 cutouts is one array copy, not 500 matplotlib axes, so a visual-inspection campaign
over 10⁵ candidates costs seconds. Text labels (object ids, scores) are drawn with PIL's default font.

Orientation: stored cutouts follow the FITS/coadd convention, row index increasing to the north and
column index to the west. A PNG draws row 0 at the top, so by default every tile's rows are flipped
(``[::-1]``, as the original plotting did), which shows north up and east left.

Tile k sits at row ``k // columns`` and column ``k % columns``; its top-left pixel is
:meth:`GridLayout.origin`. Gutters of `gutter_px` surround every tile, the outer edge included.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from skyssl.errors import SkysslError
from skyssl.viz.png import save_png
from skyssl.viz.rgb import to_uint8

__all__ = [
    "GridLayout", "image_grid", "inspection_sheets", "resize_tiles", "save_png", "tile_labels",
]

WHITE = (255, 255, 255)
BLACK = (0, 0, 0)


@dataclass(frozen=True)
class GridLayout:
    """Where the tiles of a grid go: `n_tiles` tiles of (tile_h_px, tile_w_px) in `columns` columns."""

    n_tiles: int
    columns: int
    tile_h_px: int
    tile_w_px: int
    gutter_px: int

    @property
    def rows(self) -> int:
        return max(1, -(-self.n_tiles // self.columns))

    @property
    def shape(self) -> tuple[int, int]:
        """(height, width) of the sheet in pixels."""
        g = self.gutter_px
        return self.rows * (self.tile_h_px + g) + g, self.columns * (self.tile_w_px + g) + g

    def origin(self, index: int) -> tuple[int, int]:
        """(y, x) of the top-left pixel of tile `index`."""
        row, col = divmod(index, self.columns)
        g = self.gutter_px
        return g + row * (self.tile_h_px + g), g + col * (self.tile_w_px + g)


def _as_tiles(tiles: np.ndarray) -> np.ndarray:
    """(n, H, W, 3) uint8 tiles; float tiles are taken as [0, 1] display RGB."""
    tiles = np.asarray(tiles)
    if tiles.ndim != 4 or tiles.shape[-1] != 3:
        raise SkysslError(f"grid tiles must be (n, H, W, 3) RGB, not {tiles.shape}")
    return tiles if tiles.dtype == np.uint8 else to_uint8(tiles)


def resize_tiles(tiles: np.ndarray, tile_px: int | None) -> np.ndarray:
    """Square tiles of `tile_px` (0 or None: native size).

    Enlarging keeps pixels square and sharp (nearest neighbour; an exact repeat for integer factors)
    so that single-pixel artefacts stay visible; shrinking averages pixel areas (PIL's BOX filter),
    which avoids the aliasing of plain subsampling.
    """
    tiles = _as_tiles(tiles)
    n, height, width, _ = tiles.shape
    if not tile_px or (tile_px == height and tile_px == width):
        return tiles
    if tile_px < 1:
        raise SkysslError(f"tile size must be positive pixels, not {tile_px}")
    if height == width and tile_px % height == 0:
        factor = tile_px // height
        return np.repeat(np.repeat(tiles, factor, axis=1), factor, axis=2)
    resample = Image.Resampling.NEAREST if tile_px > max(height, width) else Image.Resampling.BOX
    out = np.empty((n, tile_px, tile_px, 3), dtype=np.uint8)
    for k in range(n):
        out[k] = np.asarray(Image.fromarray(tiles[k]).resize((tile_px, tile_px), resample=resample))
    return out


def _assemble(tiles: np.ndarray, layout: GridLayout, background: tuple[int, int, int]) -> np.ndarray:
    """Place tiles by one reshape/transpose copy; empty trailing cells keep the background."""
    n, h, w, _ = tiles.shape
    g, rows, cols = layout.gutter_px, layout.rows, layout.columns
    cells = np.empty((rows, h + g, cols, w + g, 3), dtype=np.uint8)
    cells[...] = np.asarray(background, dtype=np.uint8)
    padded = np.empty((rows * cols, h, w, 3), dtype=np.uint8)
    padded[n:] = np.asarray(background, dtype=np.uint8)
    padded[:n] = tiles
    cells[:, g:, :, g:] = padded.reshape(rows, cols, h, w, 3).transpose(0, 2, 1, 3, 4)
    sheet = np.empty((*layout.shape, 3), dtype=np.uint8)
    sheet[...] = np.asarray(background, dtype=np.uint8)
    sheet[: rows * (h + g), : cols * (w + g)] = cells.reshape(rows * (h + g), cols * (w + g), 3)
    return sheet


def _default_font(size_px: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    """PIL's default font at `size_px` where Pillow can scale it (≥ 10.1), else its fixed bitmap font."""
    try:
        return ImageFont.load_default(size=size_px)
    except TypeError:  # pragma: no cover (Pillow < 10.1)
        return ImageFont.load_default()


def draw_labels(
    sheet: np.ndarray, layout: GridLayout, labels: Sequence[object], font_px: int | None = None
) -> np.ndarray:
    """Write one label per tile in its top-left corner, white on a black box so it reads on any sky.

    Labels may hold several lines ("id\\nscore"). Returns a new array; `sheet` is left as it was.
    """
    if len(labels) > layout.n_tiles:
        raise SkysslError(f"{len(labels)} labels for {layout.n_tiles} tiles")
    size = font_px or int(np.clip(layout.tile_w_px // 12, 8, 16))
    font = _default_font(size)
    out = sheet.copy()
    h, w = layout.tile_h_px, layout.tile_w_px
    for index, label in enumerate(labels):
        text = str(label)
        if not text:
            continue
        y0, x0 = layout.origin(index)
        # Drawing on the tile's own crop keeps long text from spilling into a neighbour or a gutter.
        tile = Image.fromarray(out[y0 : y0 + h, x0 : x0 + w])
        draw = ImageDraw.Draw(tile)
        draw.fontmode = "1"  # no anti-aliasing: small text stays crisp and exactly white on black
        _, _, right, bottom = draw.multiline_textbbox((1, 1), text, font=font)
        draw.rectangle((0, 0, right + 1, bottom + 1), fill=BLACK)
        draw.multiline_text((1, 1), text, fill=WHITE, font=font)
        out[y0 : y0 + h, x0 : x0 + w] = np.asarray(tile)
    return out


def image_grid(
    tiles: np.ndarray,
    columns: int = 10,
    gutter_px: int = 2,
    labels: Sequence[object] | None = None,
    flip_rows: bool = True,
    tile_px: int | None = 0,
    background: tuple[int, int, int] = WHITE,
    font_px: int | None = None,
) -> np.ndarray:
    """One uint8 (H, W, 3) sheet of RGB tiles (n, h, w, 3), uint8 or float [0, 1].

    `flip_rows` shows north up and east left for tiles in storage order (see the module notes);
    `tile_px` resizes every tile first (0: native); `labels` adds one text label per tile.
    """
    tiles = _as_tiles(tiles)
    if columns < 1:
        raise SkysslError(f"a grid needs at least one column, not {columns}")
    if gutter_px < 0:
        raise SkysslError(f"gutter must be ≥ 0 pixels, not {gutter_px}")
    if labels is not None and len(labels) != len(tiles):
        raise SkysslError(f"{len(labels)} labels for {len(tiles)} tiles")
    if flip_rows:
        tiles = tiles[:, ::-1]
    tiles = resize_tiles(tiles, tile_px)
    _, h, w, _ = tiles.shape
    layout = GridLayout(len(tiles), columns, h, w, gutter_px)
    sheet = _assemble(tiles, layout, background)
    if labels is not None:
        sheet = draw_labels(sheet, layout, labels, font_px=font_px)
    return sheet


def inspection_sheets(
    tiles: np.ndarray,
    labels: Sequence[object] | None = None,
    columns: int = 5,
    rows: int = 100,
    **grid_options: object,
) -> Iterator[np.ndarray]:
    """Consecutive sheets of `columns × rows` tiles (default 5 × 100 = 500), in tile order.

    Visual inspection of ranked candidates goes sheet by sheet, so the top of the ranking is on the
    first sheet. Extra keyword arguments go to :func:`image_grid`.
    """
    per_sheet = columns * rows
    if per_sheet < 1:
        raise SkysslError(f"a sheet needs at least one tile, not {columns} × {rows}")
    for start in range(0, len(tiles), per_sheet):
        stop = start + per_sheet
        sheet_labels = None if labels is None else labels[start:stop]
        yield image_grid(tiles[start:stop], columns=columns, labels=sheet_labels, **grid_options)


def tile_labels(
    object_ids: Sequence[int] | np.ndarray, scores: Sequence[float] | np.ndarray | None = None,
    score_format: str = "{:.3f}",
) -> list[str]:
    """Per-tile label text: the object id, with the score on a second line when given."""
    ids = [str(int(i)) for i in np.asarray(object_ids).ravel()]
    if scores is None:
        return ids
    values = np.asarray(scores).ravel()
    if values.size != len(ids):
        raise SkysslError(f"{values.size} scores for {len(ids)} ids")
    return [f"{i}\n{score_format.format(float(s))}" for i, s in zip(ids, values, strict=True)]
