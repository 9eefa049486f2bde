"""The fine-tuning stage of `skyssl demo`: the run's encoder fine-tuned to find lenses, and a small
label-efficiency study (linear probe vs fine-tuned SSL vs from scratch), on a CPU budget of about two
minutes (imported when the demo runs).

The budget is tiny — tens of optimizer steps where Stein et al. ran 100 epochs on a GPU — and the
demo's validation split holds only a handful of lenses, so the figures show that the machinery works
end to end, not what fine-tuning can reach; `skyssl finetune --max-steps` and `skyssl label-efficiency`
run the real thing.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

from skyssl.finetune.supervised import SupervisedConfig
from skyssl.mining.finetune import finetune_lenses
from skyssl.mining.label_efficiency import FIGURE_FILE, lens_label_efficiency, study_figure
from skyssl.viz import Report

LABEL = "is_lens"
FINETUNE_STEPS = 30
STUDY_STEPS = 10
STUDY_BUDGETS = (64, 256, "all")
RECIPE = SupervisedConfig(task="binary", head_lr=1e-3, backbone_lr=1e-4, max_steps=FINETUNE_STEPS, batch_size=32,
                          positive_fraction=0.25, seed=0)
SHOWN = ("n", "precision_at_n", "recall_at_n", "auc", "pr_auc", "tpr0", "tpr10", "images_per_lens",
         "n_train", "n_train_positive", "n_val", "n_val_positive", "steps", "train_seconds")


def finetune_stage(report: Report, store_path: Path, run: Path, embeddings_path: Path, out: Path,
                   title: str = "Fine-tuning for lenses and label efficiency") -> None:
    """Fine-tune on is_lens, then the three-method study on nested label budgets; figures into `report`."""
    started = time.perf_counter()
    figures = finetune_lenses(run, store_path, LABEL, out / "finetune", RECIPE, device="auto")
    report.section(title, (
        f"skyssl finetune --checkpoint {run} --data {store_path} --label {LABEL} --out {out / 'finetune'} "
        f"--max-steps {FINETUNE_STEPS} --batch-size {RECIPE.batch_size}: the run's encoder plus a linear head, "
        f"Adam with the head at {RECIPE.head_lr:g} and the backbone at {RECIPE.backbone_lr:g} (10× lower, as "
        f"Hayat et al.), lenses oversampled to {RECIPE.positive_fraction:.0%} of every batch, trained on the "
        "run's augmented views and scored on centre crops of a stratified 20 % validation split. "
        f"N = {figures['n']} (the number of validation lenses, so precision@N = recall@N).\n\n"
        f"The CPU budget is tiny: {FINETUNE_STEPS} steps of {RECIPE.batch_size} images here, against 100 "
        f"epochs on GPUs in Stein et al. 2022, and {figures['n_val_positive']} validation lenses make every "
        "figure coarse. The stage shows the method end to end, not the accuracy fine-tuning reaches."))
    report.table([[key, figures[key]] for key in SHOWN], columns=["metric", "value"])
    study = lens_label_efficiency(run, store_path, embeddings_path, LABEL, STUDY_BUDGETS,
                                  replace(RECIPE, max_steps=STUDY_STEPS), out / "label-efficiency", device="auto")
    report.text(
        f"skyssl label-efficiency --budgets {','.join(map(str, STUDY_BUDGETS))} --max-steps {STUDY_STEPS}: on nested "
        f"subsets of the training split (at least 4 lenses each), a logistic-regression probe on the cached "
        f"embeddings, the fine-tuned encoder and the same CNN from random weights ({STUDY_STEPS} steps each), all "
        f"scored on the same validation set. Hayat et al. found self-supervision needs 2–16× fewer labels; "
        f"with {STUDY_STEPS} steps per network the CNN curves mostly reflect their starting point. "
        f"{time.perf_counter() - started:.0f} s for this stage.")
    report.figure((out / "label-efficiency" / FIGURE_FILE).read_bytes(),
                  f"precision@N (N = {study['n']}) against the number of labels, log x.")
    report.figure(study_figure(study["rows"], "auc", f"{LABEL}: ROC AUC on the same validation set"),
                  f"ROC AUC against the number of labels: with {study['n_val_positive']} validation lenses it "
                  "moves in finer steps than precision@N.")
    report.table([[r["method"], r["n_labels"], r["n_positive"], r["precision_at_n"], r["auc"], r["pr_auc"],
                   r["seconds"]] for r in study["rows"]],
                 columns=["method", "labels", "lenses", "precision@N", "AUC", "PR AUC", "seconds"])
