"""Augmented views of stored objects for people to look at (sheets, the demo report), with each object's
catalogue E(B−V), PSF size and depth as the augmentation's starting point where the store has them."""

from __future__ import annotations

import numpy as np
import torch

from skyssl.augment.pipeline import AugmentPipeline
from skyssl.store import Store

CATALOGUE_COLUMNS = ("ebv", "psfsize", "psfdepth")


def catalogue_tensors(store: Store, rows: np.ndarray, repeats: int) -> dict[str, torch.Tensor | None]:
    """The rows' ebv, psfsize, psfdepth as float32 tensors repeated per view; None where absent."""
    out: dict[str, torch.Tensor | None] = {}
    for name in CATALOGUE_COLUMNS:
        if name not in store.columns:
            out[name] = None
            continue
        values = np.asarray(store.read_column(name, rows), dtype=np.float32)
        expected = (rows.size,) if name == "ebv" else (rows.size, store.image_shape[0])
        out[name] = torch.from_numpy(values).repeat_interleave(repeats, dim=0) if values.shape == expected else None
    return out


def augment_rows(pipeline: AugmentPipeline, store: Store, rows: np.ndarray, n_views: int, seed: int) -> np.ndarray:
    """(n_objects, 1 + n_views, C, crop, crop) nmgy: each object's centre crop followed by its views."""
    images = torch.from_numpy(store.read_images(rows))
    columns = catalogue_tensors(store, rows, n_views)
    generator = torch.Generator().manual_seed(seed)
    views = pipeline.views_nmgy(images.repeat_interleave(n_views, dim=0), columns["ebv"], columns["psfsize"],
                                columns["psfdepth"], generator)
    views = views.reshape(rows.size, n_views, *views.shape[1:])
    originals = pipeline.center_nmgy(images)[:, None]
    return torch.cat([originals, views], dim=1).numpy()
