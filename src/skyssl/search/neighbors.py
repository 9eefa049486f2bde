"""All-pairs exact top-k (`skyssl neighbors`): a Neighbour table for every embedded object.

The search itself is :mod:`skyssl.search.allpairs` (bf16 candidates with a proven error bound,
exact re-scoring, symmetric tiles). Each block of `block_rows` positions is written as two files
under temporary names then renamed, so a killed run resumes at the first missing block and the
result is byte-identical to an uninterrupted run (the authors wrote a placeholder first and skipped
existing files, so a crash left a chunk silently "done": bug 16, never reproduced). Similarities are
exact and independent of how the work was split, which is what makes resumption byte-identical. As
in the authors' tables the object itself is at rank 0 (forced, so exact duplicates cannot displace
it); the remaining k − 1 are its nearest neighbours by cosine, ties broken by position.

Magnitude window (`mag_window`, the authors' ``--delta_mag 0.5`` in z; bug 17 kept as an explicit,
documented option): candidates of object q are the objects with |mag − mag_q| ≤ window, exactly per
object. The authors widened the window to whole 1M-row chunks, so their neighbour lists mixed in
objects up to several magnitudes away at the bright end. Here the database is ordered by magnitude
once, queries are processed in magnitude-sorted batches, each batch multiplies only against the
contiguous span its window can reach, and the window is checked per pair. Objects with an undefined
magnitude (non-positive flux) are compared only with each other.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from skyssl.embed.partial import PartialFolder
from skyssl.embed.reader import Embeddings
from skyssl.errors import InputError
from skyssl.manifest import sha256_file
from skyssl.search.allpairs import ALGORITHM, AllPairs
from skyssl.search.allpairs_bounds import to_bf16
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

__all__ = ["NeighborTable", "all_pairs_blocks", "build_neighbors"]

DEFAULT_BLOCK_ROWS = 8192


def all_pairs_blocks(unit: np.ndarray, k: int, block_rows: int, first_block: int = 0, mag: np.ndarray | None = None,
                     window: float | None = None) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    """(block, positions (rows, k), similarities (rows, k)) for each block of `block_rows` positions
    from `first_block` on: exact top-k by cosine of the unit vectors, self at rank 0, −1/−inf empty."""
    with AllPairs(unit, k) as search:
        if window is None:
            yield from search.symmetric_blocks(block_rows, first_block)
            return
        order = np.argsort(mag, kind="stable")
        sorted_bf16 = to_bf16(search.unit[order])
        start = first_block * block_rows
        seeds = search.seed_admissions(np.arange(start, unit.shape[0]), np.asarray(mag, np.float64), window)
        for block in range(first_block, -(-unit.shape[0] // block_rows)):
            positions = np.arange(block * block_rows, min(unit.shape[0], (block + 1) * block_rows))
            yield block, *search.windowed_block(positions, mag, window, order, sorted_bf16,
                                                seeds[positions - start])


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
           "similarity_dtype": similarity_dtype, "block_rows": block_rows, "algorithm": ALGORITHM}
    folder = PartialFolder(out, job, overwrite=overwrite)
    n_blocks = -(-n // block_rows)
    sim_dtype = SIMILARITY_DTYPES[similarity_dtype]
    done = [all(folder.has_piece(name) for name in block_file_names(block)) for block in range(n_blocks)]
    first = done.index(False) if False in done else n_blocks
    for block in range(first):
        if on_block:
            on_block(block + 1, n_blocks)
    if first < n_blocks:
        unit = load_unit_vectors(embeddings, vector_kind)
        for block, ids, sims in all_pairs_blocks(unit, k, block_rows, first, mag, window):
            names = block_file_names(block)
            if not done[block]:
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
        "similarity": "exact: float32 of the fixed-point sum of float64 products of the float32 unit vectors",
        "algorithm": ALGORITHM,
        "index_dtype": "int32", "similarity_dtype": similarity_dtype, "byte_order": "little",
        "block_rows": block_rows, "self_match_at_rank0": True, "empty_slot": {"position": -1, "similarity": "-inf"},
        "mag_window": None if window is None else {"window_mag": window, "band": mag_band, "exact_per_object": True,
                                                   "n_undefined_mag": n_undefined},
        "row_offset_bytes": "(position mod block_rows) * k * itemsize, in block position // block_rows",
        "embeddings": {"path": str(embeddings.path.resolve()), "manifest_sha256": embeddings.manifest_sha256},
        "store": {"path": str(embeddings.store_path)}, "object_ids": IDS_FILE, "blocks": blocks,
    }
    return folder.publish(NEIGHBORS_KIND, NEIGHBORS_SCHEMA_VERSION, body)
