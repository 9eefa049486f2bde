"""The 2-D map of the representation space (Hayat et al. 2021, Figure 2): UMAP fitted on a sample,
every other object placed by the fitted model's out-of-sample transform.

Distances are cosine, as in similarity search: every vector is L2-normalised first. Without PCA the
UMAP metric is cosine on those unit vectors. With PCA (`pca_dims`, e.g. 50) the unit vectors are
projected on their leading principal components and UMAP runs with the Euclidean metric there: for
unit vectors ‖a − b‖² = 2 − 2 cos(a, b), and PCA keeps Euclidean distances up to the discarded
variance, so the neighbourhoods are the cosine ones at a fraction of the cost of 2048-d distances.

UMAP's cost grows faster than linearly and it holds its training set in memory, so at 10⁶+ objects it
is fitted on a seeded sample (`fit_sample`, default 10⁵) and the rest are transformed in batches; new
objects (other embeddings of the same model) are placed the same way. Everything is seeded: UMAP with
`random_state` runs single-threaded and gives the same bytes for the same inputs, and the transform
uses a fixed `transform_seed`, so the same seed and batch size give the same map. (UMAP optimises a
transformed batch together, so an object's placement depends slightly on the others in its batch.)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from skyssl.errors import InputError
from skyssl.search.topk import normalise_rows

DEFAULT_FIT_SAMPLE = 100_000
DEFAULT_NEIGHBOURS = 15
DEFAULT_MIN_DIST = 0.1
TRANSFORM_BATCH = 50_000
TRANSFORM_SEED = 42


@dataclass
class MapModel:
    """A fitted map: the optional PCA and the UMAP reducer, and how they were made."""

    reducer: Any
    pca: Any | None
    params: dict[str, Any] = field(default_factory=dict)

    def reduce_inputs(self, vectors: np.ndarray) -> np.ndarray:
        """What UMAP sees: unit vectors, projected on the principal components when PCA is on."""
        unit = normalise_rows(np.asarray(vectors, dtype=np.float32))
        return unit if self.pca is None else self.pca.transform(unit).astype(np.float32)

    def transform(self, vectors: np.ndarray, batch: int = TRANSFORM_BATCH) -> np.ndarray:
        """(n, 2) float32 map positions of new vectors, placed against the fitted ones in batches."""
        vectors = np.asarray(vectors)
        out = np.empty((vectors.shape[0], 2), dtype=np.float32)
        for start in range(0, vectors.shape[0], batch):
            chunk = self.reduce_inputs(vectors[start : start + batch])
            out[start : start + chunk.shape[0]] = self.reducer.transform(chunk)
        return out


def check_map_options(n_objects: int, fit_sample: int, pca_dims: int, n_neighbours: int) -> None:
    """One-line errors for options that cannot make a map of `n_objects` objects."""
    if fit_sample < 1:
        raise InputError(f"--fit-sample must be at least 1, got {fit_sample}")
    if pca_dims < 0:
        raise InputError(f"--pca must be 0 (off) or a number of components, got {pca_dims}")
    if n_neighbours < 2:
        raise InputError(f"UMAP needs at least 2 neighbours, got {n_neighbours}")
    n_fit = min(n_objects, fit_sample)
    if n_fit <= n_neighbours:
        raise InputError(f"a map of {n_fit} fitted objects needs more than {n_neighbours} neighbours' worth; "
                         f"embed more objects or raise --fit-sample")


def fit_sample_positions(n_objects: int, fit_sample: int, seed: int) -> np.ndarray:
    """Sorted positions of the objects UMAP is fitted on: all of them, or a seeded sample of `fit_sample`."""
    if n_objects <= fit_sample:
        return np.arange(n_objects)
    return np.sort(np.random.default_rng(seed).choice(n_objects, size=fit_sample, replace=False))


def fit_map(vectors: np.ndarray, pca_dims: int = 0, n_neighbours: int = DEFAULT_NEIGHBOURS,
            min_dist: float = DEFAULT_MIN_DIST, seed: int = 0) -> tuple[MapModel, np.ndarray]:
    """Fit PCA (when `pca_dims` > 0) and UMAP on `vectors`; returns the model and their (n, 2) positions."""
    import umap
    from sklearn.decomposition import PCA

    vectors = np.asarray(vectors, dtype=np.float32)
    check_map_options(vectors.shape[0], vectors.shape[0], pca_dims, n_neighbours)
    unit = normalise_rows(vectors)
    components = min(pca_dims, unit.shape[0], unit.shape[1])
    reduces = 0 < components < unit.shape[1]  # PCA to as many components as the vectors have changes nothing
    pca = PCA(n_components=components, random_state=seed).fit(unit) if reduces else None
    inputs = unit if pca is None else pca.transform(unit).astype(np.float32)
    metric = "cosine" if pca is None else "euclidean"
    reducer = umap.UMAP(n_neighbors=n_neighbours, min_dist=min_dist, metric=metric, random_state=seed,
                        transform_seed=TRANSFORM_SEED, n_components=2, n_jobs=1)
    xy = reducer.fit_transform(inputs).astype(np.float32)
    params = {"n_fit": int(vectors.shape[0]), "input_dim": int(vectors.shape[1]),
              "pca_dims": 0 if pca is None else int(components), "metric_in_umap": metric,
              "distance": "cosine", "n_neighbors": n_neighbours, "min_dist": min_dist, "seed": seed,
              "transform_seed": TRANSFORM_SEED}
    return MapModel(reducer, pca, params), xy


@dataclass(frozen=True)
class MapCoordinates:
    """Positions of every embedded object in the map, in embedding order; `fitted` marks the UMAP sample."""

    xy: np.ndarray
    fitted: np.ndarray


def place_all(model: MapModel, fitted_positions: np.ndarray, fitted_xy: np.ndarray, n_objects: int,
              read_batches: Callable[[], Iterator[tuple[np.ndarray, np.ndarray]]],
              on_batch: Callable[[int], None] | None = None) -> MapCoordinates:
    """Fitted objects keep their fitted positions; the others are transformed batch by batch.

    `read_batches()` yields (positions, vectors) in embedding order (e.g. :meth:`Embeddings.iter_batches`);
    `on_batch(n)` reports progress in objects.
    """
    xy = np.empty((n_objects, 2), dtype=np.float32)
    fitted = np.zeros(n_objects, dtype=bool)
    fitted[fitted_positions] = True
    xy[fitted_positions] = fitted_xy
    if fitted.all():
        return MapCoordinates(xy, fitted)
    for positions, vectors in read_batches():
        rest = ~fitted[positions]
        if rest.any():
            xy[positions[rest]] = model.transform(vectors[rest])
        if on_batch is not None:
            on_batch(int(positions.size))
    return MapCoordinates(xy, fitted)


def map_embeddings(embeddings: Any, vector_kind: str = "backbone", fit_sample: int = DEFAULT_FIT_SAMPLE,
                   pca_dims: int = 0, n_neighbours: int = DEFAULT_NEIGHBOURS, min_dist: float = DEFAULT_MIN_DIST,
                   seed: int = 0, batch: int = TRANSFORM_BATCH,
                   on_batch: Callable[[int], None] | None = None) -> tuple[MapModel, MapCoordinates]:
    """Fit the map on a sample of an opened :class:`~skyssl.embed.reader.Embeddings` and place all objects."""
    n = embeddings.n_objects
    if n == 0:
        raise InputError(f"{embeddings.path} holds no vectors; nothing to map")
    check_map_options(n, fit_sample, pca_dims, n_neighbours)
    positions = fit_sample_positions(n, fit_sample, seed)
    model, fitted_xy = fit_map(embeddings.vectors(vector_kind, positions), pca_dims, n_neighbours, min_dist, seed)
    model.params["vector_kind"] = vector_kind
    coords = place_all(model, positions, fitted_xy, n, lambda: embeddings.iter_batches(vector_kind, batch), on_batch)
    return model, coords


def place_with(model: MapModel, embeddings: Any, vector_kind: str, batch: int = TRANSFORM_BATCH,
               on_batch: Callable[[int], None] | None = None) -> MapCoordinates:
    """Place every object of other embeddings with an already fitted map (none of them is 'fitted')."""
    if vector_kind not in embeddings.kinds:
        raise InputError(f"{embeddings.path} holds {embeddings.kinds} vectors, not {vector_kind!r}")
    expected = model.params.get("input_dim")
    if expected is not None and embeddings.dims[vector_kind] != expected:
        raise InputError(f"the map was fitted on {expected}-d vectors; {embeddings.path} holds "
                         f"{embeddings.dims[vector_kind]}-d {vector_kind} vectors")
    empty = np.zeros(0, dtype=np.int64)
    return place_all(model, empty, np.zeros((0, 2), np.float32), embeddings.n_objects,
                     lambda: embeddings.iter_batches(vector_kind, batch), on_batch)
