"""Bulk extraction: the centre-view vectors of every store row, written shard by shard as Embeddings.

How the work is cut, and why:

- **Shards are the unit of resume.** Artefact position p holds store row p. A shard is written whole
  (under a `.tmp` name, renamed when complete) or not at all, so a rerun after a kill skips the shards
  already present and recomputes only the rest. Batches never cross a shard boundary and always start
  at `shard start + i·batch_size`, so a shard's batches — and therefore its bytes — are the same whether
  the job ran in one go or was resumed.
- **Reading overlaps compute.** Where the reader can have a core of its own (a GPU runs the model, or
  torch uses fewer threads than there are cores), a background thread reads the next batches (one
  contiguous `preadv` per batch, which releases the GIL) while the model runs on the current one.
  Where torch's threads take every core, the batches are read in turn between forwards and the
  overlap with the disk comes from the kernel's readahead (:mod:`skyssl.embed.readahead`): a thread
  would only steal a core from the model. Either way the stored dtype is kept on the CPU and widened
  on the device (DESIGN: the CPU only reads bytes), into buffers reused from batch to batch.
- **Ranks split the shards.** With several processes (torchrun/SLURM, see :mod:`skyssl.embed.ranks`)
  each rank embeds one contiguous range of shards and writes its own shard files; rank 0 waits for the
  others and writes the manifest. One process is the same code with one rank.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch

from skyssl.embed.artefact import DEFAULT_ROWS_PER_SHARD, VECTOR_DTYPES, EmbeddingWriter
from skyssl.embed.model import TrainedEncoder
from skyssl.embed.ranks import SINGLE, Ranks, assigned_shards
from skyssl.embed.readahead import RowReader
from skyssl.errors import SkysslError
from skyssl.store import Store

PREFETCH_BATCHES = 2
"""Batches read ahead: one being computed, one ready, one in flight is enough when reading is faster."""
_TORCH_DTYPES = {"float16": torch.float16, "float32": torch.float32}


def batch_spans(start: int, stop: int, batch_size: int) -> list[tuple[int, int]]:
    """[start, stop) cut into batches of `batch_size` rows (the last one shorter), aligned at `start`."""
    if batch_size < 1:
        raise SkysslError(f"batch size must be at least 1, got {batch_size}")
    return [(a, min(stop, a + batch_size)) for a in range(start, stop, batch_size)]


def prefetched(read: Callable[[int, int], torch.Tensor], spans: Iterable[tuple[int, int]],
               depth: int = PREFETCH_BATCHES, advise: Callable[[int, int], None] | None = None,
               advise_depth: int = PREFETCH_BATCHES + 1) -> Iterator[tuple[int, int, torch.Tensor]]:
    """(start, stop, images) for each span, read by one background thread up to `depth` spans ahead.

    With `advise`, the same thread gives the kernel's readahead advice `advise_depth` spans ahead of
    each read. The advice is not free: it allocates the page-cache pages and queues the I/O, about a
    tenth of a cpu-small forward per batch when cold, which the model's own thread would otherwise pay.
    A read error surfaces at the span it belongs to; leaving the loop early cancels pending reads.
    """
    spans = list(spans)
    handed = iter(spans) if advise is None else advised(spans, advise, advise_depth)

    def read_next() -> torch.Tensor:
        """The next span, in order: only the single reader thread advances `handed`."""
        return read(*next(handed))

    pending: deque[tuple[int, int, Future]] = deque()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="skyssl-embed-read") as pool:
        try:
            for a, b in spans:
                pending.append((a, b, pool.submit(read_next)))
                if len(pending) > depth:
                    start, stop, future = pending.popleft()
                    yield start, stop, future.result()
            while pending:
                start, stop, future = pending.popleft()
                yield start, stop, future.result()
        finally:
            for _, _, future in pending:
                future.cancel()


def advised(spans: Iterable[tuple[int, int]], advise: Callable[[int, int], None],
            depth: int) -> Iterator[tuple[int, int]]:
    """The spans in order, each advised (kernel readahead) `depth` spans before it is handed out."""
    spans = list(spans)
    for span in spans[:depth]:
        advise(*span)
    for i, span in enumerate(spans):
        if i + depth < len(spans):
            advise(*spans[i + depth])
        yield span


def read_in_turn(read: Callable[[int, int], torch.Tensor], advise: Callable[[int, int], None],
                 spans: Iterable[tuple[int, int]], depth: int = PREFETCH_BATCHES) -> Iterator[tuple[int, int, torch.Tensor]]:
    """(start, stop, images) for each span, read in the caller's thread once the next `depth` are advised.

    The advice brings the coming batches from the disk while this one is read and computed, without a
    thread of ours competing with the model for the cores.
    """
    for a, b in advised(spans, advise, depth):
        yield a, b, read(a, b)


def available_cores() -> int:
    """Cores this process may run on (its affinity mask where the OS has one)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def read_in_background(device: torch.device, torch_threads: int, cores: int) -> bool:
    """Whether a reader thread pays: only when it has a core that the model's threads do not use.

    On 2 cores with 2 torch threads the thread cost cpu-small 13 % and reads in turn lost 2 % (warm
    cache, BENCHMARKS.md); with a GPU or a spare core the thread overlaps the reads for free.
    """
    return device.type == "cuda" or cores > torch_threads


def vectors_to_numpy(vectors: dict[str, torch.Tensor], dtype: str) -> dict[str, np.ndarray]:
    """Device vectors → host arrays of the artefact dtype (the cast runs in torch: numpy's float16 is slow)."""
    return {kind: v.to(_TORCH_DTYPES[dtype]).cpu().numpy() for kind, v in vectors.items()}


def _embed_shards(encoder: TrainedEncoder, store: Store, writer: EmbeddingWriter, shards: list[int],
                  batch_size: int, projection: bool, on_rows: Callable[[int], None] | None) -> None:
    """Compute and write each listed shard, batch by batch, reading ahead (see the module docstring)."""
    object_ids = store.object_ids
    plan = {k: batch_spans(*writer.shard_rows(k), batch_size) for k in shards}
    spans = [span for k in shards for span in plan[k]]
    background = read_in_background(encoder.device, torch.get_num_threads(), available_cores())
    with RowReader(store, batch_size, PREFETCH_BATCHES + 2 if background else 1,
                   pin=encoder.device.type == "cuda") as reader:
        batches = (prefetched(reader.read, spans, advise=reader.advise) if background
                   else read_in_turn(reader.read, reader.advise, spans))
        _write_shards(encoder, writer, shards, plan, batches, object_ids, projection, on_rows)


def _write_shards(encoder: TrainedEncoder, writer: EmbeddingWriter, shards: list[int],
                  plan: dict[int, list[tuple[int, int]]], batches: Iterator[tuple[int, int, torch.Tensor]],
                  object_ids: np.ndarray, projection: bool, on_rows: Callable[[int], None] | None) -> None:
    """Each shard's batches through the model into its file; a failure discards the shard being written."""
    for k in shards:
        first, _ = writer.shard_rows(k)
        shard = writer.open_shard(k)
        try:
            for _ in plan[k]:
                a, b, images = next(batches)
                vectors = vectors_to_numpy(encoder.embed_images(images, projection), writer.dtype)
                shard.write(a - first, object_ids[a:b], np.arange(a, b), vectors)
                if on_rows is not None:
                    on_rows(b - a)
            shard.close()
        except BaseException:
            shard.discard()
            batches.close()
            raise
    batches.close()


def pending_rows(writer: EmbeddingWriter, shards: Iterable[int]) -> int:
    """Rows still to embed among `shards` (for a progress bar's total)."""
    done = set(writer.done_shards())
    return sum(b - a for k in shards if k not in done for a, b in [writer.shard_rows(k)])


def embed_store(encoder: TrainedEncoder, store_path: str | Path, out: str | Path, batch_size: int = 256,
                dtype: str = "float16", projection: bool = False, rows_per_shard: int = DEFAULT_ROWS_PER_SHARD,
                overwrite: bool = False, ranks: Ranks = SINGLE,
                on_start: Callable[[int, int], None] | None = None,
                on_rows: Callable[[int], None] | None = None) -> Path | None:
    """Embed every row of a store into the Embeddings artefact `out`; resumes an interrupted run.

    `on_start(rows to do, rows already done)` is called once this rank knows its share, `on_rows(n)`
    after every batch (progress bars). Returns the artefact path on rank 0 and None on other ranks.
    """
    if dtype not in VECTOR_DTYPES:
        raise SkysslError(f"dtype must be one of {', '.join(VECTOR_DTYPES)}, not {dtype!r}")
    if batch_size < 1 or rows_per_shard < 1:
        raise SkysslError(f"batch size and rows per shard must be at least 1, got {batch_size} and {rows_per_shard}")
    with Store.open(store_path) as store:
        encoder.check_store(store)

        def make_writer() -> EmbeddingWriter:
            return EmbeddingWriter(out, store, store.n_objects, encoder.dims(projection), dtype=dtype,
                                   rows_per_shard=rows_per_shard, checkpoint_info=encoder.checkpoint_info(),
                                   spec=encoder.preprocessing_spec(), job={"command": "skyssl embed"},
                                   overwrite=overwrite)

        writer = ranks.in_turn(make_writer)  # rank 0 prepares the folder before the others resume into it
        mine = assigned_shards(writer.n_shards, ranks.rank, ranks.world_size)
        done = set(writer.done_shards())
        todo = [k for k in mine if k not in done]
        if on_start is not None:
            total = sum(b - a for a, b in map(writer.shard_rows, mine))
            remaining = pending_rows(writer, todo)
            on_start(remaining, total - remaining)
        _embed_shards(encoder, store, writer, todo, batch_size, projection, on_rows)
        ranks.barrier()  # every rank's shards are on disk
        return writer.finish(store) if ranks.rank == 0 else None
