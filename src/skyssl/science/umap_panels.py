"""Panels of a 2-D map coloured by a catalogue or truth column, categorical or continuous.

Categorical columns (text, booleans, integers with few distinct values) get one colour per class,
drawn from the most to the least frequent so that rare classes lie on top of the bulk and stay
visible; classes holding under 1 % of the objects are drawn larger. Continuous columns get a colour
bar clipped to their 1st–99th percentiles, and objects without a finite value are drawn grey beneath.
"""

from __future__ import annotations

import matplotlib
import numpy as np
from matplotlib.figure import Figure

from skyssl.errors import InputError
from skyssl.store import Store
from skyssl.viz.plots import new_figure

MAX_INTEGER_CLASSES = 20
RARE_SHARE = 0.01
MAX_LEGEND_CLASSES = 20
EMPTY_LABEL = "(none)"


def column_values(store: Store, name: str, rows: np.ndarray) -> np.ndarray:
    """Column `name` at store `rows`; a per-band field is named with its band (`mag_r`, `flux_g`)."""
    rows = np.asarray(rows, dtype=np.int64)
    if name in store.columns:
        values = np.asarray(store.read_column(name))
        if values.ndim != 1:
            bands = ", ".join(f"{name}_{b}" for b in store.bands or ())
            raise InputError(f"column '{name}' is per band {values.shape}; name one band ({bands})")
        return values[rows]
    base, _, band = name.rpartition("_")
    if base in store.columns and store.bands and band in store.bands:
        values = np.asarray(store.read_column(base))
        if values.ndim == 2:
            return values[rows, list(store.bands).index(band)]
    known = ", ".join(store.columns[:15]) + (" …" if len(store.columns) > 15 else "")
    raise InputError(f"no column '{name}' in {store.path} (columns: {known})")


def is_categorical(values: np.ndarray) -> bool:
    """Text and booleans are classes; so are integers with at most 20 distinct values."""
    kind = np.asarray(values).dtype.kind
    if kind in "bUSO":
        return True
    return kind in "iu" and np.unique(values).size <= MAX_INTEGER_CLASSES


def marker_size(n_points: int) -> float:
    """Scatter marker area (pt²): large for a few hundred points, a pixel for millions."""
    return float(np.clip(4000.0 / max(n_points, 1), 0.3, 12.0))


def draw_categorical(ax, xy: np.ndarray, values: np.ndarray) -> None:
    labels = np.char.strip(np.asarray(values).astype(str))
    classes, counts = np.unique(labels, return_counts=True)
    order = np.argsort(-counts, kind="stable")
    cmap = matplotlib.colormaps["tab20" if classes.size > 10 else "tab10"]
    base = marker_size(xy.shape[0])
    for rank, index in enumerate(order):
        members = labels == classes[index]
        share = counts[index] / labels.size
        size = base * (6.0 if share < RARE_SHARE else 1.0)
        label = f"{classes[index] or EMPTY_LABEL} ({counts[index]})" if rank < MAX_LEGEND_CLASSES else None
        ax.scatter(xy[members, 0], xy[members, 1], s=size, color=cmap(rank % cmap.N), label=label,
                   linewidths=0, rasterized=True)
    ax.legend(fontsize=7, markerscale=max(1.0, 3.0 / np.sqrt(base)), loc="best", frameon=True)


def draw_continuous(ax, xy: np.ndarray, values: np.ndarray) -> None:
    values = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(values)
    size = marker_size(xy.shape[0])
    if (~finite).any():
        ax.scatter(xy[~finite, 0], xy[~finite, 1], s=size, color="0.8", linewidths=0, rasterized=True,
                   label=f"no value ({int((~finite).sum())})")
        ax.legend(fontsize=7, loc="best")
    if finite.any():
        low, high = np.percentile(values[finite], [1, 99])
        points = ax.scatter(xy[finite, 0], xy[finite, 1], c=values[finite], s=size, cmap="viridis", vmin=low,
                            vmax=high if high > low else low + 1.0, linewidths=0, rasterized=True)
        ax.figure.colorbar(points, ax=ax, shrink=0.8)


def draw_panel(ax, xy: np.ndarray, values: np.ndarray | None, title: str) -> None:
    """One map panel on `ax`: by classes, by a colour scale, or plain grey when `values` is None."""
    if values is None:
        ax.scatter(xy[:, 0], xy[:, 1], s=marker_size(xy.shape[0]), color="0.3", linewidths=0, rasterized=True)
    elif is_categorical(values):
        draw_categorical(ax, xy, values)
    else:
        draw_continuous(ax, xy, values)
    ax.set_title(title, fontsize=10)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_aspect("equal", adjustable="datalim")


def panel_figure(xy: np.ndarray, values: np.ndarray, column: str) -> Figure:
    """The map coloured by one column."""
    figure = new_figure(7.0, 6.0)
    draw_panel(figure.add_subplot(), np.asarray(xy), values, f"UMAP of the representations, coloured by {column}")
    return figure
