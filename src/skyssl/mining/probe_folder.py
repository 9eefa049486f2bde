"""The probe artefact written by `skyssl probe train`: the probe, its validation scores, a manifest.

Folder layout: probe.npz and probe.json (see :meth:`LinearProbe.save`), validation.csv (object_id,
label, score of every validation object, for bootstrap intervals and later plots) and manifest.json
recording the embeddings it was trained on, the label, the settings and the validation metrics.
"""

from __future__ import annotations

import csv
from pathlib import Path

from skyssl.embed.partial import PartialFolder
from skyssl.embed.reader import Embeddings
from skyssl.manifest import read_manifest
from skyssl.mining.probe import LinearProbe
from skyssl.mining.training import ProbeSettings, TrainedProbe

PROBE_KIND = "skyssl.probe"
PROBE_SCHEMA_VERSION = 1
PROBE_FILE = "probe.npz"
VALIDATION_FILE = "validation.csv"


def write_probe_folder(out: Path, trained: TrainedProbe, embeddings: Embeddings, label: str, ratio_text: str,
                       settings: ProbeSettings, overwrite: bool = False) -> Path:
    """Publish the probe folder `out` (written under OUT.partial and renamed when complete)."""
    job = {"embeddings": str(embeddings.path.resolve()), "label": label, "ratio": ratio_text,
           "settings": settings.as_dict()}
    folder = PartialFolder(out, job, overwrite=overwrite, resumable=False)
    trained.probe.save(folder.piece(PROBE_FILE))
    with open(folder.piece(VALIDATION_FILE), "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["object_id", "label", "score"])
        ids = embeddings.object_ids[trained.val_positions]
        for object_id, label_value, score in zip(ids, trained.val_labels, trained.val_scores, strict=True):
            writer.writerow([int(object_id), int(label_value), f"{float(score):.6g}"])
    body = {"label": label, "ratio": ratio_text, "settings": settings.as_dict(), "metrics": trained.metrics,
            "l2_grid": trained.grid, "split": trained.split, "vector_kind": settings.vector_kind,
            "n_features": trained.probe.n_features,
            "embeddings": {"path": str(embeddings.path.resolve()), "manifest_sha256": embeddings.manifest_sha256},
            "files": {"probe": PROBE_FILE, "validation": VALIDATION_FILE}}
    return folder.publish(PROBE_KIND, PROBE_SCHEMA_VERSION, body)


def open_probe(path: Path) -> tuple[LinearProbe, dict]:
    """The probe and manifest of a probe folder; ArtefactError if either is missing or broken."""
    manifest = read_manifest(path, PROBE_KIND, PROBE_SCHEMA_VERSION)
    return LinearProbe.load(path / manifest["files"]["probe"]), manifest
