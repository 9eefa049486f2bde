"""Morphology quality: a binary Galaxy-Zoo question judged on high-quality labels, plus the vote-fraction fit.

Hayat et al. train on vote fractions and judge classifiers on the objects volunteers agreed about
(P > 0.8 or P < 0.2); the class is P > 0.5. On that confident set: accuracy, precision, recall, F1,
ROC AUC, and η, which the reference work does not define beyond "as for the classifiers": here η is the
misclassification rate on the confident set (1 − accuracy), the morphology analogue of photo-z's outlier
fraction. Because thresholding hides how well the model tracks the volunteers' uncertainty, the
predicted probability is also compared with the vote fraction on every test object (RMSE and R²,
the regression check formats §8 asks for).
"""

from __future__ import annotations

import numpy as np

from skyssl.errors import InputError


def confident_mask(fraction: np.ndarray, confident: float) -> np.ndarray:
    """High-quality labels: vote fraction above `confident` or below 1 − `confident`."""
    fraction = np.asarray(fraction, dtype=np.float64)
    return (fraction > confident) | (fraction < 1.0 - confident)


def classification_metrics(probability: np.ndarray, truth: np.ndarray, threshold: float = 0.5) -> dict:
    """Accuracy, precision, recall, F1, AUC and η of probabilities against boolean truth."""
    from skyssl.mining.metrics import roc_auc

    truth = np.asarray(truth, dtype=bool)
    if truth.all() or not truth.any():
        raise InputError(f"the confident test set holds one class only ({truth.size} objects); AUC and recall "
                         "need both: use more objects, a lower --confident or another question")
    predicted = np.asarray(probability, dtype=np.float64) > threshold
    tp = int((predicted & truth).sum())
    accuracy = float((predicted == truth).mean())
    precision = tp / int(predicted.sum()) if predicted.any() else 0.0
    recall = tp / int(truth.sum())
    f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    return {"n": int(truth.size), "n_positive": int(truth.sum()), "accuracy": accuracy, "precision": precision,
            "recall": recall, "f1": f1, "auc": float(roc_auc(probability, truth)), "eta": 1.0 - accuracy}


def fraction_fit(probability: np.ndarray, fraction: np.ndarray) -> dict:
    """RMSE and R² of predicted probabilities as estimates of the vote fraction (R² None for constant fractions)."""
    probability = np.asarray(probability, dtype=np.float64)
    fraction = np.asarray(fraction, dtype=np.float64)
    residual = ((probability - fraction) ** 2).sum()
    spread = ((fraction - fraction.mean()) ** 2).sum()
    return {"fraction_rmse": float(np.sqrt(residual / fraction.size)),
            "fraction_r2": float(1.0 - residual / spread) if spread > 0 else None}
