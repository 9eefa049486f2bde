"""Image queries: a cutout file in, the vector a search index compares with out.

A query image must look like the stamps the index was built from — the store's band count, order and
stamp size, in nanomaggies per pixel — because it goes through exactly the same centre view and input
stretch; anything else would be compared in a different space. Files are `.npy` (loaded without
pickles) or FITS (the first HDU with data), shaped (C, H, W).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from skyssl.embed.model import TrainedEncoder
from skyssl.errors import InputError, SkysslError

FITS_SUFFIXES = (".fits", ".fit", ".fts", ".fits.gz", ".fit.gz")


def _read_fits(path: Path) -> np.ndarray:
    from astropy.io import fits

    try:
        with fits.open(path, memmap=False) as hdus:
            for hdu in hdus:
                if hdu.data is not None and getattr(hdu.data, "ndim", 0) >= 2 and hdu.data.dtype.kind in "fiu":
                    return np.array(hdu.data)
    except OSError as exc:
        raise InputError(f"{path} is not a readable FITS file ({str(exc).splitlines()[0]})") from None
    raise InputError(f"{path} holds no image HDU")


def _read_npy(path: Path) -> np.ndarray:
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise InputError(f"{path} is not a readable .npy array ({str(exc).splitlines()[0]})") from None


def load_cutout(path: str | Path) -> np.ndarray:
    """A cutout file as float32 (C, H, W); one-line :class:`InputError` for anything else."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such image file")
    name = path.name.lower()
    if name.endswith(FITS_SUFFIXES):
        image = _read_fits(path)
    elif name.endswith(".npy"):
        image = _read_npy(path)
    else:
        raise InputError(f"{path}: give the cutout as .npy or .fits (C, H, W) in nanomaggies")
    if not isinstance(image, np.ndarray) or image.dtype.kind not in "fiu":
        raise InputError(f"{path} does not hold a numeric array")
    image = image.astype(np.float32)
    if image.ndim != 3:
        raise InputError(f"{path} holds an array of shape {image.shape}; expected (bands, height, width)")
    if not np.isfinite(image).all():
        raise InputError(f"{path} holds non-finite pixels")
    return image


def check_query_shape(image: np.ndarray, expected: tuple[int, int, int], where: str) -> None:
    """The query must be shaped like the store's stamps (bands, height, width)."""
    if tuple(image.shape) != tuple(expected):
        raise InputError(f"{where}: image of shape {tuple(image.shape)}, but the indexed store holds (bands, height, "
                         f"width) = {tuple(expected)} in nanomaggies")


def image_embedder(encoder: TrainedEncoder, vector_kind: str, expected_shape: tuple[int, int, int]
                   ) -> Callable[[np.ndarray], np.ndarray]:
    """`embed_image_fn` for :class:`skyssl.search.index.SearchIndex`: (C, H, W) nmgy → (D,) of `vector_kind`."""
    if vector_kind not in ("backbone", "projection"):
        raise SkysslError(f"cannot embed images as {vector_kind!r} vectors")

    def embed(image_nmgy: np.ndarray) -> np.ndarray:
        image = np.asarray(image_nmgy, np.float32)
        check_query_shape(image, expected_shape, "query")
        vectors = encoder.embed_images(torch.from_numpy(image)[None], projection=vector_kind == "projection")
        return vectors[vector_kind][0].float().cpu().numpy()

    return embed


def check_same_checkpoint(recorded: dict | None, encoder: TrainedEncoder, what: str) -> None:
    """Refuse vectors of another model: a query embedded by different weights lands in another space."""
    sha = (recorded or {}).get("sha256")
    if sha and sha != encoder.checkpoint_sha256:
        raise SkysslError(f"{what} were made with checkpoint {sha[:12]}…, but {encoder.checkpoint} is "
                          f"{encoder.checkpoint_sha256[:12]}…; use the run that made them")
