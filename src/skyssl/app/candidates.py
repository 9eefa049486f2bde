"""A ranked candidate list for review mode: the CSV `skyssl probe predict` or `skyssl anomalies` writes.

Only `object_id` is required; `score` and `rank` are used when present (without `rank` the file's order
is the ranking). The list is read and checked against the index once, at start-up, so a typo in an id
fails the server's start rather than a reviewer's page later.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from skyssl.errors import InputError


@dataclass(frozen=True)
class Candidates:
    """Candidates sorted by rank: object ids, ranks (1 = best) and scores (NaN when the file has none)."""

    object_ids: np.ndarray
    ranks: np.ndarray
    scores: np.ndarray

    @property
    def total(self) -> int:
        return int(self.object_ids.size)

    def page(self, page: int, per_page: int) -> slice:
        """The slice of entries on a 1-based page."""
        if page < 1 or per_page < 1:
            raise InputError(f"page and per_page must be at least 1, got page={page}, per_page={per_page}")
        start = (page - 1) * per_page
        return slice(min(start, self.total), min(start + per_page, self.total))


def _number(text: str, column: str, line: int, path: Path, kind: type) -> float | int:
    try:
        value = kind(text.strip())
    except ValueError:
        raise InputError(f"{path}, line {line}: {column} {text!r} is not a number") from None
    if kind is int and not -(2**63) <= value < 2**63:
        raise InputError(f"{path}, line {line}: {column} {value} is outside the 64-bit integer range")
    return value


def read_candidates(path: str | Path) -> Candidates:
    """Read and validate a candidate CSV; :class:`InputError` with file and line for anything malformed."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such candidates file")
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        fields = reader.fieldnames or []
        if "object_id" not in fields:
            raise InputError(f"{path}: a candidates CSV needs an 'object_id' column (found: {', '.join(fields)})")
        ids, ranks, scores = [], [], []
        for line, record in enumerate(reader, start=2):
            ids.append(_number(record["object_id"], "object_id", line, path, int))
            ranks.append(_number(record["rank"], "rank", line, path, int) if "rank" in fields else len(ranks) + 1)
            scores.append(_number(record["score"], "score", line, path, float) if "score" in fields else math.nan)
    object_ids = np.asarray(ids, dtype=np.int64)
    if np.unique(object_ids).size != object_ids.size:
        raise InputError(f"{path}: an object_id is listed more than once")
    order = np.argsort(np.asarray(ranks, dtype=np.int64), kind="stable")
    return Candidates(object_ids[order], np.asarray(ranks, dtype=np.int64)[order],
                      np.asarray(scores, dtype=np.float64)[order])
