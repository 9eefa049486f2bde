"""All-pairs exact top-k (`skyssl neighbors`): a Neighbour table for every embedded object.

Each block of `block_rows` query positions is computed from scratch — blocked GEMM in float32 and the
streaming top-k merge of :mod:`skyssl.search.topk` — and written as two files under temporary names
then renamed, so a killed run resumes at the first missing block and the result is byte-identical to
an uninterrupted run (the authors wrote a placeholder first and skipped existing files, so a crash
left a chunk silently "done": bug 16, never reproduced). As in the authors' tables the object itself
is at rank 0 (forced, so exact duplicates cannot displace it); the remaining k − 1 are its nearest
neighbours by cosine, ties broken by position.

Magnitude window (`mag_window`, the authors' ``--delta_mag 0.5`` in z; bug 17 kept as an explicit,
documented option): candidates of object q are the objects with |mag − mag_q| ≤ window, exactly per
object. The authors widened the window to whole 1M-row chunks, so their neighbour lists mixed in
objects up to several magnitudes away at the bright end. Here the database is ordered by magnitude
once, queries are processed in magnitude-sorted batches, each batch multiplies only against the
contiguous span its window can reach, and a per-pair mask removes the rest. Objects with an undefined
magnitude (non-positive flux) are compared only with each other.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from skyssl.embed.partial import PartialFolder
from skyssl.embed.reader import Embeddings
from skyssl.errors import InputError
from skyssl.manifest import sha256_file
from skyssl.search.build import load_unit_vectors, save_int64_npy
from skyssl.search.catalog import SearchCatalog
from skyssl.search.neighbor_table import (
    IDS_FILE,
    INDEX_DTYPE,
    NEIGHBORS_KIND,
    NEIGHBORS_SCHEMA_VERSION,
    SIMILARITY_DTYPES,
    NeighborTable,
    block_file_names,
)
from skyssl.search.topk import exact_topk, order_rows

__all__ = ["NeighborTable", "build_neighbors", "candidate_span", "neighbors_block"]

DEFAULT_BLOCK_ROWS = 8192
QUERY_BATCH = 1024
DATABASE_BLOCK = 32768


def candidate_span(sorted_mag: np.ndarray, n_finite: int, query_mag: np.ndarray, window: float) -> tuple[int, int]:
    """[lo, hi) of the magnitude-sorted database that the windows of these queries can reach.

    `sorted_mag` is ascending with its `n_finite` finite values first (NaN last, as argsort leaves them).
    """
    finite = query_mag[np.isfinite(query_mag)]
    lo, hi = n_finite, n_finite
    if finite.size:
        lo = int(np.searchsorted(sorted_mag[:n_finite], finite.min() - window, side="left"))
        hi = int(np.searchsorted(sorted_mag[:n_finite], finite.max() + window, side="right"))
    if finite.size < query_mag.size:
        hi = sorted_mag.size
    return lo, hi


def window_ranges(sorted_mag: np.ndarray, n_finite: int, query_mag: np.ndarray, window: float, lo: int
                  ) -> tuple[torch.Tensor, torch.Tensor]:
    """Per query, its window [lo_i, hi_i) as rows of the span starting at `lo` of the sorted database.

    Within a magnitude-sorted database every object's window is contiguous; undefined magnitudes
    (NaN, sorted last) form one window of their own.
    """
    finite_mag = sorted_mag[:n_finite]
    starts = np.searchsorted(finite_mag, query_mag - window, side="left")
    stops = np.searchsorted(finite_mag, query_mag + window, side="right")
    undefined = ~np.isfinite(query_mag)
    starts[undefined], stops[undefined] = n_finite, sorted_mag.size
    return torch.from_numpy(starts - lo), torch.from_numpy(stops - lo)


def neighbors_block(unit_sorted: torch.Tensor, order: np.ndarray, positions: np.ndarray, k: int,
                    mag: np.ndarray | None = None, window: float | None = None,
                    query_batch: int = QUERY_BATCH, database_block: int = DATABASE_BLOCK
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Top-k (positions, similarities) of the query `positions`, in the order given, self at rank 0.

    `unit_sorted` holds the unit vectors in database order `order` (magnitude order when a window is
    used, else identity), so that a window's span is a contiguous slice.
    """
    out_ids = np.empty((positions.size, k), np.int64)
    out_sims = np.empty((positions.size, k), np.float32)
    inverse = np.empty(order.size, np.int64)
    inverse[order] = np.arange(order.size)
    if window is not None:
        sorted_mag = mag[order]
        n_finite = int(np.isfinite(sorted_mag).sum())
        batch_order = np.argsort(mag[positions], kind="stable")
    else:
        batch_order = np.arange(positions.size)
    order_t = torch.from_numpy(order)
    for start in range(0, positions.size, query_batch):
        slots = batch_order[start : start + query_batch]
        query_pos = positions[slots]
        queries = unit_sorted[torch.from_numpy(inverse[query_pos])]
        lo, hi, ranges = 0, order.size, None
        if window is not None:
            lo, hi = candidate_span(sorted_mag, n_finite, mag[query_pos], window)
            ranges = window_ranges(sorted_mag, n_finite, mag[query_pos], window, lo)
        sims, ids = exact_topk(queries, unit_sorted[lo:hi], k, database_ids=order_t[lo:hi],
                               self_columns=torch.from_numpy(inverse[query_pos] - lo), column_ranges=ranges,
                               block_rows=database_block)
        self_sims = (queries * queries).sum(dim=1).numpy()
        out_sims[slots], out_ids[slots] = order_rows(sims, ids, self_sims=self_sims)
    return out_ids, out_sims


def build_neighbors(embeddings: str | Path | Embeddings, out: str | Path, k: int = 50, vector_kind: str = "backbone",
                    mag_window: float | None = None, mag_band: str = "z", similarity_dtype: str = "float32",
                    block_rows: int = DEFAULT_BLOCK_ROWS, overwrite: bool = False,
                    on_block: Callable[[int, int], None] | None = None) -> Path:
    """Write the all-pairs top-k table of `embeddings` to `out` (resuming an interrupted run of the same job).

    `on_block(done, total)` is called after each block is safely on disk.
    """
    if similarity_dtype not in SIMILARITY_DTYPES:
        raise InputError(f"similarity dtype must be one of {sorted(SIMILARITY_DTYPES)}, not {similarity_dtype!r}")
    if mag_window is not None and not mag_window >= 0:
        raise InputError(f"magnitude window must be non-negative, got {mag_window}")
    if block_rows < 1:
        raise InputError(f"block_rows must be at least 1, got {block_rows}")
    opened = embeddings if isinstance(embeddings, Embeddings) else Embeddings.open(embeddings)
    try:
        n = opened.n_objects
        if not isinstance(k, int) or not 1 <= k <= n:
            raise InputError(f"k must be between 1 and the number of objects ({n}), got {k}")
        if n >= np.iinfo(np.int32).max:
            raise InputError(f"{n} objects do not fit the table's int32 positions")
        with opened.open_store() as store:
            mag = SearchCatalog(store, opened.rows).mag(mag_band) if mag_window is not None else None
        return _write_table(opened, Path(out), k, vector_kind, mag, mag_window, mag_band, similarity_dtype,
                            block_rows, overwrite, on_block)
    finally:
        if opened is not embeddings:
            opened.close()


def _write_table(embeddings: Embeddings, out: Path, k: int, vector_kind: str, mag: np.ndarray | None,
                 window: float | None, mag_band: str, similarity_dtype: str, block_rows: int, overwrite: bool,
                 on_block: Callable[[int, int], None] | None) -> Path:
    n = embeddings.n_objects
    job = {"embeddings": str(embeddings.path.resolve()), "embeddings_manifest_sha256": embeddings.manifest_sha256,
           "k": k, "vector_kind": vector_kind, "mag_window": window, "mag_band": mag_band if window is not None else None,
           "similarity_dtype": similarity_dtype, "block_rows": block_rows, "query_batch": QUERY_BATCH,
           "database_block": DATABASE_BLOCK}
    folder = PartialFolder(out, job, overwrite=overwrite)
    order = np.argsort(mag, kind="stable") if window is not None else np.arange(n)
    unit = load_unit_vectors(embeddings, vector_kind)
    unit_sorted = torch.from_numpy(unit[order] if window is not None else unit)
    n_blocks = -(-n // block_rows)
    sim_dtype = SIMILARITY_DTYPES[similarity_dtype]
    for block in range(n_blocks):
        names = block_file_names(block)
        if not all(folder.has_piece(name) for name in names):
            positions = np.arange(block * block_rows, min(n, (block + 1) * block_rows))
            ids, sims = neighbors_block(unit_sorted, order, positions, k, mag, window)
            folder.write_piece(names[0], lambda tmp, a=ids: a.astype(INDEX_DTYPE).tofile(tmp))
            folder.write_piece(names[1], lambda tmp, a=sims: a.astype(sim_dtype).tofile(tmp))
        if on_block:
            on_block(block + 1, n_blocks)
    folder.write_piece(IDS_FILE, lambda tmp: save_int64_npy(tmp, embeddings.object_ids))
    blocks = []
    for block in range(n_blocks):
        indices, similarities = block_file_names(block)
        blocks.append({"first_position": block * block_rows, "n_rows": min(block_rows, n - block * block_rows),
                       "indices": indices, "similarities": similarities,
                       "indices_sha256": sha256_file(folder.piece(indices)),
                       "similarities_sha256": sha256_file(folder.piece(similarities))})
    n_undefined = int(np.isnan(mag).sum()) if mag is not None else 0
    body = {
        "n_objects": n, "k": k, "vector_kind": vector_kind, "metric": "cosine",
        "index_dtype": "int32", "similarity_dtype": similarity_dtype, "byte_order": "little",
        "block_rows": block_rows, "self_match_at_rank0": True, "empty_slot": {"position": -1, "similarity": "-inf"},
        "mag_window": None if window is None else {"window_mag": window, "band": mag_band, "exact_per_object": True,
                                                   "n_undefined_mag": n_undefined},
        "row_offset_bytes": "(position mod block_rows) * k * itemsize, in block position // block_rows",
        "embeddings": {"path": str(embeddings.path.resolve()), "manifest_sha256": embeddings.manifest_sha256},
        "store": {"path": str(embeddings.store_path)}, "object_ids": IDS_FILE, "blocks": blocks,
    }
    return folder.publish(NEIGHBORS_KIND, NEIGHBORS_SCHEMA_VERSION, body)
