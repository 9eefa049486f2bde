"""Run a simulation into a store: catalogue blocks → rendered chunks → shards, in parallel workers.

Memory stays bounded by a few chunks of CHUNK_ROWS images (in flight in the workers and being written)
plus one shard's catalogue columns: images go to the shard file chunk by chunk, so 10⁵ cutouts never
sit in RAM together, whatever the shard size. Shards already complete from an interrupted run are
skipped, and because every row is rendered from its own seed the resumed store is byte-identical to
an uninterrupted one.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from skyssl.sim import render
from skyssl.sim.config import SimConfig
from skyssl.store import StoreWriter
from skyssl.surveys import get

DEFAULT_ROWS_PER_SHARD = 16384
CHUNK_ROWS = 128


def _single_threaded_worker() -> None:
    """Pin BLAS to one thread per worker: the renderer's small matrix products otherwise leave
    OpenBLAS threads spinning, which cost 2–4× in throughput with two workers on two cores."""
    threadpool_limits(1)


def _render_chunk(args: tuple[dict, int, int]) -> tuple[np.ndarray, dict]:
    config_dict, start, stop = args
    return render.render_rows(SimConfig(**config_dict), start, stop)


def _chunks(start: int, stop: int, size: int) -> list[tuple[int, int]]:
    return [(a, min(stop, a + size)) for a in range(start, stop, size)]


def simulate_store(
    config: SimConfig,
    out: str | Path,
    rows_per_shard: int = DEFAULT_ROWS_PER_SHARD,
    workers: int = 2,
    overwrite: bool = False,
    on_progress: Callable[[int], None] | None = None,
) -> Path:
    """Simulate `config` into the store `out`; `on_progress(n_rows_done)` is called as rows finish."""
    survey = get(config.survey)
    writer = StoreWriter(
        out, survey, config.n_objects, rows_per_shard, image_dtype=config.image_dtype,
        job={"simulation": config.model_dump()}, overwrite=overwrite,
    )
    done = set(writer.done_shards())
    pool = (ProcessPoolExecutor(max_workers=workers, initializer=_single_threaded_worker)
            if workers > 1 else None)
    try:
        for k in range(writer.n_shards):
            start, stop = writer.shard_rows(k)
            if k in done:
                if on_progress:
                    on_progress(stop - start)
                continue
            jobs = [(config.model_dump(), a, b) for a, b in _chunks(start, stop, CHUNK_ROWS)]
            results = pool.map(_render_chunk, jobs) if pool else map(_render_chunk, jobs)
            shard = writer.open_shard(k)
            try:
                columns: dict[str, list[np.ndarray]] = {}
                for (a, b), (chunk_images, chunk_columns) in zip(_chunks(start, stop, CHUNK_ROWS), results,
                                                                 strict=True):
                    shard.write_images(a - start, chunk_images)
                    for name, values in chunk_columns.items():
                        columns.setdefault(name, []).append(values)
                    if on_progress:
                        on_progress(b - a)
                shard.close({name: np.concatenate(parts) for name, parts in columns.items()})
            except BaseException:
                shard.discard()
                raise
    finally:
        if pool:
            pool.shutdown(cancel_futures=True)
    return writer.finish(extra={"simulation": config.model_dump(), "truth": render.TRUTH_COLUMNS})
