"""The pixel-space UMAP beside the representation map (Hayat et al. 2021): the same objects, the same
UMAP, but on downsampled pixels instead of learned vectors.

The pixels are the network's own evaluation view (the run's centre crop and asinh input stretch),
average-pooled to `size_px` × `size_px` per band and flattened, so the two maps differ only in what the
objects are described by. A pixel map groups objects by brightness, size and orientation; a good
representation groups them by what they are. To put a number on it, the fraction of each object's
nearest 2-D neighbours that share its class (for a categorical column) is measured in both maps.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from skyssl.science.umap_panels import draw_panel
from skyssl.viz.plots import new_figure

DEFAULT_PIXEL_PX = 16
PIXEL_BATCH = 256
AGREEMENT_NEIGHBOURS = 10


def pixel_features(pipeline, images_nmgy: np.ndarray, size_px: int = DEFAULT_PIXEL_PX) -> np.ndarray:
    """(n, C·size_px²) float32: the centre views of stamps, asinh-stretched and average-pooled."""
    import torch

    views = pipeline.center_view(torch.from_numpy(np.asarray(images_nmgy, dtype=np.float32)))
    pooled = torch.nn.functional.adaptive_avg_pool2d(views, size_px)
    return pooled.flatten(1).numpy().astype(np.float32)


def store_pixel_features(pipeline, store, rows: np.ndarray, size_px: int = DEFAULT_PIXEL_PX) -> np.ndarray:
    """Pixel features of the given store rows, read batch by batch."""
    rows = np.asarray(rows, dtype=np.int64)
    parts = [pixel_features(pipeline, store.read_images(rows[start : start + PIXEL_BATCH]), size_px)
             for start in range(0, rows.size, PIXEL_BATCH)]
    return np.concatenate(parts)


def neighbour_agreement(xy: np.ndarray, labels: np.ndarray, k: int = AGREEMENT_NEIGHBOURS) -> float:
    """Mean fraction of each object's k nearest 2-D neighbours (itself excluded) with its own label."""
    from scipy.spatial import cKDTree

    xy = np.asarray(xy, dtype=np.float64)
    k = min(k, xy.shape[0] - 1)
    if k < 1:
        return float("nan")
    _, neighbours = cKDTree(xy).query(xy, k=k + 1)
    labels = np.asarray(labels)
    return float((labels[neighbours[:, 1:]] == labels[:, None]).mean())


def side_by_side_figure(representation_xy: np.ndarray, pixel_xy: np.ndarray, values: np.ndarray | None,
                        column: str | None) -> Figure:
    """The representation map and the pixel map of the same objects, coloured alike."""
    figure = new_figure(13.0, 6.0)
    left, right = figure.subplots(1, 2)
    suffix = f", coloured by {column}" if column else ""
    draw_panel(left, representation_xy, values, f"representations{suffix}")
    draw_panel(right, pixel_xy, values, f"pixels (asinh, pooled){suffix}")
    return figure
