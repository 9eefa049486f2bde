"""What the photo-z and morphology studies share: three models on one split, over nested label budgets.

Hayat et al. compare, on the same train/test split, (1) a linear probe on frozen representations
(:func:`skyssl.mining.probe.fit_logistic` on the cached embeddings), (2) the SSL encoder fine-tuned with
a head (:func:`skyssl.finetune.supervised.train_supervised`, backbone learning rate 10× below the head's)
and (3) the same architecture trained from scratch — and repeat each with a growing share of the
training labels (nested subsets, :func:`skyssl.mining.label_efficiency.nested_subsets`) against one
fixed test set: the label-efficiency curve. That module's loop keeps one metric per fit; a science study
needs every fit's outputs (PDFs, predictions files) and several metrics, hence this grid. A task supplies
its targets and output count; the grid returns the raw test outputs (logits) of every fit.

Every budget of an image model trains for the same number of steps, so a small budget sees its
labels more often; that is the fixed-compute comparison a CPU budget allows, not Hayat et al.'s
100 epochs per budget.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.ticker import FormatStrFormatter, NullFormatter

from skyssl.embed.reader import Embeddings
from skyssl.errors import ArtefactError, InputError
from skyssl.manifest import has_manifest, read_manifest, write_manifest
from skyssl.science.labels import LabelledObjects
from skyssl.viz.plots import figure_png, new_figure

METHODS = ("probe", "finetune", "scratch")
METHOD_LABELS = {"probe": "linear probe (frozen SSL)", "finetune": "fine-tuned SSL", "scratch": "from scratch"}
BACKBONE_LR_RATIO = 0.1  # Hayat et al.: the backbone learns 10× slower than the head


@dataclass(frozen=True)
class FitSettings:
    """How each model is fitted. The image models need the pretraining run and the store it embedded."""

    l2: float = 1e-3
    max_iter: int = 200
    vector_kind: str = "backbone"
    run_dir: Path | None = None
    store_path: Path | None = None
    max_steps: int = 300
    batch_size: int = 64
    head_lr: float = 1e-3
    augment: bool = True
    seed: int = 0
    device: str = "auto"

    def check(self, methods: Sequence[str]) -> None:
        unknown = [m for m in methods if m not in METHODS]
        if unknown or not methods:
            raise InputError(f"unknown model(s) {unknown}; choose from {', '.join(METHODS)}")
        if any(m != "probe" for m in methods) and self.run_dir is None:
            raise InputError("--finetune and --scratch need the pretraining run: --checkpoint RUN")
        if self.l2 < 0 or self.max_iter < 1:
            raise InputError(f"need l2 ≥ 0 and max_iter ≥ 1, got {self.l2}, {self.max_iter}")


@dataclass(frozen=True)
class Fit:
    """One model at one label budget: its raw test outputs (n_test, n_outputs), the training size, and
    whether that was every training label."""

    method: str
    n_labels: int
    all_labels: bool
    outputs: np.ndarray
    seconds: float


def _probe_outputs(x_train: np.ndarray, y: np.ndarray, x_test: np.ndarray, n_outputs: int, settings: FitSettings,
                   save_to: Path | None) -> np.ndarray:
    from skyssl.embed.model import auto_device
    from skyssl.mining.probe import fit_logistic

    n_classes = 2 if n_outputs == 1 else n_outputs
    probe = fit_logistic(x_train, y, n_classes=n_classes, l2=settings.l2, max_iter=settings.max_iter,
                         device=str(auto_device(settings.device)))
    if save_to is not None:
        save_to.mkdir(parents=True, exist_ok=True)
        probe.save(save_to / "probe")
    return np.asarray(probe.decision_function(x_test), dtype=np.float64).reshape(x_test.shape[0], n_outputs)


def _image_outputs(method: str, train: LabelledObjects, y: np.ndarray, test: LabelledObjects, task: str,
                   n_outputs: int, settings: FitSettings, save_to: Path | None) -> np.ndarray:
    from skyssl.finetune.supervised import SupervisedConfig, predict_rows, train_supervised

    config = SupervisedConfig(task=task, n_outputs=n_outputs, init="checkpoint" if method == "finetune" else "scratch",
                              head_lr=settings.head_lr, backbone_lr=settings.head_lr * BACKBONE_LR_RATIO,
                              max_steps=settings.max_steps, batch_size=settings.batch_size,
                              augment=settings.augment, seed=settings.seed)
    with tempfile.TemporaryDirectory(prefix="skyssl-fit-") as scratch_dir:
        out = save_to if save_to is not None else Path(scratch_dir) / "model"
        result = train_supervised(settings.run_dir, settings.store_path, train.rows, y, config, out,
                                  device=settings.device)
        return predict_rows(result, settings.store_path, test.rows, device=settings.device).astype(np.float64)


def run_grid(embeddings: Embeddings, train: LabelledObjects, targets: np.ndarray, test: LabelledObjects, task: str,
             n_outputs: int, methods: Sequence[str], subsets: Sequence[np.ndarray], settings: FitSettings,
             models_dir: Path, advance: Callable[[int], None] | None = None) -> list[Fit]:
    """Each method on each label subset (positions into `train`, nested, the last one all of it); the
    last subset's model is saved under `models_dir/<method>`, and `advance(1)` is called after each fit.
    `targets` align with `train` (class index, or 0/1 for a binary task)."""
    settings.check(methods)
    fits = []
    x_train = x_test = None
    if "probe" in methods:
        x_train = embeddings.vectors(settings.vector_kind, train.positions)
        x_test = embeddings.vectors(settings.vector_kind, test.positions)
    for method in methods:
        for k, subset in enumerate(subsets):
            save_to = models_dir / method if k == len(subsets) - 1 else None
            started = time.perf_counter()
            if method == "probe":
                outputs = _probe_outputs(x_train[subset], targets[subset], x_test, n_outputs, settings, save_to)
            else:
                outputs = _image_outputs(method, train.take(subset), targets[subset], test, task, n_outputs,
                                         settings, save_to)
            fits.append(Fit(method, int(subset.size), subset.size == len(train), outputs,
                            time.perf_counter() - started))
            if advance is not None:
                advance(1)
    return fits


def headline_method(fitted: Sequence[str]) -> str:
    """The model whose figures a study reports at top level: the first fitted in the order of METHODS."""
    return next(m for m in METHODS if m in fitted)


def curve_figure(rows: Sequence[dict], metrics: Sequence[tuple[str, str]], title: str) -> bytes:
    """One panel per (key, axis label): the metric against the number of training labels, one line per model."""
    figure = new_figure(4.0 * len(metrics), 3.2)
    methods = list(dict.fromkeys(row["model"] for row in rows))
    for ax, (key, label) in zip(figure.subplots(1, len(metrics), squeeze=False)[0], metrics, strict=True):
        for method in methods:
            points = sorted((row["n_labels"], row[key]) for row in rows if row["model"] == method)
            ax.plot(*zip(*points, strict=True), marker="o", label=METHOD_LABELS.get(method, method))
        ax.set_xscale("log")
        ax.set_xticks(sorted({row["n_labels"] for row in rows}))
        ax.xaxis.set_major_formatter(FormatStrFormatter("%d"))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel("training labels")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    figure.axes[0].legend(fontsize=8)
    figure.suptitle(title, fontsize=10)
    return figure_png(figure)


# --- the output folder ----------------------------------------------------------------------------
def open_output(out: Path, kind: str) -> Path:
    """A fresh temporary sibling of `out` to write into; `out` may be new, empty, or an earlier `kind`."""
    if out.exists():
        previous = has_manifest(out) and _kind_ok(out, kind)
        if not out.is_dir() or (any(out.iterdir()) and not previous):
            raise InputError(f"{out} exists and is not a {kind} folder; refusing to replace it")
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    return tmp


def _kind_ok(out: Path, kind: str) -> bool:
    try:
        read_manifest(out, kind, 1)
    except ArtefactError:
        return False
    return True


@contextmanager
def discard_on_error(tmp: Path) -> Iterator[None]:
    """Remove the half-written folder when the study fails, so no debris is left beside `out`."""
    try:
        yield
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def close_output(tmp: Path, out: Path, kind: str, body: dict) -> Path:
    """Write the manifest and move the finished folder into place in one rename."""
    write_manifest(tmp, kind, 1, body)
    if out.exists():
        shutil.rmtree(out)
    tmp.rename(out)
    return out
