"""The stages of `skyssl demo`, each adding a section to the report (imported only when the demo runs)."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from skyssl.cli.info import describe
from skyssl.cli.progress import progress_bar
from skyssl.sim.config import LENS_RATE_PRESETS, SimConfig
from skyssl.sim.driver import simulate_store
from skyssl.sim.validation import class_rows, lens_host_comparison
from skyssl.store import Store
from skyssl.viz import Report, image_grid, tile_labels
from skyssl.viz.plots import figure_png, new_figure
from skyssl.viz.tiles import store_tiles


def _population_figure(store: Store) -> bytes:
    """Redshift distribution and colour–redshift relation of red and blue galaxies."""
    z = store.read_column("z_true")
    mag = store.read_column("mag")
    red = store.read_column("is_red").astype(bool)
    fig = new_figure(10, 3.5)
    fig.set_layout_engine("constrained")
    ax1, ax2 = fig.subplots(1, 2)
    ax1.hist(z, bins=40, color="0.4")
    ax1.set_xlabel("z_true")
    ax1.set_ylabel("galaxies")
    for sel, colour, label in ((red, "tab:red", "red"), (~red, "tab:blue", "blue")):
        ax2.scatter(z[sel], mag[sel, 0] - mag[sel, 1], s=3, color=colour, label=label, alpha=0.5)
    ax2.set_xlabel("z_true")
    ax2.set_ylabel("g − r (mag)")
    ax2.set_ylim(-0.5, 2.5)
    ax2.legend()
    return figure_png(fig)


def _class_sheet(store: Store, rows: np.ndarray, columns: int = 10) -> np.ndarray:
    tiles = store_tiles(store, rows)
    return image_grid(tiles, columns=columns, labels=tile_labels(store.object_ids[rows]), tile_px=96)




def simulate_stage(report: Report, out: Path, n: int, seed: int, workers: int) -> Path:
    """Simulate the default survey: DR9-south-like, eval lens rate, float16."""
    store_path = out / "survey"
    config = SimConfig(survey="legacy", n_objects=n, seed=seed, lens_rate=LENS_RATE_PRESETS["eval"],
                       image_dtype="float16")
    started = time.perf_counter()
    with progress_bar(n, "simulating") as advance:
        simulate_store(config, store_path, workers=workers, overwrite=True, on_progress=advance)
    seconds = time.perf_counter() - started
    report.section("Simulated survey",
                   f"{n} DR9-south-like g, r, z cutouts (152 × 152 px at 0.262″/px, float16) with lens rate "
                   f"1e-2 ('eval'), seed {seed}: {seconds:.1f} s, {n / seconds:.0f} cutouts/s with {workers} "
                   f"worker(s). Command: skyssl simulate --preset legacy --n {n} --lens-rate eval --seed {seed} "
                   f"--dtype float16 --out {store_path}")
    return store_path


def inspect_stage(report: Report, store_path: Path, seed: int) -> None:
    """What `skyssl info`, `show` and `sheets` say about the survey, and its lenses against real ones."""
    with Store.open(store_path) as store:
        summary = describe(store)
        report.table([[k, summary[k] if not isinstance(summary[k], list) else len(summary[k])]
                      for k in ("n_objects", "survey", "bands", "image_shape", "dtype", "id_source", "columns",
                                "problems")], columns=["skyssl info", "value"])
        report.figure(_population_figure(store), "Redshifts and the colour–redshift relation of the population.")
        rng = np.random.default_rng(seed)
        random_rows = np.sort(rng.choice(store.n_objects, size=min(50, store.n_objects), replace=False))
        report.section("Random cutouts", "skyssl show --random 50, in the Legacy viewer's dr2 colours.")
        report.figure(_class_sheet(store, random_rows), "Fifty random objects, labelled with object_id.")
        report.section("Contact sheets of the truth classes",
                       "Lenses by observability grade, each rare morphology and each artefact.")
        for name, rows in class_rows(store, per_class=10).items():
            if rows.size:
                report.figure(_class_sheet(store, rows), f"{name} ({rows.size} shown)")
        comparison = lens_host_comparison(store)
        report.section("Simulated lens hosts against the 1,615 real DR9 training lenses",
                       "Quantiles of the graded (A/B) simulated lenses next to Stein et al.'s DR9 lenses.")
        keys = list(dict.fromkeys(k for row in comparison for k in row))
        report.table([[row.get(k, "") for k in keys] for row in comparison], columns=keys)
