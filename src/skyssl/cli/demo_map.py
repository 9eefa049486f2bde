"""The map stage of `skyssl demo`: the UMAP mosaic of the representations, panels coloured by truth, the
pixel-space map beside it, the stationarity test, and the top anomalies with their ROC AUC against the
rare classes (imported when the demo runs).
"""

from __future__ import annotations

import time
from pathlib import Path

from skyssl.embed.model import load_run
from skyssl.embed.reader import Embeddings
from skyssl.mining.candidates import ranking
from skyssl.science.anomalies import anomaly_scores
from skyssl.science.anomalies_eval import RARE_MORPH_CLASSES, evaluate_scores, truth_targets
from skyssl.science.anomalies_ranked import write_ranked_csv
from skyssl.science.umap_panels import column_values, panel_figure
from skyssl.science.umap_study import make_map, mosaic_image, pixel_map, stationarity_test
from skyssl.store import Store
from skyssl.viz import Report, image_grid
from skyssl.viz.tiles import display_survey, store_tiles

PANEL_COLUMNS = ("morph_class", "is_lens")
TOP_ANOMALIES = 30
KNN_K = 10


def _truth_tag(store: Store, row: int) -> str:
    """What the simulation says an object is, in a few characters for a tile label."""
    artefact = str(store.read_column("artefact", [row])[0]).strip()
    if artefact:
        return artefact
    if bool(store.read_column("is_lens", [row])[0]):
        return "lens"
    return str(store.read_column("morph_class", [row])[0]).strip()


def _map_section(report: Report, store: Store, opened: Embeddings, run: Path, out: Path) -> None:
    started = time.perf_counter()
    result = make_map(opened, out / "map.umap", overwrite=True)
    seconds = time.perf_counter() - started
    report.section("The map of the representation space (UMAP)",
                   f"skyssl umap --embeddings {opened.path} --out {out / 'map.png'} --color-by morph_class "
                   f"--color-by is_lens --checkpoint {run}: UMAP (cosine, 15 neighbours, seed 0) of the "
                   f"{opened.n_objects} backbone vectors in {seconds:.1f} s. As in Hayat et al. (2021, Figure 2), "
                   "a 24 × 24 grid is laid over the map and each occupied cell shows the object nearest its "
                   "centre, so the mosaic is a picture of what lives where. The coordinates, keyed by object_id, "
                   f"and the fitted model that places new objects are in {result.path}.")
    sheet, cells = mosaic_image(store, display_survey(store), result.rows, result.coords.xy)
    report.figure(sheet, f"The mosaic: {cells.positions.size} occupied cells of 24².", width_px=768)
    colours = {name: column_values(store, name, result.rows) for name in PANEL_COLUMNS}
    for name, values in colours.items():
        report.figure(panel_figure(result.coords.xy, values, name), f"The same map coloured by the truth column "
                      f"{name}; rare classes are drawn on top and larger.")
    encoder = load_run(run)
    figure, pixels = pixel_map(encoder, store, result, colours["morph_class"], "morph_class", seed=0)
    report.figure(figure, "Left: the representation map; right: UMAP of the same objects' pixels (the run's centre "
                  "view, asinh-stretched, pooled to 16 × 16 per band). The fraction of each object's 10 nearest "
                  f"map neighbours sharing its morph_class: {pixels['neighbour_agreement_representations']:.3f} "
                  f"(representations) vs {pixels['neighbour_agreement_pixels']:.3f} (pixels).")
    figure, station = stationarity_test(encoder, store, result, seed=0)
    report.figure(figure, "Stationarity under augmentations (Hayat et al. Appendix B): an augmented view of each "
                  f"of {station['n_objects']} objects, embedded and placed with the fitted map, moves a median "
                  f"{station['median_shift_in_neighbour_distances']:.1f} neighbour distances, "
                  f"{station['median_shift_over_pair_distance']:.2f} of the distance between two random objects.")


def _anomaly_section(report: Report, store: Store, opened: Embeddings, out: Path) -> None:
    vectors = opened.vectors("backbone")
    targets = truth_targets(store.columns, lambda name: store.read_column(name)[opened.rows])
    rows = []
    scores_by_method = {}
    for method in ("knn", "iforest"):
        scores = anomaly_scores(vectors, method, k=KNN_K, seed=0)
        scores_by_method[method] = scores
        for name, figures in evaluate_scores(scores, targets).items():
            rows.append({"method": method, "target": name, **{k: v for k, v in figures.items() if k != "skipped"}})
    csv_path = write_ranked_csv(out / "anomalies.csv", opened.object_ids, scores_by_method["knn"],
                                store.read_column("ra")[opened.rows], store.read_column("dec")[opened.rows])
    report.section("Anomalies",
                   f"skyssl anomalies --embeddings {opened.path} --out {csv_path} --k {KNN_K}: each object scored by "
                   f"the mean cosine distance to its {KNN_K} nearest neighbours (exact), and by an isolation forest "
                   "on the 50 leading principal components. ROC AUC says how well a score ranks a rare target "
                   "above the bulk (0.5: random); the precision in the top N is next to the base rate. Rare "
                   f"morphology means morph_class in {', '.join(RARE_MORPH_CLASSES)}. The ranked CSV opens in the "
                   "app's review mode.")
    columns = ["method", "target", "n_positives", "base_rate", "roc_auc", "precision_at_10", "precision_at_100"]
    report.table([{c: row.get(c, "") for c in columns} for row in rows], columns=columns)
    top = ranking(scores_by_method["knn"])[:TOP_ANOMALIES]
    store_rows = opened.rows[top]
    labels = [f"{int(opened.object_ids[p])}\n{scores_by_method['knn'][p]:.3f}\n{_truth_tag(store, int(r))}"
              for p, r in zip(top, store_rows, strict=True)]
    report.figure(image_grid(store_tiles(store, store_rows), columns=10, labels=labels, tile_px=96),
                  f"The {TOP_ANOMALIES} most anomalous objects by k-NN distance: object_id, score and what the "
                  "simulation says they are (artefact, lens or morphology).")


def map_stage(report: Report, store_path: Path, run: Path, embeddings_path: Path, out: Path) -> None:
    """The UMAP map with its mosaic, truth panels, pixel map and stationarity test; then the top anomalies."""
    with Embeddings.open(embeddings_path) as opened, Store.open(store_path) as store:
        _map_section(report, store, opened, run, out)
        _anomaly_section(report, store, opened, out)
