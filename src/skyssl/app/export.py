"""The graded catalogue: every label row with its object's position, as CSV or a FITS binary table.

One row per label (not per object), newest first, so the export is the whole review history — who said
what, when — and a reader wanting current grades keeps the first row per object. Objects no longer in
the index (a database reused with another index) keep their label with a blank position.
"""

from __future__ import annotations

import csv
import io

import numpy as np
from astropy.table import Table

from skyssl.search.index import SearchIndex

EXPORT_COLUMNS = ("object_id", "ra", "dec", "grade", "reviewer", "note", "created_at", "label_id")


def graded_rows(index: SearchIndex, labels: list[dict]) -> list[dict]:
    """Label dicts (from :class:`LabelsDB`) joined with their object's RA and Dec."""
    ids = np.asarray([label["object_id"] for label in labels], dtype=np.int64)
    known = np.isin(ids, index.ids)
    positions = np.full(ids.size, -1, dtype=np.int64)
    if known.any():
        positions[known] = index.positions(ids[known])
    rows = []
    for label, position in zip(labels, positions.tolist(), strict=True):
        ra = float(index.catalog.ra_deg[position]) if position >= 0 else None
        dec = float(index.catalog.dec_deg[position]) if position >= 0 else None
        rows.append({"object_id": label["object_id"], "ra": ra, "dec": dec, "grade": label["grade"],
                     "reviewer": label["reviewer"], "note": label["note"], "created_at": label["created_at"],
                     "label_id": label["id"]})
    return rows


def rows_to_csv(rows: list[dict], columns: tuple[str, ...] | list[str]) -> str:
    """CSV text with a header; None becomes an empty field."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: "" if row.get(key) is None else row.get(key) for key in columns})
    return buffer.getvalue()


def rows_to_fits(rows: list[dict]) -> bytes:
    """A FITS file (empty primary HDU + one binary table) of graded rows; unknown positions are NaN, and text
    is UTF-8 (FITS itself only knows ASCII)."""
    table = Table()
    table["object_id"] = np.asarray([r["object_id"] for r in rows], dtype=np.int64)
    for name in ("ra", "dec"):
        table[name] = np.asarray([np.nan if r[name] is None else r[name] for r in rows], dtype=np.float64)
        table[name].unit = "deg"
    for name in ("grade", "reviewer", "note", "created_at"):  # FITS strings are bytes: store UTF-8
        table[name] = np.asarray([r[name].encode("utf-8") for r in rows], dtype=bytes) if rows else \
            np.zeros(0, dtype="S1")
    table["label_id"] = np.asarray([r["label_id"] for r in rows], dtype=np.int64)
    table.meta["EXTNAME"] = "LABELS"
    buffer = io.BytesIO()
    table.write(buffer, format="fits")
    return buffer.getvalue()
