"""Pure pieces of a query: the query vector from examples, and near-duplicate suppression.

Several positive examples are combined as the mean of their unit vectors (each example counts the
same, whatever its norm); negative examples are subtracted the same way, which steers the query away
from what they share. The result is renormalised so that scores stay cosines.

Near-duplicates: a survey often deblends one galaxy into two sources, or lists an object twice at
the edge of two bricks; both then top each other's neighbour lists. A result closer than a given
angle to a better-ranked result — or to the query itself — is dropped.
"""

from __future__ import annotations

import numpy as np

from skyssl.errors import InputError
from skyssl.search.coords import arcsec_to_chord
from skyssl.search.topk import normalise_rows


def combine_examples(positive: np.ndarray, negative: np.ndarray | None = None) -> np.ndarray:
    """Unit query vector: mean of unit positives minus mean of unit negatives."""
    positive = np.atleast_2d(np.asarray(positive, np.float32))
    if positive.shape[0] == 0:
        raise InputError("a query needs at least one positive example")
    query = normalise_rows(positive).mean(axis=0)
    if negative is not None and len(negative):
        query = query - normalise_rows(np.atleast_2d(np.asarray(negative, np.float32))).mean(axis=0)
    if not np.linalg.norm(query) > 0:
        raise InputError("the positive and negative examples cancel out; no direction is left to search along")
    return normalise_rows(query[None, :])[0]


def suppress_near_duplicates(candidate_xyz: np.ndarray, anchor_xyz: np.ndarray, min_separation_arcsec: float,
                             limit: int) -> np.ndarray:
    """Indices (in rank order) of candidates at least `min_separation_arcsec` from every anchor and
    every better-ranked kept candidate; stops after `limit` kept. Positions are unit vectors."""
    max_dot = 1.0 - arcsec_to_chord(min_separation_arcsec) ** 2 / 2.0  # cos θ = 1 − chord²/2
    kept: list[int] = []
    kept_xyz = np.empty((0, 3))
    anchor_xyz = np.atleast_2d(anchor_xyz) if len(anchor_xyz) else np.empty((0, 3))
    for i, xyz in enumerate(candidate_xyz):
        if anchor_xyz.size and (anchor_xyz @ xyz > max_dot).any():
            continue
        if kept_xyz.size and (kept_xyz @ xyz > max_dot).any():
            continue
        kept.append(i)
        kept_xyz = np.vstack([kept_xyz, xyz])
        if len(kept) >= limit:
            break
    return np.asarray(kept, dtype=np.int64)
