"""Relevance feedback: "more like these, not like those" as a linear probe fitted on the marked examples.

A reviewer marks a handful of results positive or negative; a logistic-regression probe
(:func:`skyssl.mining.probe.fit_logistic`) is fitted on their unit vectors and every object in the
index is ranked by it. With only a few negatives the decision boundary is unconstrained, so random
background objects join the negatives — for a rare class (lenses at 1:4000) a random object is almost
surely not one, the same assumption Stein et al. 2022 make when they train on unlabelled backgrounds.
The background draw is seeded by the marked ids, so the same marks give the same ranking.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

from skyssl.errors import InputError
from skyssl.search.index import SearchIndex
from skyssl.search.query import suppress_near_duplicates
from skyssl.search.topk import normalise_rows

MIN_NEGATIVES = 32
NEGATIVES_PER_POSITIVE = 4
SCORE_BATCH = 65536


@dataclass(frozen=True)
class FeedbackRanking:
    """Positions ranked by the probe, their probabilities, and how many background negatives were drawn."""

    positions: np.ndarray
    probabilities: np.ndarray
    n_background: int


def background_positions(n_objects: int, marked: np.ndarray, n_wanted: int, seed: int) -> np.ndarray:
    """Up to `n_wanted` random unmarked positions (fewer when the index has fewer to give)."""
    pool = np.setdiff1d(np.arange(n_objects), marked)
    n = min(n_wanted, pool.size)
    return np.sort(np.random.default_rng(seed).choice(pool, size=n, replace=False)) if n else pool[:0]


def marks_seed(positive_ids: list[int], negative_ids: list[int]) -> int:
    """A seed that depends only on which ids were marked how."""
    return zlib.crc32(repr((sorted(positive_ids), sorted(negative_ids))).encode())


def sigmoid(logits: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(logits, dtype=np.float64)))


def fit_feedback_probe(index: SearchIndex, positive: np.ndarray, negative: np.ndarray, seed: int):
    """The probe, and the number of background negatives it was trained with."""
    from skyssl.mining.probe import fit_logistic

    marked = np.union1d(positive, negative)
    n_background = max(0, max(MIN_NEGATIVES, NEGATIVES_PER_POSITIVE * positive.size) - negative.size)
    background = background_positions(index.n_objects, marked, n_background, seed)
    negatives = np.concatenate([negative, background])
    if negatives.size == 0:
        raise InputError("relevance feedback needs a negative example, and this index has no other objects to use")
    train = np.concatenate([positive, negatives])
    labels = np.concatenate([np.ones(positive.size, np.int64), np.zeros(negatives.size, np.int64)])
    return fit_logistic(index.unit_vectors(train), labels), int(background.size)


def probe_logits(index: SearchIndex, probe) -> np.ndarray:
    """The probe's logit for every position, streamed through the embeddings in batches."""
    logits = np.empty(index.n_objects, dtype=np.float64)
    for positions, vectors in index.embeddings.iter_batches(index.vector_kind, SCORE_BATCH):
        logits[positions] = np.asarray(probe.decision_function(normalise_rows(vectors)), np.float64).reshape(-1)
    return logits


def rank_by_feedback(index: SearchIndex, positive_ids: list[int], negative_ids: list[int], k: int,
                     excluded: np.ndarray, min_separation_arcsec: float | None = None) -> FeedbackRanking:
    """The k best positions by a probe fitted on the marks; marked and `excluded` positions never returned."""
    if not positive_ids:
        raise InputError("relevance feedback needs at least one positive example")
    if set(positive_ids) & set(negative_ids):
        raise InputError(f"object {sorted(set(positive_ids) & set(negative_ids))[0]} is marked both positive and "
                         "negative")
    positive, negative = index.positions(positive_ids), index.positions(negative_ids)
    probe, n_background = fit_feedback_probe(index, positive, negative, marks_seed(positive_ids, negative_ids))
    logits = probe_logits(index, probe)
    logits[np.union1d(np.union1d(positive, negative), excluded).astype(np.int64)] = -np.inf
    n_candidates = int(np.isfinite(logits).sum())
    fetch = min(n_candidates, 4 * k if min_separation_arcsec else k)
    top = np.argpartition(-logits, fetch - 1)[:fetch] if fetch else np.zeros(0, np.int64)
    top = top[np.lexsort((top, -logits[top]))]
    if min_separation_arcsec:
        top = top[suppress_near_duplicates(index.sky.xyz[top], index.sky.xyz[positive], min_separation_arcsec, k)]
    top = top[:k]
    return FeedbackRanking(top, sigmoid(logits[top]), n_background)
