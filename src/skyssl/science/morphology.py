"""The morphology study (`skyssl morphology train`): one binary classifier per Galaxy-Zoo-style question.

A question names a vote-fraction column: one of the simulator's (`smooth` → `gz_smooth_fraction`, and
featured, edge_on, bar, spiral, merger) or any catalogue column of fractions in [0, 1]. Objects with at
least `min_votes` votes (column `gz_num_votes`; `min_votes = 0` skips the cut; Stein et al. kept more than
5) are split train/test; the target is fraction > 0.5 — the majority answer, trained on every object
with enough votes, as Hayat et al. trained on all GZ2 labels. Classification metrics are on the test
objects with high-quality labels only (:mod:`skyssl.science.morphology_metrics`); the vote-fraction fit
on all test objects.

The output folder holds `metrics.json`, `predictions_<model>.csv` (object_id, vote fraction, votes,
label, confident, probability, predicted) per model, the models under `models/`, and with several label
budgets `label_efficiency.csv` / `.png`.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from scipy.special import expit

from skyssl.embed.reader import Embeddings
from skyssl.errors import InputError
from skyssl.mining.label_efficiency import ALL, nested_subsets, parse_budgets, resolve_budgets, write_table
from skyssl.science.labels import (
    LabelledObjects,
    embedded_labels,
    read_numeric_column,
    require_count,
    split_train_test,
)
from skyssl.science.morphology_metrics import classification_metrics, confident_mask, fraction_fit
from skyssl.science.photoz_morphology_study import (
    Fit,
    FitSettings,
    close_output,
    curve_figure,
    discard_on_error,
    headline_method,
    open_output,
    run_grid,
)
from skyssl.sim.galaxyzoo import QUESTIONS
from skyssl.store import Store

KIND = "skyssl.morphology"
MIN_OBJECTS = 10
MIN_PER_CLASS = 2
CURVE_METRICS = (("accuracy", "accuracy (confident labels)"), ("auc", "ROC AUC"), ("f1", "F1"))


@dataclass(frozen=True)
class MorphologySettings:
    question: str
    votes_column: str = "gz_num_votes"
    min_votes: int = 5
    threshold: float = 0.5
    confident: float = 0.8
    methods: tuple[str, ...] = ("probe",)
    budgets: str = "all"
    test_fraction: float = 0.2
    fit: FitSettings = field(default_factory=FitSettings)

    @property
    def column(self) -> str:
        return question_column(self.question)


def question_column(question: str) -> str:
    """The vote-fraction column of a question: gz_<question>_fraction for the simulator's, else as given."""
    return f"gz_{question}_fraction" if question in QUESTIONS else question


def vote_labels(embeddings: Embeddings, store: Store, settings: MorphologySettings) -> tuple[LabelledObjects, int]:
    """Embedded objects with enough votes and their vote fractions; how many had too few votes."""
    column = settings.column
    if column not in store.columns:
        raise InputError(f"unknown question {settings.question!r}: no column '{column}' in {store.path} "
                         f"(questions: {', '.join(QUESTIONS)}, or any vote-fraction column)")
    labels = embedded_labels(embeddings, store, column)
    if labels.values.min(initial=0.0) < 0.0 or labels.values.max(initial=0.0) > 1.0:
        raise InputError(f"'{column}' holds values outside [0, 1]; a question needs vote fractions")
    enough = np.ones(len(labels), bool)
    if settings.min_votes > 0:
        votes = read_numeric_column(store, settings.votes_column, labels.rows)
        enough = votes >= settings.min_votes
    require_count(int(enough.sum()), MIN_OBJECTS, f"'{column}' with ≥ {settings.min_votes} votes")
    return labels.take(np.flatnonzero(enough)), int((~enough).sum())


def _require_classes(target: np.ndarray, what: str) -> None:
    n_positive = int(target.sum())
    if min(n_positive, target.size - n_positive) < MIN_PER_CLASS:
        raise InputError(f"{what}: {n_positive} of {target.size} objects answer yes; a classifier needs at least "
                         f"{MIN_PER_CLASS} of each answer")


def _write_predictions(path: Path, test: LabelledObjects, votes: np.ndarray | None, probability: np.ndarray,
                       settings: MorphologySettings) -> None:
    confident = confident_mask(test.values, settings.confident)
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["object_id", settings.column, "votes", "label", "confident", "probability", "predicted"])
        for i in range(len(test)):
            writer.writerow([int(test.object_ids[i]), f"{test.values[i]:.6g}",
                             "" if votes is None else int(votes[i]), int(test.values[i] > settings.threshold),
                             int(confident[i]), f"{probability[i]:.6g}", int(probability[i] > 0.5)])


def morphology_study(embeddings_path: str | Path, settings: MorphologySettings, out: str | Path,
                     advance: Callable[[int], None] | None = None) -> dict:
    """Train the requested models on one split (at each label budget), write the folder, return the figures.

    Top-level figures are the first requested model's (order probe, finetune, scratch) with all
    training labels; `models` holds each model's, `label_efficiency` one row per model and budget.
    """
    out = Path(out)
    settings.fit.check(settings.methods)
    if not 0.5 <= settings.confident < 1.0:
        raise InputError(f"--confident must be within [0.5, 1), got {settings.confident}")
    with Embeddings.open(embeddings_path) as embeddings:
        store_path = Path(settings.fit.store_path or embeddings.store_path)
        with embeddings.open_store(store_path) as store:
            labelled, n_few_votes = vote_labels(embeddings, store, settings)
            test_votes = None
            train_index, test_index = split_train_test(len(labelled), settings.test_fraction, settings.fit.seed)
            train, test = labelled.take(train_index), labelled.take(test_index)
            if settings.min_votes > 0:
                test_votes = read_numeric_column(store, settings.votes_column, test.rows)
        target = (train.values > settings.threshold).astype(np.float64)
        _require_classes(target, f"question {settings.question!r} in the training split")
        test_truth = test.values > settings.threshold
        confident = confident_mask(test.values, settings.confident)
        _require_classes(test_truth[confident], f"question {settings.question!r} in the confident test set")
        counts = resolve_budgets([*parse_budgets(settings.budgets), ALL], len(train))
        subsets = nested_subsets(len(train), counts, settings.fit.seed, strata=target.astype(np.int64),
                                 min_per_stratum=MIN_PER_CLASS)
        fit = FitSettings(**{**asdict(settings.fit), "store_path": store_path})
        tmp = open_output(out, KIND)
        with discard_on_error(tmp):
            fits = run_grid(embeddings, train, target, test, "binary", 1, settings.methods, subsets, fit,
                            tmp / "models", advance)
            result = _write_results(tmp, fits, train, target, test, test_votes, settings, n_few_votes)
            close_output(tmp, out, KIND, {"embeddings": str(Path(embeddings_path).resolve()),
                                          "store": str(store_path), "question": settings.question,
                                          "column": settings.column, "models": list(result["models"]),
                                          "n_train": len(train), "n_test": len(test)})
    return result


def _write_results(tmp: Path, fits: list[Fit], train: LabelledObjects, target: np.ndarray, test: LabelledObjects,
                   test_votes: np.ndarray | None, settings: MorphologySettings, n_few_votes: int) -> dict:
    """Metrics of every fit, the full-label models' predictions, the curve; the figures."""
    test_truth = test.values > settings.threshold
    confident = confident_mask(test.values, settings.confident)
    rows, per_model = [], {}
    for item in fits:
        probability = expit(item.outputs[:, 0])
        figures = {**classification_metrics(probability[confident], test_truth[confident]),
                   **fraction_fit(probability, test.values)}
        rows.append({"model": item.method, "n_labels": item.n_labels, **figures, "seconds": round(item.seconds, 2)})
        if item.all_labels:
            per_model[item.method] = {**figures, "seconds": item.seconds}
            _write_predictions(tmp / f"predictions_{item.method}.csv", test, test_votes, probability, settings)
    if len(rows) > len(per_model):
        write_table(tmp / "label_efficiency.csv", rows)
        (tmp / "label_efficiency.png").write_bytes(curve_figure(
            rows, CURVE_METRICS, f"morphology label efficiency: {settings.question}"))
    first = headline_method(list(per_model))
    result = {
        **{k: v for k, v in per_model[first].items() if k != "seconds"}, "model": first,
        "question": settings.question, "column": settings.column, "min_votes": settings.min_votes,
        "confident": settings.confident, "n_train": len(train), "n_train_positive": int(target.sum()),
        "n_test": len(test), "n_test_confident": int(confident.sum()), "n_too_few_votes": n_few_votes,
        "test_fraction": settings.test_fraction, "seed": settings.fit.seed, "models": per_model,
        "label_efficiency": rows,
    }
    (tmp / "metrics.json").write_text(json.dumps(result, indent=2) + "\n")
    return result
