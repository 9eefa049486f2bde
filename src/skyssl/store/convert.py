"""Convert cutouts into a skyssl store: the authors' DR9/SDSS HDF5 files, or a folder of FITS cutouts.

The conversion streams shard by shard (one shard of images in memory, never a whole input file),
checks every pixel of every batch as it reads it, and writes through :class:`StoreWriter`, so it
inherits the writer's guarantees: a killed run resumes at the first missing shard, and a folder named
`OUT` is always complete. Input that turns out to be malformed (before or during the copy) raises
:class:`InputError` with a one-line reason and leaves no output behind.

Every catalogue column is kept as stored (per-band (N, C) fields stay (N, C); byte strings become
text); `object_id` is added. For the SDSS layout, whose `e_bv` holds the 5-band DR12 extinction A_b
rather than E(B−V), a scalar `ebv` = mean_b(A_b / R_b) is derived next to it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from skyssl.errors import InputError
from skyssl.store.sources import Source, open_source
from skyssl.store.validate import bad_image_rows
from skyssl.store.writer import IMAGE_DTYPES, StoreWriter

DEFAULT_SHARD_BYTES = 512 * 1024**2
BATCH_ROWS = 256
FLOAT16_MAX_NMGY = float(np.finfo(np.float16).max)

ProgressCallback = Callable[[int, int], None]


@dataclass
class ConvertResult:
    out: Path
    n_objects: int
    n_shards: int
    resumed_shards: int
    survey: str
    image_dtype: str
    warnings: list[str] = field(default_factory=list)


def default_rows_per_shard(image_shape: tuple[int, ...], image_dtype: str) -> int:
    """Rows that make a shard of about `DEFAULT_SHARD_BYTES`: large sequential reads, bounded memory."""
    bytes_per_image = int(np.prod(image_shape)) * np.dtype(image_dtype).itemsize
    return max(1, DEFAULT_SHARD_BYTES // bytes_per_image)


def fail_on_problems(source: Source, path: Path) -> None:
    """Raise the first structural problem (with a count of the rest) before any output exists."""
    problems = list(source.problems)
    if not problems and source.n_objects == 0:
        problems.append(f"{path}: no images to convert")
    if not problems and source.image_shape[1] != source.image_shape[2]:
        height, width = source.image_shape[1:]
        problems.append(f"{path}: stamps must be square, not {height}×{width} pixels")
    if problems:
        extra = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
        raise InputError(problems[0] + extra)


def check_batch(images: np.ndarray, first_row: int, source: Source, image_dtype: str) -> None:
    """Refuse a batch with non-finite pixels, all-zero images, or values float16 cannot hold."""
    nonfinite, allzero = bad_image_rows(images)
    for mask, what in ((nonfinite, "non-finite pixels"), (allzero, "an all-zero image")):
        if mask.any():
            row = first_row + int(np.argmax(mask))
            raise InputError(
                f"{source.row_label(row)}: {what} (object_id {source.object_ids[row]}); "
                f"{int(mask.sum())} such image(s) in rows {first_row}–{first_row + len(mask) - 1}"
            )
    if image_dtype == "float16":
        peak = np.abs(images).reshape(len(images), -1).max(axis=1)
        if (peak > FLOAT16_MAX_NMGY).any():
            row = first_row + int(np.argmax(peak))
            raise InputError(
                f"{source.row_label(row)}: pixel value {peak.max():.4g} nmgy exceeds the float16 "
                "range (65504); convert with --dtype float32"
            )


def read_shard_images(
    source: Source, start: int, stop: int, image_dtype: str, advance: Callable[[int], None]
) -> np.ndarray:
    """Images of rows [start, stop) in the store dtype, read and checked `BATCH_ROWS` at a time."""
    out = np.empty((stop - start, *source.image_shape), dtype=image_dtype)
    for first in range(start, stop, BATCH_ROWS):
        last = min(stop, first + BATCH_ROWS)
        batch = source.read_images(first, last)
        check_batch(batch, first, source, image_dtype)
        out[first - start : last - start] = batch
        advance(last - first)
    return out


def write_shards(writer: StoreWriter, source: Source, on_progress: ProgressCallback | None) -> int:
    """Write every shard the partial output lacks; return how many were already done (resumed)."""
    done = set(writer.done_shards())
    rows_done = 0

    def advance(n_rows: int) -> None:
        nonlocal rows_done
        rows_done += n_rows
        if on_progress is not None:
            on_progress(rows_done, writer.n_objects)

    for index in range(writer.n_shards):
        start, stop = writer.shard_rows(index)
        if index in done:
            advance(stop - start)
            continue
        images = read_shard_images(source, start, stop, writer.image_dtype, advance)
        writer.write_shard(index, images, source.read_columns(start, stop))
    return len(done)


def convert(
    input_path: str | Path,
    out: str | Path,
    *,
    survey_name: str | None = None,
    rows_per_shard: int | None = None,
    image_dtype: str = "float32",
    overwrite: bool = False,
    catalog: str | Path | None = None,
    file_column: str = "file",
    on_progress: ProgressCallback | None = None,
) -> ConvertResult:
    """Convert `input_path` into the store `out`; rerunning the same command resumes an interrupted run."""
    if image_dtype not in IMAGE_DTYPES:
        raise InputError(f"image dtype must be one of {', '.join(IMAGE_DTYPES)}, not {image_dtype!r}")
    if rows_per_shard is not None and rows_per_shard < 1:
        raise InputError(f"--rows-per-shard must be at least 1, not {rows_per_shard}")
    path = Path(input_path)
    if not path.exists():
        raise InputError(f"{path}: no such file or folder")
    if Path(out).resolve() == path.resolve():
        raise InputError(f"{path}: --out must differ from the input")
    source = open_source(path, survey_name, Path(catalog) if catalog else None, file_column)
    try:
        fail_on_problems(source, path)
        rows = rows_per_shard or default_rows_per_shard(source.image_shape, image_dtype)
        writer = StoreWriter(
            out,
            source.survey,
            source.n_objects,
            rows,
            image_dtype,
            job=source.job(),
            overwrite=overwrite,
            stamp_size_px=source.image_shape[-1],
        )
        try:
            resumed = write_shards(writer, source, on_progress)
        except InputError:
            writer.abort()
            raise
        extra = {**source.manifest_record(), "warnings": source.warnings}
        writer.finish(extra=extra)
        return ConvertResult(
            out=Path(out),
            n_objects=source.n_objects,
            n_shards=writer.n_shards,
            resumed_shards=resumed,
            survey=source.survey.name,
            image_dtype=image_dtype,
            warnings=list(source.warnings),
        )
    finally:
        source.close()
