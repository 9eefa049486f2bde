"""Augmented copies of stored objects, embedded next to their centre views (Stein et al. 2021's check).

A representation good for similarity search maps an object and a survey-physics augmentation of it
(other PSF, noise, reddening, orientation) close together, and still apart from every other object.
So: take a sample of objects, embed each one's centre view and one augmented view, and ask how often
an augmented view's nearest centre view is its own — a label-free measure on any store. This module
makes the two sets of vectors; :func:`skyssl.search.evaluate.augmented_copy_top1_rate` scores them.

The views come from the run's own :class:`~skyssl.augment.pipeline.AugmentPipeline` with the
objects' catalogue conditions (E(B−V), PSF size and depth; missing ones are drawn from the survey
priors) and a generator seeded once, so the same seed gives the same views and the same figure.
"""

from __future__ import annotations

import numpy as np
import torch

from skyssl.embed.extract import batch_spans
from skyssl.embed.model import TrainedEncoder
from skyssl.errors import SkysslError
from skyssl.store import Store
from skyssl.train.data import read_conditions

DEFAULT_COPIES = 1000


def sample_rows(rows: np.ndarray, n: int, seed: int) -> np.ndarray:
    """Up to `n` of `rows`, drawn without replacement from `seed`, in ascending order (sequential reads)."""
    rows = np.asarray(rows, np.int64).ravel()
    if n < 1:
        raise SkysslError(f"the number of augmented copies must be at least 1, got {n}")
    if rows.size <= n:
        return np.sort(rows)
    return np.sort(np.random.default_rng(seed).choice(rows, size=n, replace=False))


def augmented_pairs(encoder: TrainedEncoder, store: Store, rows: np.ndarray, vector_kind: str = "backbone",
                    seed: int = 0, batch_size: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """(centre-view vectors, augmented-view vectors), float32 (n, D), row i of both from store row rows[i]."""
    if vector_kind not in ("backbone", "projection"):
        raise SkysslError(f"unknown vector kind {vector_kind!r}; choose backbone or projection")
    encoder.check_store(store)
    rows = np.asarray(rows, np.int64).ravel()
    conditions, _ = read_conditions(store)
    device = encoder.device
    generator = torch.Generator(device=device)
    generator.manual_seed(seed)
    projection = vector_kind == "projection"
    centre, augmented = [], []
    for a, b in batch_spans(0, rows.size, batch_size):
        batch = rows[a:b]
        images = torch.from_numpy(store.read_images(batch)).to(device)
        ebv, psfsize, psfdepth = (torch.from_numpy(conditions[name][batch]).to(device)
                                  for name in ("ebv", "psfsize", "psfdepth"))
        centre.append(encoder.embed_images(images, projection)[vector_kind].float().cpu())
        views = encoder.pipeline(images, ebv, psfsize, psfdepth, generator)
        augmented.append(encoder.embed_views(views, projection)[vector_kind].float().cpu())
    return torch.cat(centre).numpy(), torch.cat(augmented).numpy()
