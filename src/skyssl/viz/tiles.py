"""Display tiles of a store's cutouts: the survey that colours them, and uint8 RGB tiles read batch by batch.

Used by every sheet, mosaic and thumbnail, so that they all show a store in the same colours.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from skyssl import surveys
from skyssl.errors import InputError
from skyssl.viz.rgb import lupton_rgb, survey_rgb, to_uint8

if TYPE_CHECKING:
    from skyssl.store import Store

BATCH_OBJECTS = 256  # float RGB is made per batch and kept as uint8, so memory stays ~1 byte/pixel
RGB_CHOICES = ("dr2", "lupton")


def display_survey(store: Store) -> surveys.Survey:
    """The survey whose display preset colours this store (named in the store, or found by its bands)."""
    if store.survey is not None:
        return store.survey
    if store.bands is None:
        raise InputError(f"{store.path}: the store names neither a survey nor its bands; cannot colour it")
    return surveys.by_bands(store.bands)


def store_tiles(store: Store, rows: np.ndarray, rgb: str = "dr2") -> np.ndarray:
    """uint8 RGB tiles (n, H, W, 3) of the given rows, read and coloured batch by batch."""
    if rgb not in RGB_CHOICES:
        raise InputError(f"rgb must be one of {', '.join(RGB_CHOICES)}, not {rgb!r}")
    survey = display_survey(store)
    _, height, width = store.image_shape
    tiles = np.empty((rows.size, height, width, 3), dtype=np.uint8)
    for start in range(0, rows.size, BATCH_OBJECTS):
        images = store.read_images(rows[start : start + BATCH_OBJECTS])
        colour = survey_rgb(images, survey) if rgb == "dr2" else lupton_rgb(images, survey)
        tiles[start : start + BATCH_OBJECTS] = to_uint8(colour)
    return tiles
