"""Content checks on a store: what `skyssl info` reports and what `skyssl convert` refuses.

Structural problems (column lengths, missing columns, unknown bands) are found when a file is described;
here we add the checks that need pixels: non-finite values and all-zero images. Scanning 10⁸ images
takes hours, so by default a store larger than `full_scan_bytes` is checked on an even sample of rows and
the report says how many rows were looked at.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from skyssl.store.reader import Store

FULL_SCAN_BYTES = 2 * 1024**3
SAMPLE_ROWS = 4096


@dataclass
class Report:
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    checked_rows: int = 0


def bad_image_rows(images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Boolean masks over a batch (n, C, H, W): rows with any non-finite pixel, rows that are all zero."""
    flat = images.reshape(images.shape[0], -1)
    nonfinite = ~np.isfinite(flat).all(axis=1)
    allzero = ~np.any(flat != 0, axis=1)
    return nonfinite, allzero


def check_pixels(store: Store, full: bool = False, batch_size: int = 256) -> tuple[list[str], int]:
    """Problems found in the pixels, and how many rows were checked."""
    n = store.n_objects
    image_bytes = n * int(np.prod(store.image_shape)) * store.dtype.itemsize
    ids = store.object_ids
    nonfinite_ids: list[int] = []
    allzero_ids: list[int] = []
    if full or image_bytes <= FULL_SCAN_BYTES:
        checked = n
        batches = store.iter_image_batches(batch_size, dtype=None)
    else:
        rows = np.unique(np.linspace(0, n - 1, SAMPLE_ROWS).astype(np.int64))
        checked = rows.size
        batches = ((chunk, store.read_images(chunk, dtype=None)) for chunk in np.array_split(rows, max(1, rows.size // batch_size)))
    for rows, images in batches:
        nonfinite, allzero = bad_image_rows(images)
        nonfinite_ids.extend(ids[rows[nonfinite]].tolist())
        allzero_ids.extend(ids[rows[allzero & ~nonfinite]].tolist())
    problems = []
    if nonfinite_ids:
        problems.append(f"{len(nonfinite_ids)} image(s) with non-finite pixels (first object_id {nonfinite_ids[0]})")
    if allzero_ids:
        problems.append(f"{len(allzero_ids)} all-zero image(s) (first object_id {allzero_ids[0]})")
    return problems, checked


def check_catalog(store: Store) -> list[str]:
    """Non-finite coordinates and out-of-range positions."""
    problems = []
    cols = store.columns
    if "ra" in cols and "dec" in cols:
        ra, dec = store.read_column("ra"), store.read_column("dec")
        bad = ~np.isfinite(ra) | ~np.isfinite(dec) | (dec < -90) | (dec > 90) | (ra < -360) | (ra > 360)
        if bad.any():
            problems.append(f"{int(bad.sum())} row(s) with invalid ra/dec (first object_id {store.object_ids[bad][0]})")
    return problems


def validate(store: Store, full: bool = False, pixels: bool = True) -> Report:
    """Everything wrong with a store: structural problems of its files, then catalogue, then pixels.

    `pixels=False` skips the pixel scan, for callers (such as `skyssl convert`) that check every
    batch with :func:`bad_image_rows` while they read it anyway, so the pixels are read once.
    """
    report = Report()
    for layout in store.layouts:
        prefix = f"{layout.path}: " if len(store.layouts) > 1 else ""
        report.problems.extend(prefix + p for p in layout.problems)
        report.warnings.extend(prefix + w for w in layout.warnings)
    if report.problems:
        return report
    report.problems.extend(check_catalog(store))
    if pixels:
        pixel_problems, report.checked_rows = check_pixels(store, full=full)
        report.problems.extend(pixel_problems)
    if store.n_duplicate_ids and store.layout == "skyssl":
        report.problems.append(f"{store.n_duplicate_ids} row(s) repeat an earlier row's object_id")
    elif store.n_duplicate_ids:
        report.warnings.append(
            f"{store.n_duplicate_ids} row(s) repeat an earlier row's id; re-keyed from their positions"
        )
    return report
