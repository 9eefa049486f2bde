"""How well similarity search finds more of a class from one example (`skyssl evaluate search`).

Every positive is used alone as a query against all embedded objects (exact search); precision@k is
the fraction of its k nearest neighbours, itself excluded, that are positive. Reported: mean and
standard deviation over positives, the base rate (positives / objects) and the enrichment
precision@k / base rate — how many times more positives search finds than random picking (whose
expected precision is (P − 1)/(N − 1) ≈ base rate, since the query itself is excluded).

`augmented_copy_top1` (the fraction of augmented copies whose nearest original is their own source)
needs a model to embed the augmented copies, which this layer does not have: the caller passes the
value, or a zero-argument callable that computes it (e.g. with
:func:`augmented_copy_top1_rate` on vectors from an encoder); it is reported as null otherwise.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from skyssl.embed.reader import Embeddings
from skyssl.errors import InputError
from skyssl.search.build import load_unit_vectors
from skyssl.search.topk import exact_topk, normalise_rows, order_rows

QUERY_BATCH = 1024
_COMPARISONS = {"==": operator.eq, "!=": operator.ne, ">=": operator.ge, "<=": operator.le, ">": operator.gt,
                "<": operator.lt}
_LABEL_RE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(==|!=|>=|<=|>|<)\s*(.+?)\s*$")


def _parse_value(text: str, column: np.ndarray) -> object:
    text = text.strip("'\"")
    if column.dtype.kind in "fiu":
        try:
            return float(text)
        except ValueError:
            raise InputError(f"cannot compare numeric column with {text!r}") from None
    if column.dtype.kind == "b":
        if text.lower() not in ("true", "false", "1", "0"):
            raise InputError(f"cannot compare boolean column with {text!r}")
        return text.lower() in ("true", "1")
    return text


def label_mask(label: str, read_column: Callable[[str], np.ndarray]) -> np.ndarray:
    """Boolean positives from a label spec: a boolean column ('is_lens') or 'column OP value'
    ('lens_grade==A', 'z_spec>0.5'); strings compare after stripping whitespace."""
    match = _LABEL_RE.match(label)
    name = match.group(1) if match else label.strip()
    column = np.asarray(read_column(name))
    if column.ndim != 1:
        raise InputError(f"label column '{name}' is per band {column.shape}; name one value, e.g. '{name}_r'")
    if match is None:
        if column.dtype.kind != "b":
            raise InputError(f"label column '{name}' is {column.dtype}, not boolean; use e.g. '{name}==value'")
        return column.astype(bool)
    value = _parse_value(match.group(3), column)
    values = np.char.strip(column.astype(str)) if column.dtype.kind in "USO" else column
    return np.asarray(_COMPARISONS[match.group(2)](values, value), dtype=bool)


def precision_at_k(unit: np.ndarray, positive: np.ndarray, k: int, query_batch: int = QUERY_BATCH) -> np.ndarray:
    """Per positive query: the positive fraction of its k nearest neighbours, itself excluded."""
    database = torch.from_numpy(unit)
    queries = np.flatnonzero(positive)
    out = np.empty(queries.size)
    for start in range(0, queries.size, query_batch):
        rows = queries[start : start + query_batch]
        sims, ids = exact_topk(database[rows], database, k + 1, self_columns=torch.from_numpy(rows))
        _, ordered = order_rows(sims, ids)
        out[start : start + rows.size] = positive[ordered[:, 1:]].mean(axis=1)  # rank 0 is the query itself
    return out


def augmented_copy_top1_rate(original_vectors: np.ndarray, augmented_vectors: np.ndarray) -> float:
    """Fraction of augmented copies (row i a copy of original i) whose most similar original is i."""
    original, augmented = normalise_rows(original_vectors), normalise_rows(augmented_vectors)
    if original.shape != augmented.shape:
        raise InputError(f"{augmented.shape} augmented vectors for {original.shape} originals")
    _, ids = exact_topk(torch.from_numpy(augmented), torch.from_numpy(original), 1)
    return float((ids[:, 0].numpy() == np.arange(original.shape[0])).mean())


def evaluate_search(embeddings: str | Path | Embeddings, label: str, k: int = 100, vector_kind: str = "backbone",
                    augmented_copy_top1: float | Callable[[], float] | None = None) -> dict:
    """Precision@k of single-example search for the positives of `label` (see the module docstring)."""
    opened = embeddings if isinstance(embeddings, Embeddings) else Embeddings.open(embeddings)
    try:
        n = opened.n_objects
        if not isinstance(k, int) or not 1 <= k <= n - 1:
            raise InputError(f"k must be between 1 and the number of objects − 1 ({n - 1}), got {k}")
        with opened.open_store() as store:
            positive = label_mask(label, lambda name: store.read_column(name)[opened.rows])
        n_positive = int(positive.sum())
        if n_positive == 0:
            raise InputError(f"label {label!r} selects no objects; nothing to evaluate")
        per_query = precision_at_k(load_unit_vectors(opened, vector_kind), positive, k)
    finally:
        if opened is not embeddings:
            opened.close()
    base_rate = n_positive / n
    copy_top1 = augmented_copy_top1() if callable(augmented_copy_top1) else augmented_copy_top1
    return {
        "label": label, "k": k, "vector_kind": vector_kind, "n_objects": n, "n_positives": n_positive,
        "precision_at_k": float(per_query.mean()), "precision_at_k_std": float(per_query.std()),
        "base_rate": base_rate, "enrichment": float(per_query.mean() / base_rate),
        "random_expected_precision": (n_positive - 1) / (n - 1),
        "augmented_copy_top1": None if copy_top1 is None else float(copy_top1),
    }
