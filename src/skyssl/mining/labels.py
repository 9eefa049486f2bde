"""Labels for the objects of an Embeddings artefact: from a catalogue column or from a CSV file.

A store column ('is_lens', 'lens_grade==A') labels every embedded object; a CSV of object_id,label
labels only the objects it lists, and the rest stay out of training and validation. Either way the
result is a :class:`LabelSet` of embedding positions, plus the sky positions of those objects (the
exclusion radius around known lenses needs them).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from skyssl.embed.reader import Embeddings
from skyssl.errors import InputError
from skyssl.search.evaluate import label_mask

TRUE_WORDS = frozenset({"1", "1.0", "true", "t", "yes", "y"})
FALSE_WORDS = frozenset({"0", "0.0", "false", "f", "no", "n"})
NAN_WORDS = frozenset({"", "nan", "na", "n/a", "none", "null"})


@dataclass(frozen=True)
class LabelSet:
    """Labelled embedding positions with their labels and coordinates (degrees)."""

    positions: np.ndarray
    labels: np.ndarray
    ra_deg: np.ndarray
    dec_deg: np.ndarray
    source: str

    @property
    def n_positive(self) -> int:
        return int(self.labels.sum())

    @property
    def n_negative(self) -> int:
        return int(self.labels.size - self.labels.sum())


def _parse_label(text: str, object_id: str) -> bool:
    word = text.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    if word in NAN_WORDS:
        raise InputError(f"label of object_id {object_id} is NaN/empty")
    raise InputError(f"label of object_id {object_id} is {text!r}; expected 0/1 or true/false")


def read_label_csv(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(object_ids, labels) from a CSV with columns object_id and label (a header row is required)."""
    if not path.is_file():
        raise InputError(f"{path}: no such label file")
    with open(path, newline="") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None or not {"object_id", "label"} <= set(reader.fieldnames):
            raise InputError(f"{path}: needs a header with columns object_id,label")
        ids, labels = [], []
        for line in reader:
            try:
                ids.append(int(line["object_id"]))
            except (TypeError, ValueError):
                raise InputError(f"{path}: object_id {line['object_id']!r} is not an integer") from None
            labels.append(_parse_label(line["label"] or "", line["object_id"]))
    if not ids:
        raise InputError(f"{path}: no labelled objects")
    ids_array = np.asarray(ids, dtype=np.int64)
    if np.unique(ids_array).size != ids_array.size:
        raise InputError(f"{path}: some object_id appears more than once")
    return ids_array, np.asarray(labels, dtype=bool)


def check_two_classes(labels: np.ndarray, source: str) -> None:
    """Labels that are all positive or all negative leave nothing to learn: a one-line InputError."""
    if labels.all() or not labels.any():
        kind = "positive" if labels.all() else "negative"
        raise InputError(f"labels from {source} are all {kind} ({labels.size} objects): one class only, "
                         "nothing to learn")


def nan_free(values: np.ndarray, name: str) -> np.ndarray:
    """A label column as it is, or a one-line InputError when it holds NaN: a NaN compares False, which
    would silently turn unknown labels into negatives."""
    if values.dtype.kind == "f" and np.isnan(values).any():
        raise InputError(f"label column '{name}' is NaN for {int(np.isnan(values).sum())} objects; label those "
                         "objects or drop them first")
    return values


def load_labels(embeddings: Embeddings, label: str) -> LabelSet:
    """Labels from `label`: a CSV path (ending in .csv) or a store column spec ('is_lens', 'lens_grade==A')."""
    with embeddings.open_store() as store:
        ra, dec = store.read_column("ra"), store.read_column("dec")
        if label.lower().endswith(".csv"):
            ids, labels = read_label_csv(Path(label))
            positions = embeddings.positions_for_ids(ids)
        else:
            labels = label_mask(label, lambda name: nan_free(store.read_column(name)[embeddings.rows], name))
            positions = np.arange(embeddings.n_objects)
    check_two_classes(labels, label)
    rows = embeddings.rows[positions]
    return LabelSet(positions=positions, labels=labels, ra_deg=np.asarray(ra[rows], dtype=np.float64),
                    dec_deg=np.asarray(dec[rows], dtype=np.float64), source=label)
