"""The learning stages of `skyssl demo`: pretrain, look at the augmentations and the training curves,
embed the survey, search it from single lenses and measure the enrichment (imported when the demo runs).
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np

from skyssl.augment.rows import augment_rows
from skyssl.embed.extract import embed_store
from skyssl.embed.model import load_run
from skyssl.search.build import build_index
from skyssl.search.evaluate import evaluate_search
from skyssl.search.index import SearchIndex
from skyssl.store import Store
from skyssl.train.config import load_config
from skyssl.train.csvlog import read_metrics
from skyssl.train.run import pretrain
from skyssl.viz import Report, image_grid, survey_rgb, to_uint8
from skyssl.viz.plots import figure_png, new_figure
from skyssl.viz.tiles import store_tiles

CURVES = (("train/loss", "InfoNCE loss"), ("train/acc1", "positive-pair accuracy"),
          ("monitor/retrieval_top1", "augmented-copy retrieval (held out)"), ("lr", "learning rate"))


def _curves_figure(metrics: list[dict[str, str]]) -> bytes:
    fig = new_figure(12, 3)
    fig.set_layout_engine("constrained")
    for ax, (key, title) in zip(fig.subplots(1, len(CURVES)), CURVES, strict=True):
        points = [(int(float(r["step"])), float(r[key])) for r in metrics if r.get(key) not in (None, "")]
        if points:
            steps, values = zip(*points, strict=True)
            ax.plot(steps, values, marker="." if len(points) < 20 else None)
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("step")
    return figure_png(fig)


def pretrain_stage(report: Report, store_path: Path, out: Path, config_path: Path, steps: int) -> Path:
    """MoCo v2 with the cpu-small config; the augmentation sheet and the training curves."""
    config = load_config(config_path)
    run = out / "run"
    started = time.perf_counter()
    pretrain(config, store_path, run, max_steps=steps, overwrite=True)
    minutes = (time.perf_counter() - started) / 60
    report.section("Self-supervised pretraining (MoCo v2)",
                   f"skyssl pretrain --config {config_path} --data {store_path} --out {run} --max-steps {steps}: "
                   f"{minutes:.1f} min. Augmentation spec {config.augment.spec}; the model card is {run}/MODEL_CARD.md.")
    with Store.open(store_path) as store:
        pipeline = load_run(run).pipeline
        rows = np.arange(min(6, store.n_objects))
        nmgy = augment_rows(pipeline, store, rows, n_views=7, seed=0)
        tiles = to_uint8(survey_rgb(nmgy.reshape(-1, *nmgy.shape[2:]), store.survey))
        report.figure(image_grid(tiles, columns=nmgy.shape[1], tile_px=96),
                      "Each row: an object's centre crop, then seven augmented views (extinction, flips and "
                      "rotation, size, PSF blur, jitter, noise).")
    report.figure(_curves_figure(read_metrics(run / "metrics.csv")), "Training curves from metrics.csv.")
    return run


def search_stage(report: Report, store_path: Path, run: Path, out: Path) -> tuple[Path, Path]:
    """Embed, index, query with single lenses, and measure the enrichment over the base rate; returns the
    embeddings and index folders for the stages that follow."""
    embeddings = embed_store(load_run(run), store_path, out / "embeddings", overwrite=True)
    index = build_index(embeddings, out / "index", kind="flat", overwrite=True)
    result = evaluate_search(embeddings, "is_lens", k=10)
    report.section("Similarity search from single lenses",
                   f"skyssl embed, skyssl index --kind flat, then every simulated lens used alone as a query: "
                   f"precision@10 {result['precision_at_k']:.3f} against a base rate of "
                   f"{result['base_rate']:.4f} — an enrichment of {result['enrichment']:.1f}× "
                   "(Stein et al. 2022 found ≈500× at their 1-in-10⁴ base rate with 512 neighbours).")
    report.table([[k, v] for k, v in result.items() if not isinstance(v, list | dict)], columns=["metric", "value"])
    with SearchIndex.open(index) as searcher, Store.open(store_path) as store:
        is_lens = store.read_column("is_lens").astype(bool)
        grade = store.read_column("lens_grade")
        queries = np.flatnonzero(is_lens & np.isin(grade, ("A", "B")))[:4]
        for row in queries:
            query_id = int(store.object_ids[row])
            hits = searcher.search_by_id(query_id, k=9)
            ids = [query_id] + [int(h["object_id"]) for h in hits]
            rows = store.rows_for_ids(ids)
            labels = ["query"] + [f"{h['similarity']:.2f}{' lens' if is_lens[r] else ''}"
                                  for h, r in zip(hits, rows[1:], strict=True)]
            report.figure(image_grid(store_tiles(store, rows), columns=10, labels=labels, tile_px=96),
                          f"Lens {query_id} (grade {grade[row]}) and its nine nearest neighbours; "
                          "'lens' marks true lenses.")
    if not math.isfinite(result["enrichment"]):
        report.text("No lens in this survey to query with.")
    return embeddings, index
