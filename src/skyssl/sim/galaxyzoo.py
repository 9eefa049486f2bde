"""Galaxy-Zoo-style vote fractions from the truth, as volunteers would give them.

Volunteers see features only when a galaxy is big and bright enough: each question's true answer is
blurred by a visibility factor, then votes are binomial draws (N ~ Poisson(40); 10 % get only 1–5)
around a per-galaxy Beta-scattered probability. So the fractions are noisy, biased to "smooth" for faint
galaxies — like real GZ labels — and later morphology studies can select "high-quality" labels.
"""

from __future__ import annotations

import numpy as np

QUESTIONS = ("smooth", "featured", "edge_on", "bar", "spiral", "merger")
FEATURED_CLASSES = ("spiral", "barred_spiral", "ring", "collisional_ring", "edge_on", "merger", "clumpy")


def visibility(r_half_arcsec: np.ndarray, mag_r: np.ndarray) -> np.ndarray:
    """0 (features invisible) … 1 (clearly visible) from apparent size and brightness."""
    size = np.clip((r_half_arcsec - 0.4) / 1.5, 0.0, 1.0)
    bright = np.clip((20.5 - mag_r) / 3.0, 0.0, 1.0)
    return size * bright


def true_answers(morph_class: np.ndarray) -> dict[str, np.ndarray]:
    """What a perfect observer would answer (0/1) for each question."""
    featured = np.isin(morph_class, FEATURED_CLASSES).astype(float)
    return {
        "featured": featured,
        "edge_on": (morph_class == "edge_on").astype(float),
        "bar": (morph_class == "barred_spiral").astype(float),
        "spiral": np.isin(morph_class, ("spiral", "barred_spiral")).astype(float),
        "merger": (morph_class == "merger").astype(float),
    }


def vote_fractions(rng: np.random.Generator, morph_class: np.ndarray, r_half_arcsec: np.ndarray,
                   mag_r: np.ndarray) -> dict[str, np.ndarray]:
    n = morph_class.size
    vis = visibility(r_half_arcsec, mag_r)
    n_votes = np.maximum(rng.poisson(40, n), 1)
    few = rng.uniform(size=n) < 0.1
    n_votes[few] = rng.integers(1, 6, int(few.sum()))
    out = {"gz_num_votes": n_votes.astype(np.int32)}
    answers = true_answers(morph_class)
    for question, truth in answers.items():
        p = 0.05 + 0.9 * truth * vis + 0.05 * (1 - vis) * truth
        concentration = 12.0
        p_obj = rng.beta(np.maximum(p * concentration, 1e-3), np.maximum((1 - p) * concentration, 1e-3))
        votes = rng.binomial(n_votes, p_obj)
        out[f"gz_{question}_fraction"] = votes / n_votes
    out["gz_smooth_fraction"] = 1.0 - out["gz_featured_fraction"]
    return out
