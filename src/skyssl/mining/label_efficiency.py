"""The label-efficiency study: how a metric grows with the number of labels, for several ways to learn.

Hayat et al.'s central claim is that self-supervision needs 2–16× fewer labels than supervised training
from scratch. The study here trains each method on nested subsets of one training set — 64, 128, …,
all labels, every subset contained in the next, so the curves differ by the labels added and not by
which were drawn — and scores all of them on one fixed validation set. Rare classes keep at least
`min_per_stratum` members in every subset (a 64-label subset at 1 % prevalence would otherwise hold
no lens).

The loop and the plot are generic: a :class:`Method` maps training positions to validation scores and a
metric maps (scores, validation targets) to a number, so photo-z and morphology reuse them with their
own methods and metrics. :func:`lens_label_efficiency` is the lens study: the linear probe on the run's
cached embeddings (:func:`skyssl.mining.probe.fit_logistic`), the fine-tuned SSL encoder and the same
CNN from scratch, ranked by precision in the top N (or any lens-finding metric).
"""

from __future__ import annotations

import csv
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from skyssl.embed.reader import Embeddings
from skyssl.errors import InputError
from skyssl.finetune.supervised import SupervisedConfig, predict_rows, train_supervised
from skyssl.mining.finetune import binary_labels, default_top_n, lens_metrics, stratified_split

ALL = "all"
TABLE_FILE = "label_efficiency.csv"
FIGURE_FILE = "label_efficiency.png"
SUMMARY_FILE = "label_efficiency.json"
LENS_METRICS = ("precision_at_n", "recall_at_n", "auc", "pr_auc", "tpr0", "tpr10", "images_per_lens")
"""Figures of :func:`skyssl.mining.metrics.lens_finding_metrics` a lens study can plot."""
Metric = Callable[[np.ndarray, np.ndarray], float | dict[str, float | None]]
"""(validation scores, validation targets) → the figure, or several figures by name."""


@dataclass(frozen=True)
class Method:
    """A way to learn: training positions (into the study's training set) → validation scores."""

    name: str
    fit_score: Callable[[np.ndarray], np.ndarray]


# --- budgets and subsets -------------------------------------------------------------------------
def parse_budgets(text: str) -> list[int | str]:
    """'64,256,1024,all' → [64, 256, 1024, 'all']; every entry a positive integer or 'all'."""
    budgets: list[int | str] = []
    for part in (p.strip() for p in text.split(",")):
        if part.lower() == ALL:
            budgets.append(ALL)
        elif part.isdigit() and int(part) > 0:
            budgets.append(int(part))
        else:
            raise InputError(f"label budget {part!r} is neither a positive integer nor 'all' (e.g. 64,256,all)")
    return budgets


def resolve_budgets(budgets: Sequence[int | str], n_train: int) -> list[int]:
    """Ascending distinct label counts: 'all' and anything above the training set become `n_train`."""
    if not budgets:
        raise InputError("give at least one label budget")
    return sorted({n_train if b == ALL else min(int(b), n_train) for b in budgets})


def nested_subsets(n_train: int, budgets: Sequence[int], seed: int, strata: np.ndarray | None = None,
                   min_per_stratum: int = 0) -> list[np.ndarray]:
    """One subset of positions [0, n_train) per budget (ascending), each containing the previous.

    Each stratum (a class; None: one stratum) is shuffled once and subsets take prefixes of it, in
    proportion to its share of the training set, with at least `min_per_stratum` members (or all it
    has) taken out of the other strata's share. Counts never decrease from one budget to the next,
    which makes the subsets nested; keeping them so can add an object or two to a subset (and a
    minimum above the budget adds more), so callers report `len(subset)`.
    """
    strata = np.zeros(n_train, dtype=np.int64) if strata is None else np.asarray(strata)
    if strata.shape != (n_train,):
        raise InputError(f"strata must have one value per training object ({n_train}), got {strata.shape}")
    rng = np.random.default_rng([seed, 0x1ABE1])
    groups = [rng.permutation(np.flatnonzero(strata == value)) for value in np.unique(strata)]
    sizes = np.array([g.size for g in groups])
    previous = np.zeros(len(groups), dtype=np.int64)
    subsets = []
    for budget in budgets:
        counts = _allocate(int(budget), sizes, min_per_stratum)
        previous = np.maximum(previous, counts)
        subsets.append(np.sort(np.concatenate([g[:k] for g, k in zip(groups, previous, strict=True)])))
    return subsets


def _allocate(budget: int, sizes: np.ndarray, minimum: int) -> np.ndarray:
    """Members per stratum summing to `budget`: strata whose proportional share falls below the minimum
    get the minimum (or all they have), the others share the rest in proportion (largest remainders)."""
    reserve = np.minimum(minimum, sizes)
    fixed = np.zeros(sizes.size, dtype=bool)
    while True:  # each pass fixes at least one more stratum, or ends
        free = max(0, budget - int(reserve[fixed].sum()))
        share = free * sizes / max(1, int(sizes[~fixed].sum()))
        below = ~fixed & (share < reserve)
        if not below.any():
            break
        fixed |= below
    exact = np.where(fixed, reserve, share)
    counts = np.floor(exact).astype(np.int64)
    short = budget - int(counts.sum())
    if short > 0:
        remainder = np.where(fixed, -1.0, exact - counts)
        counts[np.argsort(-remainder, kind="stable")[:short]] += 1
    return np.minimum(counts, sizes)


# --- the loop and the plot -----------------------------------------------------------------------
def run_study(methods: Sequence[Method], subsets: Sequence[np.ndarray], val_targets: np.ndarray, metric: Metric,
              metric_name: str, progress: Callable[[str], None] | None = None) -> list[dict[str, Any]]:
    """Every method on every subset: rows of method, n_labels, the figures, seconds.

    A metric returning a number is recorded under `metric_name`; one returning a dict of figures has all
    of them recorded, and `metric_name` names the one reported as it goes (and plotted later).
    """
    rows = []
    for subset in subsets:
        for method in methods:
            started = time.perf_counter()
            scores = method.fit_score(subset)
            figures = metric(scores, val_targets)
            figures = dict(figures) if isinstance(figures, dict) else {metric_name: float(figures)}
            value = figures[metric_name]
            rows.append({"method": method.name, "n_labels": int(subset.size), **figures,
                         "seconds": time.perf_counter() - started})
            if progress is not None:
                shown = "undefined" if value is None else f"{value:.4g}"
                progress(f"{method.name} on {subset.size} labels: {metric_name} {shown}")
    return rows


def study_figure(rows: Sequence[dict[str, Any]], metric_name: str, title: str = "") -> bytes:
    """PNG: the metric against the number of labels (log x), one line per method; undefined (None)
    values are left out."""
    from skyssl.viz.plots import figure_png, new_figure

    fig = new_figure(6, 4)
    ax = fig.subplots()
    for method in dict.fromkeys(r["method"] for r in rows):
        points = sorted((r["n_labels"], r[metric_name]) for r in rows
                        if r["method"] == method and r[metric_name] is not None)
        if not points:
            continue
        ax.plot(*zip(*points, strict=True), marker="o", label=method)
    ax.set_xscale("log")
    ax.set_xlabel("labelled training objects")
    ax.set_ylabel(metric_name)
    ax.set_title(title, fontsize=9)
    ax.grid(alpha=0.3)
    if ax.lines:
        ax.legend(fontsize=8)
    fig.set_layout_engine("tight")
    return figure_png(fig)


def write_table(path: Path, rows: Sequence[dict[str, Any]]) -> None:
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


# --- the methods ---------------------------------------------------------------------------------
def vectors_for_rows(embeddings: Embeddings, rows: np.ndarray, kind: str = "backbone") -> np.ndarray:
    """float32 vectors of the given store rows; :class:`InputError` if one was not embedded."""
    order = np.argsort(embeddings.rows, kind="stable")
    sorted_rows = embeddings.rows[order]
    at = np.minimum(np.searchsorted(sorted_rows, rows), sorted_rows.size - 1)
    missing = sorted_rows[at] != rows
    if missing.any():
        raise InputError(f"{missing.sum()} labelled object(s) are not in {embeddings.path} (first: store row "
                         f"{int(rows[missing][0])}); embed the whole store")
    return embeddings.vectors(kind, order[at])


PROBE_OPTIONS: dict[str, Any] = {"standardize": True, "l2": 1e-3}
"""The study's default probe: standardised features (the penalty then means the same on any embedding)
and a moderate L2 penalty, which a 64-label subset needs more than the full set."""


def probe_method(train_vectors: np.ndarray, train_targets: np.ndarray, val_vectors: np.ndarray,
                 name: str = "linear probe", **fit_options: Any) -> Method:
    """Logistic regression on cached representations (:func:`skyssl.mining.probe.fit_logistic`, with
    :data:`PROBE_OPTIONS` unless overridden); scores are its logits, (n,) binary or (n, C)."""
    from skyssl.mining.probe import fit_logistic

    options = {**PROBE_OPTIONS, **fit_options}

    def fit_score(positions: np.ndarray) -> np.ndarray:
        probe = fit_logistic(train_vectors[positions], train_targets[positions], **options)
        return np.asarray(probe.decision_function(val_vectors))

    return Method(name, fit_score)


def supervised_method(name: str, run_dir: str | Path, store_path: str | Path, train_rows: np.ndarray,
                      train_targets: np.ndarray, val_rows: np.ndarray, config: SupervisedConfig, out_root: Path,
                      device: str = "auto") -> Method:
    """A supervised run per subset (written to `out_root/<name>-<n>`); scores are its validation outputs,
    squeezed to (n,) for a single output."""
    def fit_score(positions: np.ndarray) -> np.ndarray:
        folder = out_root / f"{name.replace(' ', '-')}-{positions.size}"
        result = train_supervised(run_dir, store_path, train_rows[positions], train_targets[positions], config,
                                  folder, device=device)
        outputs = predict_rows(result, store_path, val_rows, device=device)
        return outputs[:, 0] if outputs.shape[1] == 1 else outputs

    return Method(name, fit_score)


def check_lens_metric(name: str) -> str:
    """`name` if a lens study can plot it; else a one-line :class:`InputError` listing what it can."""
    if name not in LENS_METRICS:
        raise InputError(f"unknown lens metric {name!r}; choose one of: {', '.join(LENS_METRICS)}")
    return name


def lens_figures(n: int) -> Metric:
    """The figures of :func:`skyssl.mining.metrics.lens_finding_metrics` at N = `n` (:data:`LENS_METRICS`),
    as a study metric: every row of a lens study carries all of them."""
    def metric(scores: np.ndarray, labels: np.ndarray) -> dict[str, float | None]:
        figures = lens_metrics(scores, labels, n)
        return {name: figures[name] for name in LENS_METRICS}

    return metric


# --- the lens study -------------------------------------------------------------------------------
def lens_label_efficiency(
    run_dir: str | Path, store_path: str | Path, embeddings_path: str | Path, label: str,
    budgets: Sequence[int | str], config: SupervisedConfig, out: str | Path, val_fraction: float = 0.2,
    top_n: int | None = None, metric: str = "precision_at_n", min_positives: int = 4,
    probe_options: dict[str, Any] | None = None, device: str = "auto",
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Linear probe vs fine-tuned SSL vs the same CNN from scratch, on nested label budgets.

    `config` is the fine-tuning recipe; the from-scratch baseline takes it with a random init and the
    backbone at the head's learning rate (Stein et al.: 1e-3 for random init). Writes the table (CSV),
    the plot (PNG), a JSON summary and each trained model under `out`; returns the summary.
    """
    if config.task != "binary":
        raise InputError(f"the lens study is a binary task, not {config.task!r}")
    out = Path(out)
    labels = binary_labels(store_path, label)
    train, val = stratified_split(labels, val_fraction, config.seed)
    n = default_top_n(labels[val], top_n)
    check_lens_metric(metric)
    with Embeddings.open(embeddings_path) as embeddings:
        embeddings.open_store(store_path).close()  # the vectors are of this store's objects
        train_vectors = vectors_for_rows(embeddings, train)
        val_vectors = vectors_for_rows(embeddings, val)
    counts = resolve_budgets(budgets, train.size)
    subsets = nested_subsets(train.size, counts, config.seed, strata=labels[train], min_per_stratum=min_positives)
    y_train = labels[train].astype(np.float32)
    scratch = replace(config, init="scratch", backbone_lr=config.head_lr)
    methods = [
        probe_method(train_vectors, y_train, val_vectors, **(probe_options or {})),
        supervised_method("fine-tuned SSL", run_dir, store_path, train, y_train, val, config, out / "models", device),
        supervised_method("from scratch", run_dir, store_path, train, y_train, val, scratch, out / "models", device),
    ]
    out.mkdir(parents=True, exist_ok=True)
    rows = run_study(methods, subsets, labels[val], lens_figures(n), metric, progress)
    for row, subset in zip(rows, _each(subsets, len(methods)), strict=True):
        row["n_positive"] = int(labels[train][subset].sum())
    title = (f"{label}: {metric} (N = {n})\n{val.size} validation objects ({int(labels[val].sum())} positive), "
             f"{config.max_steps} steps per CNN")
    figure = study_figure(rows, metric, title)
    write_table(out / TABLE_FILE, rows)
    (out / FIGURE_FILE).write_bytes(figure)
    summary = {
        "label": label, "metric": metric, "n": n, "n_train": int(train.size),
        "n_train_positive": int(labels[train].sum()), "n_val": int(val.size),
        "n_val_positive": int(labels[val].sum()), "budgets": [int(s.size) for s in subsets],
        "steps": config.max_steps, "rows": rows, "table": str(out / TABLE_FILE), "figure": str(out / FIGURE_FILE),
    }
    (out / SUMMARY_FILE).write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def _each(subsets: Sequence[np.ndarray], repeat: int) -> list[np.ndarray]:
    """Each subset `repeat` times in a row: the order in which :func:`run_study` emits its rows."""
    return [subset for subset in subsets for _ in range(repeat)]
