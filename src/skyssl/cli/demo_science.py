"""The science stage of `skyssl demo`: photometric redshifts (probe vs fine-tuned vs scratch, over label
fractions) and one Galaxy-Zoo question, on the demo survey's embeddings (imported when the demo runs).

The image models get a token CPU budget (IMAGE_STEPS steps per fit) so the stage stays within about two
minutes on two cores; the report says so, because at that budget they are far from converged and the
comparison shows the machinery, not Hayat et al.'s result.
"""

from __future__ import annotations

import time
from pathlib import Path

from skyssl.errors import InputError
from skyssl.science.morphology import MorphologySettings, morphology_study
from skyssl.science.photoz import PhotozSettings, photoz_study
from skyssl.science.photoz_morphology_study import METHOD_LABELS, FitSettings
from skyssl.viz import Report

IMAGE_STEPS = 20
IMAGE_BATCH = 32
FRACTIONS = (0.1, 0.25, 1.0)
QUESTION = "featured"
PHOTOZ_COLUMNS = ("model", "sigma_mad", "eta", "eta_015", "bias", "crps", "pit_ks", "seconds")
MORPHOLOGY_COLUMNS = ("accuracy", "precision", "recall", "f1", "auc", "eta", "n", "n_positive")


def science_stage(report: Report, store_path: Path, run: Path, embeddings_path: Path, out: Path) -> None:
    """Photo-z with its scatter plot and label-efficiency curves, then one morphology question's metrics."""
    fit = FitSettings(run_dir=run, store_path=store_path, max_steps=IMAGE_STEPS, batch_size=IMAGE_BATCH)
    started = time.perf_counter()
    photoz = photoz_study(embeddings_path, PhotozSettings(label="z_true", methods=("probe", "finetune", "scratch"),
                                                          fractions=FRACTIONS, fit=fit), out / "photoz")
    minutes = (time.perf_counter() - started) / 60
    bins = photoz["bins"]
    report.section(
        "Photometric redshifts",
        f"skyssl photoz train --embeddings {embeddings_path} --label z_true --probe --finetune --scratch "
        f"--checkpoint {run} --fractions {','.join(map(str, FRACTIONS))} --max-steps {IMAGE_STEPS} --batch-size "
        f"{IMAGE_BATCH} --out {out / 'photoz'}: {minutes:.1f} min. A softmax over {bins['n_bins']} redshift bins "
        f"on [0, {bins['z_max']:g}) (Hayat et al.'s classifier; z_phot = E[z]), trained on {photoz['n_train']} "
        f"objects and scored on {photoz['n_test']}. The fine-tuned and from-scratch networks get only "
        f"{IMAGE_STEPS} steps of {IMAGE_BATCH} images per fit on this CPU budget, so they are far from "
        "converged; Hayat et al. trained 100 epochs and found fine-tuned SSL matching supervised training with "
        "2–4× fewer labels.")
    report.figure((out / "photoz" / "photoz_probe.png").read_bytes(),
                  "Linear probe on the frozen representations: z_phot against the true redshift (dashed: |Δz| = "
                  "0.05), and the PIT histogram of its PDFs.")
    report.figure((out / "photoz" / "label_efficiency.png").read_bytes(),
                  "Label efficiency: σ_MAD, η and CRPS on one test set against the number of training labels.")
    report.table([{"model": METHOD_LABELS[name], **figures} for name, figures in photoz["models"].items()],
                 columns=PHOTOZ_COLUMNS, caption="All training labels.")
    _morphology(report, embeddings_path, store_path, out)


def _morphology(report: Report, embeddings_path: Path, store_path: Path, out: Path) -> None:
    settings = MorphologySettings(question=QUESTION, test_fraction=0.3, fit=FitSettings(store_path=store_path))
    command = (f"skyssl morphology train --embeddings {embeddings_path} --question {QUESTION} --test-fraction 0.3 "
               f"--out {out / 'morphology'}")
    try:
        figures = morphology_study(embeddings_path, settings, out / "morphology")
    except InputError as exc:
        report.section("Morphology", f"{command}: not measurable on this survey — {exc}")
        return
    report.section(
        "Morphology",
        f"{command}: a linear probe for the Galaxy-Zoo-style question '{QUESTION}' (vote fraction > 0.5), "
        f"trained on the {figures['n_train']} training objects with at least {figures['min_votes']} votes and "
        f"scored on the {figures['n_test_confident']} test objects with confident labels (fraction > 0.8 or < 0.2); "
        "η is the misclassified fraction. Faint DR9-like galaxies rarely show features, so positives are few.")
    report.table([[key, figures[key]] for key in MORPHOLOGY_COLUMNS], columns=["metric", "value"])
