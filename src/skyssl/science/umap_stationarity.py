"""Stationarity of the map under augmentations (Hayat et al. 2021, Appendix B).

If the representation ignores what the augmentations change (PSF, noise, reddening, orientation),
an augmented view of an object should land where the object itself lands. Both views of a sample of
objects are embedded by the run's model and placed with the fitted map's transform, and each shift
|T(augmented) − T(centre)| is compared with the map's typical neighbour distance (the median distance
from an object to its nearest other object in the map) and with the typical distance between two
random objects. A shift of a few neighbour distances and a small fraction of the random-pair distance
is stationary; a shift comparable to the random-pair distance means the augmentation moves objects
across the map. Comparing two transformed views (rather than a transformed view with a fitted
position) keeps the transform's own placement error out of the figure.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from skyssl.viz.plots import new_figure

RANDOM_PAIRS = 100_000
ARROWS = 60


def typical_neighbour_distance(xy: np.ndarray) -> float:
    """Median distance from each map point to its nearest other point."""
    from scipy.spatial import cKDTree

    xy = np.asarray(xy, dtype=np.float64)
    distances, _ = cKDTree(xy).query(xy, k=2)
    return float(np.median(distances[:, 1]))


def typical_pair_distance(xy: np.ndarray, seed: int = 0, n_pairs: int = RANDOM_PAIRS) -> float:
    """Median distance between two map points drawn at random (seeded)."""
    xy = np.asarray(xy, dtype=np.float64)
    rng = np.random.default_rng(seed)
    a, b = rng.integers(0, xy.shape[0], n_pairs), rng.integers(0, xy.shape[0], n_pairs)
    keep = a != b
    return float(np.median(np.linalg.norm(xy[a[keep]] - xy[b[keep]], axis=1)))


def stationarity(centre_xy: np.ndarray, augmented_xy: np.ndarray, map_xy: np.ndarray, seed: int = 0) -> dict:
    """Shifts of augmented views in map units and in units of the map's neighbour and pair distances."""
    shift = np.linalg.norm(np.asarray(augmented_xy, np.float64) - np.asarray(centre_xy, np.float64), axis=1)
    neighbour = typical_neighbour_distance(map_xy)
    pair = typical_pair_distance(map_xy, seed)
    median, p90 = np.median(shift), np.percentile(shift, 90)
    return {
        "n_objects": int(shift.size),
        "typical_neighbour_distance": neighbour,
        "typical_pair_distance": pair,
        "median_shift": float(median),
        "p90_shift": float(p90),
        "median_shift_in_neighbour_distances": float(median / neighbour) if neighbour > 0 else float("inf"),
        "p90_shift_in_neighbour_distances": float(p90 / neighbour) if neighbour > 0 else float("inf"),
        "median_shift_over_pair_distance": float(median / pair) if pair > 0 else float("inf"),
    }


def stationarity_figure(centre_xy: np.ndarray, augmented_xy: np.ndarray, map_xy: np.ndarray,
                        figures: dict) -> Figure:
    """The map in grey with arrows from centre to augmented view, and the histogram of shifts."""
    figure = new_figure(12.0, 5.0)
    left, right = figure.subplots(1, 2)
    left.scatter(map_xy[:, 0], map_xy[:, 1], s=1.0, color="0.75", linewidths=0, rasterized=True)
    n = min(ARROWS, centre_xy.shape[0])
    delta = augmented_xy[:n] - centre_xy[:n]
    left.quiver(centre_xy[:n, 0], centre_xy[:n, 1], delta[:, 0], delta[:, 1], angles="xy", scale_units="xy",
                scale=1.0, width=0.003, color="tab:red")
    left.set_title(f"centre view → augmented view ({n} objects)", fontsize=10)
    left.set_xticks([])
    left.set_yticks([])
    shift = np.linalg.norm(augmented_xy - centre_xy, axis=1) / figures["typical_neighbour_distance"]
    right.hist(shift, bins=40, color="tab:red", alpha=0.8)
    right.axvline(figures["typical_pair_distance"] / figures["typical_neighbour_distance"], color="k", ls="--",
                  label="random pair")
    right.set_xlabel("shift / typical neighbour distance")
    right.set_ylabel("objects")
    right.legend(fontsize=8)
    right.set_title(f"median shift {figures['median_shift_in_neighbour_distances']:.1f} neighbour distances, "
                    f"{figures['median_shift_over_pair_distance']:.2f} of a random pair", fontsize=10)
    return figure
