"""`RUN/metrics.csv` that survives a resume: Lightning's CSVLogger, minus the deletion, plus a rewind.

Lightning's CSV writer deletes an existing `metrics.csv` when its folder is not empty, so a resumed run
would lose its history. Here the file is appended to, with the header widened when new columns appear.
Before a resume, :func:`rewind_metrics` drops the rows a killed run wrote after its last checkpoint,
so the file reads as one uninterrupted run. Every row's `step` counts completed optimizer steps.
"""

from __future__ import annotations

import csv
from pathlib import Path

from lightning.fabric.loggers.logger import rank_zero_experiment
from lightning.pytorch.loggers import CSVLogger
from lightning.pytorch.loggers.csv_logs import ExperimentWriter

METRICS_FILE = "metrics.csv"


class _AppendingWriter(ExperimentWriter):
    """Appends to an existing metrics file instead of deleting it; knows its columns from the header."""

    def __init__(self, log_dir: str) -> None:
        super().__init__(log_dir)
        path = Path(self.metrics_file_path)
        if path.is_file():
            with open(path, newline="") as handle:
                self.metrics_keys = sorted(next(csv.reader(handle), []))

    def _check_log_dir_exists(self) -> None:
        Path(self.log_dir).mkdir(parents=True, exist_ok=True)


class AppendingCSVLogger(CSVLogger):
    """CSVLogger writing `metrics.csv` straight into `save_dir`, appending across resumes."""

    def __init__(self, save_dir: str | Path) -> None:
        super().__init__(str(save_dir), name="", version="", flush_logs_every_n_steps=1)

    @property
    @rank_zero_experiment
    def experiment(self) -> _AppendingWriter:
        if self._experiment is None:
            self._experiment = _AppendingWriter(log_dir=self.log_dir)
        return self._experiment


def read_metrics(path: str | Path) -> list[dict[str, str]]:
    """Rows of a metrics.csv as dicts (empty cells are empty strings)."""
    path = Path(path)
    if not path.is_file():
        return []
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def rewind_metrics(path: str | Path, last_step: int) -> int:
    """Drop rows with `step` > `last_step` (written after the checkpoint being resumed); return how many."""
    path = Path(path)
    if not path.is_file():
        return 0
    with open(path, newline="") as handle:
        reader = csv.DictReader(handle)
        fields = reader.fieldnames or []
        rows = list(reader)
    kept = [row for row in rows if not row.get("step") or int(float(row["step"])) <= last_step]
    if len(kept) == len(rows):
        return 0
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(kept)
    tmp.replace(path)
    return len(rows) - len(kept)
