"""Thumbnails rendered from the store itself, in the survey's display RGB, and kept in a memory LRU.

The authors' app fetched every thumbnail from an external cutout service; here a thumbnail is one
random-access read of the stamp, the viewer's colour mapping (:func:`skyssl.viz.survey_rgb`), rows
flipped so north is up and east left, and a resize. PNG bytes are cached by (object, size) under a byte
budget, and each carries a strong ETag (a digest of its bytes) so browsers revalidate for free.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from skyssl import surveys
from skyssl.errors import InputError
from skyssl.store import Store
from skyssl.viz import encode_png, resize_tiles, survey_rgb, to_uint8
from skyssl.viz.tiles import display_survey

MIN_SIZE_PX, MAX_SIZE_PX, DEFAULT_SIZE_PX = 32, 512, 128
DEFAULT_CACHE_BYTES = 64 * 2**20


@dataclass(frozen=True)
class Thumbnail:
    png: bytes
    etag: str


def render_thumbnail_png(image_nmgy: np.ndarray, survey: surveys.Survey, size_px: int) -> bytes:
    """PNG of one (C, H, W) stamp: display RGB, north up, resized to size_px × size_px."""
    rgb = to_uint8(survey_rgb(image_nmgy, survey))[::-1]
    return encode_png(resize_tiles(rgb[None], size_px)[0])


class ThumbnailCache:
    """Renders thumbnails of store rows on demand; thread-safe LRU of PNG bytes under a byte budget."""

    def __init__(self, store: Store, max_bytes: int = DEFAULT_CACHE_BYTES):
        self.store = store
        self.survey = display_survey(store)
        self.max_bytes = max_bytes
        self._entries: OrderedDict[tuple[int, int], Thumbnail] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, row: int, size_px: int = DEFAULT_SIZE_PX) -> Thumbnail:
        if not MIN_SIZE_PX <= size_px <= MAX_SIZE_PX:
            raise InputError(f"thumbnail size must be {MIN_SIZE_PX} to {MAX_SIZE_PX} pixels, got {size_px}")
        key = (int(row), int(size_px))
        with self._lock:
            cached = self._entries.get(key)
            if cached is not None:
                self._entries.move_to_end(key)
                self.hits += 1
                return cached
            self.misses += 1
        png = render_thumbnail_png(self.store.read_images([row])[0], self.survey, size_px)
        thumbnail = Thumbnail(png, f'"{hashlib.blake2b(png, digest_size=12).hexdigest()}"')
        with self._lock:
            if key not in self._entries:
                self._entries[key] = thumbnail
                self._bytes += len(png)
            while self._bytes > self.max_bytes and len(self._entries) > 1:
                _, evicted = self._entries.popitem(last=False)
                self._bytes -= len(evicted.png)
        return thumbnail
