"""Checks of what a supervised run is given: rows of the store and targets of the task, as one-line errors.

A label file with a NaN, a single class or an id past the end of the store must fail before the first
step, with a line that says which, rather than train a model on nothing or crash in the loss.
"""

from __future__ import annotations

import numpy as np

from skyssl.errors import InputError

TASKS = ("binary", "multiclass", "regression")


def checked_rows(rows: object, n_objects: int, what: str) -> np.ndarray:
    """Store rows as int64 (n,), non-empty and in [0, n_objects)."""
    array = np.asarray(rows)
    if array.ndim != 1:
        raise InputError(f"{what} must be a 1-D array of store rows, got shape {array.shape}")
    if array.size == 0:
        raise InputError(f"{what} is empty; nothing to train or evaluate on")
    if array.dtype.kind not in "iu":
        raise InputError(f"{what} must be integer store rows, not {array.dtype}")
    if array.min() < 0 or array.max() >= n_objects:
        raise InputError(f"{what} has a row out of range [0, {n_objects}) of the store")
    return array.astype(np.int64)


def checked_targets(targets: object, n_rows: int, task: str, n_outputs: int, what: str,
                    min_classes: int = 2) -> np.ndarray:
    """Targets as the loss wants them: float32 (n,) for binary, int64 (n,) for multiclass, float32
    (n, n_outputs) for regression. Raises :class:`InputError` for a wrong length or shape, non-finite
    values, labels that are not 0/1 or a class index, or fewer than `min_classes` classes (training
    needs two; a validation set may hold one)."""
    array = np.asarray(targets)
    if array.shape[:1] != (n_rows,):
        raise InputError(f"{what} has {array.shape[0] if array.ndim else 0} values for {n_rows} rows")
    if array.dtype.kind not in "biuf":
        raise InputError(f"{what} must be numeric, not {array.dtype}")
    values = array.astype(np.float64)
    if not np.isfinite(values).all():
        bad = int((~np.isfinite(values)).sum())
        raise InputError(f"{what} holds {bad} NaN or infinite value(s); drop those objects first")
    if task == "regression":
        return _regression(values, n_outputs, what)
    if values.ndim != 1:
        raise InputError(f"{what} for a {task} task must be 1-D (one label per row), got shape {values.shape}")
    classes = np.unique(values)
    if task == "binary" and not np.isin(classes, (0.0, 1.0)).all():
        raise InputError(f"{what} for a binary task must be 0/1 (or boolean), got {classes[:5].tolist()}")
    if task == "multiclass" and (np.any(classes != np.round(classes)) or classes.min() < 0
                                 or classes.max() >= n_outputs):
        raise InputError(f"{what} for a multiclass task must be class indices in [0, {n_outputs})")
    if classes.size < min_classes:
        raise InputError(f"{what} holds one class only ({classes[0]:g}); a classifier needs at least two")
    return values.astype(np.int64) if task == "multiclass" else values.astype(np.float32)


def _regression(values: np.ndarray, n_outputs: int, what: str) -> np.ndarray:
    if values.ndim == 1 and n_outputs == 1:
        values = values[:, None]
    if values.ndim != 2 or values.shape[1] != n_outputs:
        raise InputError(f"{what} must have shape (n,) or (n, {n_outputs}) for {n_outputs} regression "
                         f"output(s), got {values.shape}")
    return values.astype(np.float32)
