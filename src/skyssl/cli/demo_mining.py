"""The rare-object mining stage of `skyssl demo`: a linear probe on the demo embeddings, its validation
figures with bootstrap intervals, the ratio sweep (Stein et al. 2022 Figure 4) and the first sheet of
ranked candidates (imported when the demo runs)."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from skyssl.embed.reader import Embeddings
from skyssl.mining.candidates import (
    candidate_table,
    score_embeddings,
    write_candidate_sheets,
    write_candidates,
)
from skyssl.mining.labels import load_labels
from skyssl.mining.metrics import bootstrap_ci, precision_at_n, roc_auc, tpr0, tpr10
from skyssl.mining.probe_folder import write_probe_folder
from skyssl.mining.sampling import format_ratio
from skyssl.mining.sweep_plot import sweep_figure
from skyssl.mining.training import ProbeSettings, ratio_sweep, train_probe
from skyssl.store import Store
from skyssl.viz import Report

LABEL = "is_lens"
TRAIN_RATIO = 30.0                            # the demo survey (≈1 % lenses) cannot go much beyond 1:90
SWEEP_RATIOS = [1.0, 3.0, 10.0, 30.0, 100.0]
MIN_LENSES = 4
SHEET_TILE_PX = 48


def _interval_rows(scores: np.ndarray, labels: np.ndarray, n: int, metrics: dict) -> list[list[object]]:
    """precision@N, TPR0, TPR10, AUC with 95 % stratified-bootstrap intervals."""
    measures = (("precision@N", lambda s, y: precision_at_n(s, y, n), metrics["precision_at_n"]),
                ("TPR0", tpr0, metrics["tpr0"]), ("TPR10", tpr10, metrics["tpr10"]), ("ROC AUC", roc_auc, metrics["auc"]))
    rows = []
    for name, function, value in measures:
        low, high = bootstrap_ci(function, scores, labels, n_boot=500)
        rows.append([name, value, f"[{low:.3f}, {high:.3f}]"])
    return rows


def probe_stage(report: Report, store_path: Path, embeddings_path: Path, out: Path) -> Path | None:
    """Train, validate, sweep and rank; returns the candidate CSV (None when the survey has too few lenses)."""
    settings = ProbeSettings()
    with Embeddings.open(embeddings_path) as embeddings:
        labels = load_labels(embeddings, LABEL)
        report.section("Rare-object mining: a linear probe (Stein et al. 2022)")
        if labels.n_positive < MIN_LENSES:
            report.text(f"Only {labels.n_positive} lenses in this survey; a probe needs at least {MIN_LENSES}.")
            return None
        started = time.perf_counter()
        trained = train_probe(embeddings, labels, TRAIN_RATIO, settings)
        write_probe_folder(out / "probe", trained, embeddings, LABEL, format_ratio(TRAIN_RATIO), settings,
                           overwrite=True)
        metrics = trained.metrics
        report.text(
            f"skyssl probe train --label {LABEL} --ratio {format_ratio(TRAIN_RATIO)}: logistic regression on the "
            f"backbone vectors, full-batch LBFGS, L2 chosen from {list(settings.l2_grid)} by true lenses in the "
            f"top N of validation (chose {metrics['l2']:g}); {time.perf_counter() - started:.1f} s. Training "
            f"{metrics['n_train_positive']} lenses at {metrics['train_ratio_achieved']}; validation "
            f"{metrics['n_val_positive']} lenses at {metrics['val_ratio_achieved']} (wanted "
            f"{metrics['val_ratio_requested']}; this survey is too small for more). N = {metrics['n']}.")
        report.table(_interval_rows(trained.val_scores, trained.val_labels, metrics["n"], metrics),
                     columns=["metric (validation)", "value", "95 % bootstrap interval"])

        rows = ratio_sweep(embeddings, labels, SWEEP_RATIOS, settings)
        report.figure(sweep_figure(rows), "Precision in the top N against training ratio (nested training sets, "
                      "one validation split, which differs from the single probe's above because the sweep keeps negatives for "
                      "its largest ratio); grey: the paper's end points at 1:10,000 prevalence and N = 1139.")
        report.table([[r["ratio"], r["train_ratio_achieved"], r["precision_at_n"], r["recall_at_n"], r["tpr0"],
                       r["tpr10"], r["auc"], r["l2"]] for r in rows],
                     columns=["ratio asked", "achieved", "precision@N", "recall@N", "TPR0", "TPR10", "AUC", "L2"])

        with Store.open(store_path) as store:
            table = candidate_table(embeddings, store, score_embeddings(trained.probe, embeddings))
            csv_path = write_candidates(table, out / "candidates.csv")[0]
            sheets = write_candidate_sheets(store, table, out / "candidate-sheets", top=500, tile_px=SHEET_TILE_PX)
            is_lens = store.read_column(LABEL).astype(bool)[store.rows_for_ids(np.asarray(table["object_id"][:500]))]
    report.figure(sheets[0].read_bytes(), f"The first inspection sheet: the top {min(500, len(table))} candidates "
                  f"of the whole survey, best first ({int(is_lens.sum())} true lenses among them; training lenses "
                  f"included). Catalogue: {csv_path}.", width_px=360)
    return csv_path
