"""Supervised training on images with a pretraining run's encoder: fine-tuning, and the from-scratch baseline.

One trainer serves lens finding (binary), morphology (binary or multiclass) and photo-z (180-bin
multiclass, or regression), after Stein et al.'s ``SSLFineTuner`` (formats §6.3):

- the network is the run's encoder architecture plus a linear head (:mod:`skyssl.finetune.supervised_model`),
  initialised from the run's query encoder (``init="checkpoint"``) or at random (``init="scratch"``);
- the inputs are the run's views: augmented by the run's own :class:`AugmentPipeline` in training
  (drawn on the device from a generator seeded by (seed, step)), the centre view at evaluation — exactly
  as `skyssl embed` sees the objects;
- BCE-with-logits (1 output), cross-entropy (n classes) or MSE; Adam with two parameter groups, head
  and backbone (Hayat et al.: the backbone 10× below the head); ``backbone_lr = 0`` freezes the backbone
  entirely — weights *and* BatchNorm statistics (eval mode), Stein's "linear" mode;
- the configured weight decay is passed to the optimiser (the authors' bug 12: it never was);
- a half-cosine learning-rate decay over ``max_steps`` optimizer steps (Stein: cosine over 100 epochs);
- for a binary task, positives can be oversampled to a fraction of every batch
  (:mod:`skyssl.finetune.oversample`), which Stein et al. did not have.

The output folder is an artefact (weights, config, metrics.csv, manifest), written under a temporary
name and renamed when complete; it carries the architecture and the augmentation config, so
:func:`predict_rows` needs neither the pretraining run nor the training code's state.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch.optim.lr_scheduler import LambdaLR

from skyssl.augment.pipeline import AugmentPipeline
from skyssl.embed.model import auto_device, load_run
from skyssl.errors import ArtefactError, InputError
from skyssl.finetune.oversample import BatchRows
from skyssl.finetune.supervised_inputs import TASKS, checked_rows, checked_targets
from skyssl.finetune.supervised_model import (
    SupervisedModel,
    architecture,
    build_model,
    initial_model,
    pipeline_of,
)
from skyssl.manifest import has_manifest, read_manifest, write_manifest
from skyssl.store import Store
from skyssl.train.data import RawBatch, StoreDataset
from skyssl.train.schedule import lr_factor, step_seed

MANIFEST_KIND = "skyssl.supervised"
SCHEMA_VERSION = 1
WEIGHTS_FILE = "model.pt"
CONFIG_FILE = "config.json"
METRICS_FILE = "metrics.csv"
INITS = ("checkpoint", "scratch")
_VIEW_STREAM = 7


@dataclass(frozen=True)
class SupervisedConfig:
    """One supervised run; see the module docstring for what each choice means. Checked on creation."""

    task: str
    n_outputs: int = 1
    init: str = "checkpoint"
    head_lr: float = 1e-3
    backbone_lr: float = 1e-4
    weight_decay: float = 0.0
    max_steps: int = 1000
    batch_size: int = 64
    positive_fraction: float | None = None
    augment: bool = True
    seed: int = 0
    val_every_n_steps: int = 0

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise InputError(f"unknown task {self.task!r}; choose one of: {', '.join(TASKS)}")
        if self.init not in INITS:
            raise InputError(f"unknown init {self.init!r}; choose one of: {', '.join(INITS)}")
        if self.task == "binary" and self.n_outputs != 1:
            raise InputError(f"a binary task has one output (a logit), not {self.n_outputs}")
        if self.task == "multiclass" and self.n_outputs < 2:
            raise InputError(f"a multiclass task needs n_outputs ≥ 2 classes, got {self.n_outputs}")
        if self.n_outputs < 1:
            raise InputError(f"n_outputs must be at least 1, got {self.n_outputs}")
        if not self.head_lr > 0 or not self.backbone_lr >= 0 or not self.weight_decay >= 0:
            raise InputError(f"learning rates and weight decay must be head_lr > 0, backbone_lr ≥ 0, weight_decay "
                             f"≥ 0; got {self.head_lr}, {self.backbone_lr}, {self.weight_decay}")
        if self.max_steps < 1 or self.batch_size < 2 or self.val_every_n_steps < 0:
            raise InputError(f"need max_steps ≥ 1, batch_size ≥ 2 (BatchNorm) and val_every_n_steps ≥ 0; got "
                             f"{self.max_steps}, {self.batch_size}, {self.val_every_n_steps}")
        if self.positive_fraction is not None:
            if self.task != "binary":
                raise InputError("positive_fraction (oversampling) applies to binary tasks only")
            if not 0.0 < self.positive_fraction < 1.0:
                raise InputError(f"positive_fraction must be in (0, 1), got {self.positive_fraction}")

    @property
    def frozen_backbone(self) -> bool:
        return self.backbone_lr == 0


@dataclass
class SupervisedResult:
    """A trained network (encoder + head, eval mode) and where it was written."""

    out: Path
    history: list[dict[str, float]]
    model: SupervisedModel
    config: SupervisedConfig
    architecture: dict[str, Any]
    pipeline: AugmentPipeline = field(repr=False)
    train_seconds: float = 0.0


# --- losses and optimiser ------------------------------------------------------------------------
def task_loss(outputs: torch.Tensor, targets: torch.Tensor, task: str) -> torch.Tensor:
    """BCE-with-logits on the single output, cross-entropy over classes, or MSE."""
    if task == "binary":
        return F.binary_cross_entropy_with_logits(outputs[:, 0], targets)
    if task == "multiclass":
        return F.cross_entropy(outputs, targets)
    return F.mse_loss(outputs, targets)


def build_optimizer(model: SupervisedModel, config: SupervisedConfig) -> torch.optim.Adam:
    """Adam over two parameter groups, head first; a frozen backbone is left out (and set not to learn)."""
    groups = [{"params": list(model.head.parameters()), "lr": config.head_lr, "name": "head"}]
    if config.frozen_backbone:
        model.encoder.requires_grad_(False)
    else:
        groups.append({"params": list(model.encoder.parameters()), "lr": config.backbone_lr, "name": "backbone"})
    return torch.optim.Adam(groups, weight_decay=config.weight_decay)


def set_training(model: SupervisedModel, config: SupervisedConfig) -> None:
    """Training mode, except a frozen backbone, whose BatchNorm statistics must not move either."""
    model.train()
    if config.frozen_backbone:
        model.encoder.eval()


# --- views and prediction ------------------------------------------------------------------------
def _on(raw: RawBatch, device: torch.device) -> RawBatch:
    return RawBatch(*(t.to(device, non_blocking=True) for t in raw))


def training_views(pipeline: AugmentPipeline, raw: RawBatch, augment: bool, seed: int, step: int) -> torch.Tensor:
    """Augmented views drawn from (seed, step), or the centre views when augmentation is off."""
    images = raw.images.float()
    if not augment:
        return pipeline.center_view(images)
    generator = torch.Generator(device=images.device)
    generator.manual_seed(step_seed(seed, step, 0, _VIEW_STREAM))
    return pipeline(images, raw.ebv, raw.psfsize, raw.psfdepth, generator)


@torch.inference_mode()
def predict_views(model: SupervisedModel, pipeline: AugmentPipeline, store: Store, rows: np.ndarray,
                  batch_size: int, device: torch.device) -> np.ndarray:
    """(n, n_outputs) float32 outputs on the centre views of `rows`, read from the store in batches."""
    was_training = model.training
    model.eval()
    out = np.empty((rows.size, model.n_outputs), dtype=np.float32)
    try:
        for start in range(0, rows.size, batch_size):
            chunk = rows[start : start + batch_size]
            images = torch.from_numpy(store.read_images(chunk, dtype=None)).to(device).float()
            out[start : start + chunk.size] = model(pipeline.center_view(images)).float().cpu().numpy()
    finally:
        model.train(was_training)
    return out


def _mean_loss(outputs: np.ndarray, targets: np.ndarray, task: str) -> float:
    return float(task_loss(torch.from_numpy(outputs), torch.from_numpy(targets), task))


# --- the artefact --------------------------------------------------------------------------------
def _check_out(out: Path) -> None:
    """`out` may be new, empty or a previous supervised artefact (replaced); anything else is refused."""
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not _is_artefact(out))):
        raise InputError(f"{out} exists and is not a skyssl supervised model; refusing to replace it")


def _is_artefact(out: Path) -> bool:
    if not has_manifest(out):
        return False
    try:
        read_manifest(out, MANIFEST_KIND, SCHEMA_VERSION)
    except ArtefactError:
        return False
    return True


def _write_metrics(path: Path, history: list[dict[str, float]]) -> None:
    fields = list(dict.fromkeys(key for row in history for key in row))
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(history)


def _write_artefact(out: Path, model: SupervisedModel, config: SupervisedConfig, body: dict[str, Any],
                    history: list[dict[str, float]]) -> None:
    """Everything into a temporary sibling folder, then one rename: a folder at `out` is always complete."""
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    torch.save({k: v.detach().cpu() for k, v in model.state_dict().items()}, tmp / WEIGHTS_FILE)
    (tmp / CONFIG_FILE).write_text(json.dumps(asdict(config), indent=2) + "\n")
    _write_metrics(tmp / METRICS_FILE, history)
    write_manifest(tmp, MANIFEST_KIND, SCHEMA_VERSION, body)
    if out.exists():
        shutil.rmtree(out)
    tmp.rename(out)


def load_supervised(out: str | Path, device: str | torch.device | None = "cpu") -> SupervisedResult:
    """A supervised artefact back as a :class:`SupervisedResult` (model in eval mode on `device`)."""
    out = Path(out)
    manifest = read_manifest(out, MANIFEST_KIND, SCHEMA_VERSION)
    arch = manifest["model"]
    model = build_model(arch)
    try:
        state = torch.load(out / WEIGHTS_FILE, map_location="cpu", weights_only=True)
        model.load_state_dict(state, strict=True)
    except (OSError, RuntimeError) as exc:
        raise ArtefactError(f"{out / WEIGHTS_FILE}: not the weights its manifest describes "
                            f"({str(exc).splitlines()[0]})") from None
    config = SupervisedConfig(**json.loads((out / CONFIG_FILE).read_text()))
    with open(out / METRICS_FILE, newline="") as handle:
        history = [{k: float(v) for k, v in row.items() if v != ""} for row in csv.DictReader(handle)]
    model.to(auto_device(device)).eval()
    return SupervisedResult(out, history, model, config, arch, pipeline_of(arch),
                            float(manifest.get("train_seconds", 0.0)))


def _check_store_fits(store: Store, pipeline: AugmentPipeline, where: str) -> None:
    survey = pipeline.survey
    n_bands, height, width = store.image_shape
    if n_bands != survey.n_bands or (store.bands is not None and tuple(store.bands) != tuple(survey.bands)):
        raise InputError(f"{where} holds {n_bands} bands but the model was trained on {survey.name} "
                         f"({', '.join(survey.bands)})")
    if min(height, width) < pipeline.crop_px:
        raise InputError(f"{where} holds {height}×{width} px stamps, smaller than the model's {pipeline.crop_px} px view")


# --- training ------------------------------------------------------------------------------------
@dataclass
class _Labelled:
    """Checked store rows with their targets (validation: both None when not given)."""

    rows: np.ndarray | None
    targets: np.ndarray | None


def _fit(model: SupervisedModel, config: SupervisedConfig, pipeline: AugmentPipeline, store_path: str | Path,
         train: _Labelled, val: _Labelled, device: torch.device) -> list[dict[str, float]]:
    """The optimisation loop; returns the history (one row per validation point and at the end)."""
    optimizer = build_optimizer(model, config)
    schedule = LambdaLR(optimizer, lambda step: lr_factor(step, 0, config.max_steps, "cosine", 0.0))
    positive = train.targets > 0.5 if config.positive_fraction is not None else None
    batches = BatchRows(np.arange(train.rows.size), min(config.batch_size, train.rows.size), config.seed, positive,
                        config.positive_fraction)
    targets = torch.from_numpy(train.targets)
    dataset = StoreDataset(str(store_path))
    history: list[dict[str, float]] = []
    started, loss_sum, loss_n = time.perf_counter(), torch.zeros((), device=device), 0
    try:
        with Store.open(store_path) as store:
            set_training(model, config)
            for step in range(config.max_steps):
                positions = batches.next()
                raw = _on(dataset.__getitems__(train.rows[positions].tolist()), device)
                views = training_views(pipeline, raw, config.augment, config.seed, step)
                lrs = [group["lr"] for group in optimizer.param_groups]
                loss = task_loss(model(views), targets[positions].to(device), config.task)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                schedule.step()
                loss_sum, loss_n = loss_sum + loss.detach(), loss_n + 1
                done = step + 1
                if done == config.max_steps or (config.val_every_n_steps and done % config.val_every_n_steps == 0):
                    row = {"step": done, "train_loss": float(loss_sum) / loss_n, "lr_head": lrs[0],
                           "lr_backbone": lrs[1] if len(lrs) > 1 else 0.0, "seconds": time.perf_counter() - started}
                    if val.rows is not None:
                        outputs = predict_views(model, pipeline, store, val.rows, 256, device)
                        row["val_loss"] = _mean_loss(outputs, val.targets, config.task)
                    history.append(row)
                    loss_sum, loss_n = torch.zeros((), device=device), 0
    finally:
        dataset.close()
    model.eval()
    return history


def train_supervised(
    run_dir: str | Path, store_path: str | Path, train_rows: np.ndarray, train_targets: np.ndarray,
    config: SupervisedConfig, out: str | Path, val_rows: np.ndarray | None = None,
    val_targets: np.ndarray | None = None, device: str | torch.device | None = "auto",
) -> SupervisedResult:
    """Train encoder + head on `train_rows` of the store; write the artefact to `out` and return it.

    `history` holds one row per validation point (every `val_every_n_steps` and at the end): step,
    mean training loss since the previous row, both learning rates, seconds, and `val_loss` when
    validation rows are given. Inputs are checked up front (:mod:`skyssl.finetune.supervised_inputs`).
    """
    out = Path(out)
    _check_out(out)
    if (val_rows is None) != (val_targets is None):
        raise InputError("give validation rows and validation targets together")
    chosen = auto_device(device)
    trained = load_run(run_dir, device="cpu")
    with Store.open(store_path) as store:
        _check_store_fits(store, trained.pipeline, str(store_path))
        n_objects = store.n_objects
    rows = checked_rows(train_rows, n_objects, "training rows")
    train = _Labelled(rows, checked_targets(train_targets, rows.size, config.task, config.n_outputs,
                                            "training targets"))
    val = _Labelled(None, None)
    if val_rows is not None:
        val.rows = checked_rows(val_rows, n_objects, "validation rows")
        val.targets = checked_targets(val_targets, val.rows.size, config.task, config.n_outputs,
                                      "validation targets", min_classes=1)
    if rows.size < 2:
        raise InputError("training needs at least two objects (BatchNorm normalises over the batch)")

    model = initial_model(trained, config.n_outputs, config.init, config.seed).to(chosen)
    started = time.perf_counter()
    history = _fit(model, config, trained.pipeline, store_path, train, val, chosen)
    seconds = time.perf_counter() - started
    arch = architecture(trained, config.n_outputs)
    body = {
        "model": arch, "config": asdict(config),
        "run": {"run_dir": str(Path(run_dir).resolve()), "checkpoint_sha256": trained.checkpoint_sha256,
                "global_step": trained.global_step, "weights_used": config.init == "checkpoint"},
        "store": {"path": str(Path(store_path).resolve()), "n_objects": n_objects},
        "n_train": int(rows.size), "n_val": 0 if val.rows is None else int(val.rows.size),
        "batch_size": min(config.batch_size, rows.size), "steps": config.max_steps, "train_seconds": seconds,
        "device": str(chosen), "final": history[-1],
    }
    _write_artefact(out, model, config, body, history)
    return SupervisedResult(out, history, model, config, arch, trained.pipeline, seconds)


def predict_rows(result_or_out_dir: SupervisedResult | str | Path, store_path: str | Path, rows: np.ndarray,
                 batch_size: int = 256, device: str | torch.device | None = "auto") -> np.ndarray:
    """(n, n_outputs) raw outputs (logits for binary and multiclass) on the centre views of `rows`.

    Deterministic: no augmentation, BatchNorm on its running statistics. The store is streamed in
    batches of `batch_size` rows, in the order given.
    """
    if batch_size < 1:
        raise InputError(f"batch_size must be at least 1, got {batch_size}")
    result = result_or_out_dir if isinstance(result_or_out_dir, SupervisedResult) else \
        load_supervised(result_or_out_dir, device="cpu")
    chosen = auto_device(device)
    result.model.to(chosen)
    with Store.open(store_path) as store:
        _check_store_fits(store, result.pipeline, str(store_path))
        checked = checked_rows(rows, store.n_objects, "rows")
        return predict_views(result.model, result.pipeline, store, checked, batch_size, chosen)
