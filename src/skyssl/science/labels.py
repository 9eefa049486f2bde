"""Labels for the science studies: numeric catalogue columns read for embedded objects, checked, split.

Labels come from the store the embeddings were computed from, aligned to embedding positions through
the artefact's `rows` (never by assuming positions equal rows). Anything wrong with them is the user's
input, reported as a one-line :class:`InputError`: a column that is not there, per band or not numeric,
NaN or infinite values, too few usable objects. The train/test split is seeded, and so a
label-efficiency curve's test set is the same for every model and budget.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from skyssl.embed.reader import Embeddings
from skyssl.errors import InputError
from skyssl.store import Store


@dataclass(frozen=True)
class LabelledObjects:
    """Embedded objects with a label: their embedding positions, store rows, ids and label values."""

    positions: np.ndarray
    rows: np.ndarray
    object_ids: np.ndarray
    values: np.ndarray

    def __len__(self) -> int:
        return int(self.positions.size)

    def take(self, index: np.ndarray) -> LabelledObjects:
        return LabelledObjects(self.positions[index], self.rows[index], self.object_ids[index], self.values[index])


def read_numeric_column(store: Store, name: str, rows: np.ndarray) -> np.ndarray:
    """float64 values of catalogue column `name` at store `rows`; one-line errors for unusable columns."""
    if name not in store.columns:
        known = ", ".join(store.columns[:12]) + (" …" if len(store.columns) > 12 else "")
        raise InputError(f"label column '{name}' is not in the store {store.path} (columns: {known})")
    column = np.asarray(store.read_column(name))
    if column.ndim != 1:
        raise InputError(f"label column '{name}' is per band {column.shape}; name a single-valued column")
    if column.dtype.kind not in "biuf":
        raise InputError(f"label column '{name}' holds {column.dtype} values, not numbers")
    return column[np.asarray(rows, dtype=np.int64)].astype(np.float64)


def require_finite(values: np.ndarray, name: str) -> None:
    bad = ~np.isfinite(values)
    if bad.any():
        raise InputError(f"label column '{name}' has {int(bad.sum())} NaN or infinite values of {values.size}; "
                         "fix or drop them first")


def require_count(n: int, minimum: int, what: str) -> None:
    if n < minimum:
        raise InputError(f"{what}: {n} objects, at least {minimum} are needed")


def split_train_test(n: int, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Disjoint sorted (train, test) indices of n objects; the test set is ⌈test_fraction · n⌉ of them."""
    if not 0.0 < test_fraction < 1.0:
        raise InputError(f"the test fraction must be within (0, 1), got {test_fraction}")
    order = np.random.default_rng(seed).permutation(n)
    n_test = int(np.ceil(test_fraction * n))
    return np.sort(order[n_test:]), np.sort(order[:n_test])


def parse_fractions(text: str) -> list[float]:
    """'0.1,0.25,1.0' → sorted unique fractions of the training labels, each in (0, 1]."""
    try:
        values = sorted({float(part) for part in text.split(",") if part.strip()})
    except ValueError:
        raise InputError(f"--fractions {text!r}: expected comma-separated numbers such as 0.1,0.5,1.0") from None
    if not values or values[0] <= 0.0 or values[-1] > 1.0:
        raise InputError(f"--fractions {text!r}: every fraction must be within (0, 1]")
    return values


def fraction_sizes(fractions: Sequence[float], n_train: int) -> list[int]:
    """Label counts for fractions of n_train training objects (at least one each)."""
    return [max(1, round(f * n_train)) for f in fractions]


def embedded_labels(embeddings: Embeddings, store: Store, column: str) -> LabelledObjects:
    """Every embedded object with its value of `column` (checked finite), in embedding order."""
    values = read_numeric_column(store, column, embeddings.rows)
    require_finite(values, column)
    return LabelledObjects(np.arange(embeddings.n_objects), embeddings.rows, embeddings.object_ids, values)
