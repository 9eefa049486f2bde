"""Fine-tuning for lens finding: labels from the store, a stratified split, oversampled lenses,
and the lens-finding metrics on the validation split.

The recipe is Stein et al.'s fine-tune mode (formats §6.3: head lr 1e-3, backbone lr 1e-4 from the SSL
checkpoint or 1e-3 from random init) on :func:`skyssl.finetune.supervised.train_supervised`, plus what they
did not have: lenses oversampled to a fraction of every batch, and a validation split stratified so it
holds lenses at the store's own prevalence. The validation set is ranked by the fine-tuned logit and
scored with :func:`skyssl.mining.metrics.lens_finding_metrics`, the module every method in
:mod:`skyssl.mining` is judged by. By default N, the inspection budget, is the number of validation
lenses, so precision@N = recall@N (the "R-precision"); pass `top_n` for a fixed budget.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from skyssl.errors import InputError
from skyssl.finetune.supervised import SupervisedConfig, predict_rows, train_supervised
from skyssl.manifest import write_json_atomic
from skyssl.mining.labels import check_two_classes, nan_free
from skyssl.search.evaluate import label_mask
from skyssl.store import Store

EVALUATION_FILE = "evaluation.json"


def binary_labels(store_path: str | Path, label: str) -> np.ndarray:
    """Positives (bool per store row) of a label spec ('is_lens', 'lens_grade==A'), checked for use as labels.

    An unknown column, a column with NaN, or a spec selecting no object or every object is a one-line
    :class:`InputError` (a NaN compares False, which would silently turn unknown labels into negatives).
    """
    with Store.open(store_path) as store:
        positive = label_mask(label, lambda name: nan_free(store.read_column(name), name))
    check_two_classes(positive, repr(label))
    return positive


def stratified_split(classes: np.ndarray, val_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(training, validation) positions, ascending: every class split at `val_fraction`, at least one
    object of each class on each side (so a rare class is never all in one split)."""
    if not 0.0 < val_fraction < 1.0:
        raise InputError(f"the validation fraction must be in (0, 1), got {val_fraction}")
    classes = np.asarray(classes)
    rng = np.random.default_rng([seed, 0x5B117])
    val = []
    for value in np.unique(classes):
        members = np.flatnonzero(classes == value)
        if members.size < 2:
            raise InputError(f"class {value!r} has {members.size} object; need at least 2 to have one in "
                             "training and one in validation")
        n_val = min(max(1, round(val_fraction * members.size)), members.size - 1)
        val.append(rng.choice(members, size=n_val, replace=False))
    is_val = np.zeros(classes.size, dtype=bool)
    is_val[np.concatenate(val)] = True
    return np.flatnonzero(~is_val), np.flatnonzero(is_val)


def default_top_n(val_labels: np.ndarray, top_n: int | None) -> int:
    """N of precision@N: as given (at most the validation size), else the number of validation positives."""
    n_val = int(np.asarray(val_labels).size)
    n = int(np.asarray(val_labels).sum()) if top_n is None else int(top_n)
    if not 1 <= n <= n_val:
        raise InputError(f"N (top_n) must be between 1 and the {n_val} validation objects, got {n}")
    return n


def lens_metrics(scores: np.ndarray, labels: np.ndarray, n: int) -> dict[str, Any]:
    """The shared lens-finding metrics of a ranked validation set (imported when first needed)."""
    from skyssl.mining.metrics import lens_finding_metrics

    return lens_finding_metrics(np.asarray(scores, dtype=np.float64), np.asarray(labels, dtype=bool), n)


def finetune_lenses(run_dir: str | Path, store_path: str | Path, label: str, out: str | Path,
                    config: SupervisedConfig, val_fraction: float = 0.2, top_n: int | None = None,
                    device: str = "auto") -> dict[str, Any]:
    """Fine-tune (or, with `config.init == "scratch"`, train from scratch) on `label` and evaluate.

    Writes the supervised artefact to `out` plus `out/evaluation.json`, and returns the figures: the
    lens-finding metrics on the validation split, the split's sizes, steps and seconds.
    """
    if config.task != "binary":
        raise InputError(f"lens finding is a binary task, not {config.task!r}")
    labels = binary_labels(store_path, label)
    train, val = stratified_split(labels, val_fraction, config.seed)
    n = default_top_n(labels[val], top_n)
    started = time.perf_counter()
    result = train_supervised(run_dir, store_path, train, labels[train], config, out, val, labels[val], device)
    scores = predict_rows(result, store_path, val, device=device)[:, 0]
    figures = {
        "label": label, "init": config.init, **lens_metrics(scores, labels[val], n),
        "n_train": int(train.size), "n_train_positive": int(labels[train].sum()),
        "n_val": int(val.size), "n_val_positive": int(labels[val].sum()),
        "positive_fraction": config.positive_fraction, "head_lr": config.head_lr,
        "backbone_lr": config.backbone_lr, "batch_size": config.batch_size, "steps": config.max_steps,
        "train_seconds": result.train_seconds, "seconds": time.perf_counter() - started,
        "val_loss": result.history[-1].get("val_loss"), "out": str(Path(out)),
    }
    write_json_atomic(Path(out) / EVALUATION_FILE, figures)
    return figures
