"""The ranked anomaly list: a CSV of object_id, score, rank (1 = most anomalous) and, when known, ra, dec.

This is the layout the web app's review mode reads (object_id, score, rank), so a ranking made here
can be inspected and graded there. Ties keep embedding order, so the same scores give the same file.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from skyssl.errors import InputError
from skyssl.mining.candidates import ranking
from skyssl.viz.png import write_bytes_atomic

RANKED_COLUMNS = ("object_id", "score", "rank", "ra", "dec")


def ranked_csv_text(object_ids: np.ndarray, scores: np.ndarray, ra_deg: np.ndarray | None = None,
                    dec_deg: np.ndarray | None = None) -> str:
    """CSV text of every object in ranked order; ra and dec columns only when both are given."""
    object_ids, scores = np.asarray(object_ids, np.int64), np.asarray(scores, np.float64)
    if object_ids.shape != scores.shape:
        raise InputError(f"{scores.size} scores for {object_ids.size} objects")
    order = ranking(scores)  # highest first, ties by position
    with_sky = ra_deg is not None and dec_deg is not None
    buffer = io.StringIO()
    buffer.write(",".join(RANKED_COLUMNS if with_sky else RANKED_COLUMNS[:3]) + "\n")
    ids, values = object_ids[order].tolist(), scores[order].tolist()
    if with_sky:
        ras, decs = np.asarray(ra_deg, np.float64)[order].tolist(), np.asarray(dec_deg, np.float64)[order].tolist()
        buffer.writelines(f"{i},{s:.6g},{r},{a:.7f},{d:.7f}\n"
                          for r, (i, s, a, d) in enumerate(zip(ids, values, ras, decs, strict=True), start=1))
    else:
        buffer.writelines(f"{i},{s:.6g},{r}\n" for r, (i, s) in enumerate(zip(ids, values, strict=True), start=1))
    return buffer.getvalue()


def write_ranked_csv(path: str | Path, object_ids: np.ndarray, scores: np.ndarray,
                     ra_deg: np.ndarray | None = None, dec_deg: np.ndarray | None = None) -> Path:
    """Write the ranked CSV atomically (whole or absent)."""
    return write_bytes_atomic(ranked_csv_text(object_ids, scores, ra_deg, dec_deg).encode("utf-8"), path)
