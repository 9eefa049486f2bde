"""The photo-z study (`skyssl photoz train`): redshift PDFs from representations, after Hayat et al. 2021.

The label column's redshifts are binned (:mod:`skyssl.science.photoz_bins`); each model is a softmax
classifier over the bins, trained with cross-entropy, whose softmax is the PDF and whose E[z] is the
point estimate. Negative values are the catalogue's "no redshift" sentinel (−99 in `z_spec` and
`z_training`) and are left out; NaN is an error; values at or above z_max fall in the last bin (Hayat
et al.'s clamp) and are counted in `n_at_or_above_z_max`, so a wrong range or column shows. The split is seeded; the test set is the same for every
model and every label budget, and metrics (:mod:`skyssl.science.photoz_metrics`) are on it alone.

The output folder holds `metrics.json`, one `predictions_<model>.csv` (object_id, truth, z_phot, the
PDF's mode, Δz, PIT, CRPS) and `pdf_<model>.npy` (float32 bin probabilities, rows as in the CSV) per
model, the models under `models/`, `photoz_<model>.png`, and with several label budgets
`label_efficiency.csv` / `.png`.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from scipy.special import softmax

from skyssl.embed.reader import Embeddings
from skyssl.mining.label_efficiency import nested_subsets, write_table
from skyssl.science.labels import (
    LabelledObjects,
    embedded_labels,
    fraction_sizes,
    require_count,
    split_train_test,
)
from skyssl.science.photoz_bins import RedshiftBins, bins_for
from skyssl.science.photoz_metrics import crps, delta_z, photoz_metrics, pit
from skyssl.science.photoz_morphology_study import (
    METHOD_LABELS,
    Fit,
    FitSettings,
    close_output,
    curve_figure,
    discard_on_error,
    headline_method,
    open_output,
    run_grid,
)
from skyssl.science.photoz_plots import photoz_figure
from skyssl.store import Store

KIND = "skyssl.photoz"
MIN_OBJECTS = 10
CURVE_METRICS = (("sigma_mad", "σ_MAD"), ("eta", "η (|Δz| > 0.05)"), ("crps", "CRPS"))


@dataclass(frozen=True)
class PhotozSettings:
    label: str = "z_true"
    preset: str = "auto"
    n_bins: int | None = None
    z_max: float | None = None
    methods: tuple[str, ...] = ("probe",)
    fractions: tuple[float, ...] = (1.0,)
    test_fraction: float = 0.2
    fit: FitSettings = field(default_factory=FitSettings)


def redshift_labels(embeddings: Embeddings, store: Store, label: str) -> tuple[LabelledObjects, int]:
    """Embedded objects with a redshift (value ≥ 0) and how many had none (negative sentinel)."""
    labels = embedded_labels(embeddings, store, label)
    has_z = labels.values >= 0.0
    require_count(int(has_z.sum()), MIN_OBJECTS, f"label '{label}' has a redshift (≥ 0) for")
    return labels.take(np.flatnonzero(has_z)), int((~has_z).sum())


def pdf_from_logits(logits: np.ndarray) -> np.ndarray:
    return softmax(np.asarray(logits, dtype=np.float64), axis=1)


def _write_predictions(path: Path, test: LabelledObjects, label: str, pdf: np.ndarray, bins: RedshiftBins) -> None:
    z_phot = bins.expected_z(pdf)
    columns = {"object_id": test.object_ids, label: test.values, "z_phot": z_phot,
               "z_mode": bins.centres[np.argmax(pdf, axis=1)], "delta_z": delta_z(z_phot, test.values),
               "pit": pit(pdf, test.values, bins), "crps": crps(pdf, test.values, bins)}
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        for i in range(len(test)):
            writer.writerow([int(test.object_ids[i]), *(f"{columns[k][i]:.6g}" for k in list(columns)[1:])])


def photoz_study(embeddings_path: str | Path, settings: PhotozSettings, out: str | Path,
                 advance: Callable[[int], None] | None = None) -> dict:
    """Train the requested models on one split (at each label fraction), write the folder, return the figures.

    The top-level figures are those of the first requested model (in the order probe, finetune,
    scratch) trained on all training labels; `models` holds each model's, `label_efficiency` one row
    per model and label budget.
    """
    out = Path(out)
    settings.fit.check(settings.methods)
    with Embeddings.open(embeddings_path) as embeddings:
        store_path = Path(settings.fit.store_path or embeddings.store_path)
        with embeddings.open_store(store_path) as store:
            bins = bins_for(settings.preset, store.survey.name if store.survey else None, settings.n_bins,
                            settings.z_max)
            labelled, n_unlabelled = redshift_labels(embeddings, store, settings.label)
        train_index, test_index = split_train_test(len(labelled), settings.test_fraction, settings.fit.seed)
        train, test = labelled.take(train_index), labelled.take(test_index)
        subsets = nested_subsets(len(train), fraction_sizes(sorted({*settings.fractions, 1.0}), len(train)),
                                 settings.fit.seed)
        fit = FitSettings(**{**asdict(settings.fit), "store_path": store_path})
        tmp = open_output(out, KIND)
        with discard_on_error(tmp):
            fits = run_grid(embeddings, train, bins.bin_index(train.values), test, "multiclass", bins.n_bins,
                            settings.methods, subsets, fit, tmp / "models", advance)
            result = _write_results(tmp, fits, train, test, bins, settings, n_unlabelled)
            close_output(tmp, out, KIND, {"embeddings": str(Path(embeddings_path).resolve()),
                                          "store": str(store_path), "label": settings.label, "bins": bins.as_dict(),
                                          "models": list(result["models"]), "n_train": len(train),
                                          "n_test": len(test)})
    return result


def _write_results(tmp: Path, fits: list[Fit], train: LabelledObjects, test: LabelledObjects, bins: RedshiftBins,
                   settings: PhotozSettings, n_unlabelled: int) -> dict:
    """Metrics of every fit, the full-label models' predictions, PDFs and figures, the curve; the figures."""
    rows, per_model = [], {}
    for item in fits:
        pdf = pdf_from_logits(item.outputs)
        figures = photoz_metrics(pdf, test.values, bins)
        rows.append({"model": item.method, "n_labels": item.n_labels,
                     "fraction": round(item.n_labels / len(train), 4), **figures, "seconds": round(item.seconds, 2)})
        if item.all_labels:
            per_model[item.method] = {**figures, "seconds": item.seconds}
            _write_predictions(tmp / f"predictions_{item.method}.csv", test, settings.label, pdf, bins)
            np.save(tmp / f"pdf_{item.method}.npy", pdf.astype(np.float32))
            (tmp / f"photoz_{item.method}.png").write_bytes(photoz_figure(
                test.values, bins.expected_z(pdf), pit(pdf, test.values, bins), figures, bins,
                f"{METHOD_LABELS[item.method]}, {item.n_labels} training labels"))
    if len(rows) > len(per_model):
        write_table(tmp / "label_efficiency.csv", rows)
        (tmp / "label_efficiency.png").write_bytes(curve_figure(rows, CURVE_METRICS, "photo-z label efficiency"))
    first = headline_method(list(per_model))
    result = {
        **{k: v for k, v in per_model[first].items() if k != "seconds"}, "model": first, "label": settings.label,
        "bins": bins.as_dict(), "n_train": len(train), "n_test": len(test), "n_without_redshift": n_unlabelled,
        "n_at_or_above_z_max": int((train.values >= bins.z_max).sum() + (test.values >= bins.z_max).sum()),
        "test_fraction": settings.test_fraction, "seed": settings.fit.seed, "models": per_model,
        "label_efficiency": rows,
    }
    (tmp / "metrics.json").write_text(json.dumps(result, indent=2) + "\n")
    return result
