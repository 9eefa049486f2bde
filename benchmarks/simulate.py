"""Simulated survey throughput: skyssl's full render pipeline vs a GalSim drawImage baseline.

skyssl: `skyssl.sim.render.render_rows` over chunks of `skyssl.sim.driver.CHUNK_ROWS` rows — catalogue
draw, target bulge + disk with its rare features, neighbours, stars, lenses, artefacts, PSF, pixel and
noise — for Legacy DR9 south (g, r, z, 152²) and SDSS (u, g, r, i, z, 107²). Timed in one process
and in a `ProcessPoolExecutor` of `--workers` processes mapping over the chunks as
`skyssl.sim.driver.simulate_store` does (images and columns come back to the parent through pickling;
each chunk is dropped after a checksum, where the driver streams it into its shard; no store is written).

Baseline: the same catalogue rows drawn with GalSim. For each row the analytic components the
pipeline renders are rebuilt from the row's own render generator, exactly as `render_row` draws
them — target bulge (Sersic) and disk (exponential), companions, neighbours (same positions, sizes,
q, PA, fluxes) and stars — and drawn per band as `galsim.Sersic/Exponential(...).shear(q=, beta=)
.shift(x, y)` summed, convolved with `galsim.Moffat(beta=3, fwhm=psfsize_b)`,
`drawImage(nx=N, ny=N, scale=pixel scale)` plus `GaussianNoise(σ_b)`. GalSim's Sersic n is rounded
to 0.5 steps (GalSim builds a slow per-n table for each new index; the recipe, §8, says to quantise);
the per-n set-up is paid in the warm-up and reported separately. Sersics other than n = 0.5 and 1 are
truncated at `--galsim-trunc` (default 8) half-light radii with the total flux kept, which is the
profile skyssl's table holds (recipe §8) — and faster in GalSim than untruncated high-n profiles, whose
wide wings force large FFTs (`--galsim-trunc 0` times those). A noiseless agreement check on 8 rows
(skyssl rendered with the same quantised n) shows the two draw the same light. Real-space features
(arms, rings, tails, lensed arcs) and artefacts are not in the baseline, so GalSim does less work per
cutout than the full pipeline. skyssl's renderer is also timed on exactly the baseline's components ("same
components": `fourier.render_noiseless` + `noise.add_noise`) for a like-for-like ratio.

Single-process figures run with BLAS limited to one thread (threadpoolctl, when installed) so that
both sides use one core; wall and CPU seconds are both reported, because the CPU figure is less
disturbed by other load on the machine. Peak RSS (getrusage) is sampled after each phase. Prints one
JSON document (and a short table on stderr unless --json-only).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import sys
import time
from concurrent.futures import ProcessPoolExecutor

import galsim
import numpy as np

from skyssl.hostinfo import machine_facts
from skyssl.sim import catalog, field, fourier, host, noise, render
from skyssl.sim.config import LENS_RATE_PRESETS, SimConfig
from skyssl.sim.cosmology import angular_diameter_distance_mpc
from skyssl.sim.driver import CHUNK_ROWS
from skyssl.sim.galaxies import ARCSEC_PER_RAD
from skyssl.sim.scene import GAUSSIAN, POINT, SERSIC, Components, Scene
from skyssl.surveys import Survey, get

try:
    from threadpoolctl import threadpool_info, threadpool_limits
except ImportError:  # optional: without it BLAS keeps its default thread count
    threadpool_info = None
    threadpool_limits = None

SURVEYS = {"legacy": "legacy-dr9-south", "sdss": "sdss"}
GALSIM_N_STEP = 0.5
GALSIM_N_RANGE = (0.5, 6.0)
GSPARAMS = galsim.GSParams(maximum_fft_size=16384)  # a few very large galaxies need FFTs above 8192
WARMUP_ROWS = 32


def machine() -> dict:
    """What the figures were measured on, and how busy it was."""
    blas = (
        []
        if threadpool_info is None
        else [{"api": d.get("internal_api"), "threads": d.get("num_threads")} for d in threadpool_info()]
    )
    return machine_facts(galsim=galsim.__version__, blas_default_threads=blas)


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def peak_rss_mib(who: int = resource.RUSAGE_SELF) -> float:
    """Peak resident set size so far (Linux reports KiB); for RUSAGE_CHILDREN, the largest waited-for child."""
    return round(resource.getrusage(who).ru_maxrss / 1024, 1)


def one_blas_thread():
    return threadpool_limits(1) if threadpool_limits is not None else contextlib.nullcontext()


def chunks(start: int, stop: int, size: int = CHUNK_ROWS) -> list[tuple[int, int]]:
    return [(a, min(stop, a + size)) for a in range(start, stop, size)]


# --- skyssl pipeline -------------------------------------------------------------------------------


def _render_chunk(args: tuple[dict, int, int]) -> tuple[int, float]:
    """One driver chunk; returns (rows, checksum) so the benchmark holds no images."""
    config_dict, start, stop = args
    images, _ = render.render_rows(SimConfig(**config_dict), start, stop)
    return images.shape[0], float(images[:, :, 0, 0].sum())


def _render_chunk_images(args: tuple[dict, int, int]) -> tuple[np.ndarray, dict, float]:
    """As the driver: the chunk's images and columns travel back to the parent, which checksums them.
    Also returns the worker's CPU seconds for the chunk (all its threads)."""
    config_dict, start, stop = args
    cpu = time.process_time()
    images, columns = render.render_rows(SimConfig(**config_dict), start, stop)
    return images, columns, time.process_time() - cpu


def _forget_catalogue() -> None:
    """Drop cached catalogue blocks, so that the timed rows pay for their catalogue draw."""
    clear = getattr(catalog.draw_block, "cache_clear", None)
    if clear is not None:
        clear()


def _warm(config_dict: dict) -> None:
    render.render_rows(SimConfig(**config_dict), 0, 8)  # tables, grids, luminosity grid
    _forget_catalogue()


def _worker_init(config_dict: dict, pin_blas: bool) -> None:
    if pin_blas and threadpool_limits is not None:
        threadpool_limits(1)  # stays in force for the life of the worker
    _warm(config_dict)


def time_single(config: SimConfig, n: int) -> dict:
    """render_rows over the driver's chunks in this process, plus the catalogue draw alone."""
    cfg = config.model_dump()
    with one_blas_thread():
        render.render_rows(config, 0, WARMUP_ROWS)
        _forget_catalogue()
        wall, cpu = time.perf_counter(), time.process_time()
        done = 0
        for a, b in chunks(0, n):
            rows, _ = _render_chunk((cfg, a, b))
            done += rows
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        _forget_catalogue()
        cat_wall = time.perf_counter()
        for a, b in chunks(0, n):
            catalog.draw_rows(config, a, b)
        cat_wall = time.perf_counter() - cat_wall
    return {
        "rows": done,
        "wall_s": round(wall, 3),
        "cpu_s": round(cpu, 3),
        "cutouts_per_s": round(done / wall, 1),
        "ms_per_cutout_wall": round(1e3 * wall / done, 3),
        "ms_per_cutout_cpu": round(1e3 * cpu / done, 3),
        "cutouts_per_s_cpu": round(done / cpu, 1),
        "catalogue_ms_per_cutout": round(1e3 * cat_wall / done, 3),
        "peak_rss_mib": peak_rss_mib(),
    }


def time_pool(config: SimConfig, n: int, workers: int, pin_blas: bool) -> dict:
    """The driver's pattern: pool.map over chunks, images pickled back to the parent."""
    cfg = config.model_dump()
    jobs = [(cfg, a, b) for a, b in chunks(0, n)]
    pool = ProcessPoolExecutor(max_workers=workers, initializer=_worker_init, initargs=(cfg, pin_blas))
    try:
        list(pool.map(_warm, [cfg] * workers))  # all workers up and warm before timing
        wall = time.perf_counter()
        done, checksum, worker_cpu = 0, 0.0, 0.0
        for images, _, cpu in pool.map(_render_chunk_images, jobs):
            done += images.shape[0]
            checksum += float(images[:, :, 0, 0].sum())
            worker_cpu += cpu
        wall = time.perf_counter() - wall
    finally:
        pool.shutdown()
    return {
        "workers": workers,
        "blas_threads_per_worker": 1 if pin_blas and threadpool_limits is not None else "default",
        "rows": done,
        "wall_s": round(wall, 3),
        "cutouts_per_s": round(done / wall, 1),
        "ms_per_cutout_wall": round(1e3 * wall / done, 3),
        "worker_cpu_ms_per_cutout": round(1e3 * worker_cpu / done, 3),
        # What the pool would reach with every worker on its own idle core: an upper bound on a busy machine.
        "cutouts_per_s_if_cores_idle": round(workers * done / worker_cpu, 1),
        "peak_rss_mib_parent": peak_rss_mib(),
        "peak_rss_mib_largest_worker": peak_rss_mib(resource.RUSAGE_CHILDREN),
    }


# --- the same galaxies, component by component ------------------------------------------------------


def row_components(cat: dict, i: int, survey: Survey, seed: int) -> tuple[Components, np.ndarray, np.ndarray]:
    """The analytic components render_row draws for row i (target, companions, neighbours, stars), from the
    row's own render generator in the same order, so positions, sizes and fluxes are the pipeline's."""
    grid = render.render_grid(survey)
    row = render.row_of(cat, i)
    rng = np.random.default_rng([seed, 1, int(row["row"])])
    side = grid.grid_px * grid.oversample
    layer = np.zeros((survey.n_bands, side, side), dtype=np.float32)
    d_a = float(angular_diameter_distance_mpc(np.array([row["z_true"]]))[0])
    row["arcsec_per_kpc"] = ARCSEC_PER_RAD / (d_a * 1e3)
    comps, _ = host.build_host(row, survey, grid, rng, layer)
    transmission = np.asarray(row["mw_transmission"], float)
    area_scale = (survey.stamp_size_px * survey.pixel_scale_arcsec / (152 * 0.262)) ** 2
    comps = comps.concat(field.neighbours(rng, survey, transmission, area_scale))
    comps = comps.concat(field.stars(rng, survey, transmission, area_scale))
    return comps, np.asarray(row["psfsize"], float), np.asarray(row["sigma_pix_nmgy"], float)


def quantise_n(n: np.ndarray) -> np.ndarray:
    return np.clip(np.round(np.asarray(n) / GALSIM_N_STEP) * GALSIM_N_STEP, *GALSIM_N_RANGE)


def galsim_profiles(comps: Components, trunc: float) -> list:
    """Unit-flux GalSim profiles of the components, sheared and shifted (arcsec); Sersics with n ∉ {0.5, 1}
    truncated at `trunc` half-light radii (0: untruncated), total flux kept."""
    out = []
    n_q = quantise_n(comps.sersic_n)
    for k in range(comps.n):
        kind, r = int(comps.kind[k]), float(comps.r_half_arcsec[k])
        if kind == POINT:
            obj = galsim.DeltaFunction(gsparams=GSPARAMS)
        elif kind == GAUSSIAN:
            obj = galsim.Gaussian(half_light_radius=r, gsparams=GSPARAMS)
        elif n_q[k] == 1.0:
            obj = galsim.Exponential(half_light_radius=r, gsparams=GSPARAMS)
        elif n_q[k] == 0.5 or trunc <= 0:
            obj = galsim.Sersic(n=float(n_q[k]), half_light_radius=r, gsparams=GSPARAMS)
        else:
            obj = galsim.Sersic(
                n=float(n_q[k]),
                half_light_radius=r,
                trunc=trunc * r,
                flux_untruncated=False,
                gsparams=GSPARAMS,
            )
        if kind != POINT:
            obj = obj.shear(q=float(comps.q[k]), beta=float(comps.pa_rad[k]) * galsim.radians)
        out.append(obj.shift(float(comps.x_arcsec[k]), float(comps.y_arcsec[k])))
    return out


def galsim_cutout(
    comps: Components,
    psf: np.ndarray,
    sigma: np.ndarray,
    survey: Survey,
    ud: galsim.BaseDeviate | None,
    trunc: float,
) -> np.ndarray:
    """(C, N, N): per band the components at that band's fluxes ⊗ Moffat(β=3, FWHM), drawn with pixel
    response; Gaussian noise σ_b unless `ud` is None. Centred on pixel N//2 like skyssl's stamps."""
    n_px, scale = survey.stamp_size_px, survey.pixel_scale_arcsec
    offset = (0.5, 0.5) if n_px % 2 == 0 else (0.0, 0.0)  # GalSim centres even images between pixels
    profiles = galsim_profiles(comps, trunc)
    out = np.empty((survey.n_bands, n_px, n_px))
    for b in range(survey.n_bands):
        gal = galsim.Add([p * float(f) for p, f in zip(profiles, comps.flux_nmgy[:, b], strict=True)])
        final = galsim.Convolve(
            gal, galsim.Moffat(beta=render.PSF_BETA, fwhm=float(psf[b]), gsparams=GSPARAMS)
        )
        image = final.drawImage(nx=n_px, ny=n_px, scale=scale, offset=offset)
        if ud is not None:
            image.addNoise(galsim.GaussianNoise(ud, sigma=float(sigma[b])))
        out[b] = image.array
    return out


def skyssl_cutout(
    comps: Components, psf: np.ndarray, sigma: np.ndarray, survey: Survey, rng: np.random.Generator | None
) -> np.ndarray:
    """The same components through skyssl's renderer and noise (pipeline noise, Poisson term included)."""
    grid = render.render_grid(survey)
    image = fourier.render_noiseless(Scene(comps), psf, grid, render.PSF_BETA)
    if rng is None:
        return image
    return noise.add_noise(image, sigma, rng, noise.effective_gain(survey, sigma))


def galsim_warmup(survey: Survey, trunc: float) -> float:
    """Draw one galaxy at every quantised n: GalSim's per-n Sersic set-up, paid once per process."""
    start = time.perf_counter()
    n_grid = np.arange(GALSIM_N_RANGE[0], GALSIM_N_RANGE[1] + 1e-9, GALSIM_N_STEP)
    one = np.ones(n_grid.size)
    comps = Components(
        np.full(n_grid.size, SERSIC, np.int8),
        n_grid,
        0.8 * one,
        0.7 * one,
        0.3 * one,
        0 * one,
        0 * one,
        np.ones((n_grid.size, survey.n_bands)),
    )
    for k in range(n_grid.size):
        galsim_cutout(_select(comps, k), np.full(survey.n_bands, 1.2), one, survey, None, trunc)
    return time.perf_counter() - start


def _select(comps: Components, k: int) -> Components:
    return Components(*(getattr(comps, f)[k : k + 1] for f in comps.__dataclass_fields__))


def time_same_galaxies(config: SimConfig, n_rows: int, trunc: float) -> dict:
    """GalSim vs skyssl's renderer on identical component lists, plus a noiseless agreement check."""
    survey = get(config.survey)
    cat = catalog.draw_rows(config, 0, n_rows)
    scenes = [row_components(cat, i, survey, config.seed) for i in range(n_rows)]
    n_comp = np.array([c.n for c, _, _ in scenes])
    n_sersic = np.array([int((c.kind == SERSIC).sum()) for c, _, _ in scenes])
    with one_blas_thread():
        warm_s = galsim_warmup(survey, trunc)
        skyssl_cutout(*scenes[0], survey, np.random.default_rng(0))
        timings = {}
        for name in ("galsim", "skyssl_same_components"):
            wall, per_row = time.perf_counter(), []
            for i, (comps, psf, sigma) in enumerate(scenes):
                cpu = time.process_time()
                if name == "galsim":
                    galsim_cutout(
                        comps, psf, sigma, survey, galsim.BaseDeviate(config.seed * 100_003 + i + 1), trunc
                    )
                else:
                    skyssl_cutout(comps, psf, sigma, survey, np.random.default_rng([config.seed, 9, i]))
                per_row.append(time.process_time() - cpu)
            wall = time.perf_counter() - wall
            timings[name] = {
                "ms_per_cutout_wall": round(1e3 * wall / n_rows, 3),
                "ms_per_cutout_cpu": round(1e3 * float(np.mean(per_row)), 3),
                "ms_per_cutout_cpu_median": round(1e3 * float(np.median(per_row)), 3),
                "ms_per_cutout_cpu_max": round(1e3 * float(np.max(per_row)), 1),
                "cutouts_per_s": round(n_rows / wall, 1),
            }
    # Agreement: the GalSim image vs skyssl's with the same quantised n, noiseless, on a few rows.
    resid, flux_ratio = [], []
    for comps, psf, sigma in scenes[:8]:
        quantised = Components(
            comps.kind,
            quantise_n(comps.sersic_n),
            comps.r_half_arcsec,
            comps.q,
            comps.pa_rad,
            comps.x_arcsec,
            comps.y_arcsec,
            comps.flux_nmgy,
        )
        ours = skyssl_cutout(quantised, psf, sigma, survey, None)
        theirs = galsim_cutout(comps, psf, sigma, survey, None, trunc)
        resid.append(float(np.max(np.abs(ours - theirs)) / np.max(np.abs(theirs))))
        flux_ratio.append(float(ours.sum() / theirs.sum()))
    return {
        "rows": n_rows,
        "components_per_cutout_mean": round(float(n_comp.mean()), 2),
        "sersic_components_per_cutout_mean": round(float(n_sersic.mean()), 2),
        "galsim_sersic_n_step": GALSIM_N_STEP,
        "galsim_sersic_trunc_r_half": trunc,
        "galsim_per_n_setup_s": round(warm_s, 3),
        **timings,
        "noiseless_agreement_8_rows": {
            "max_abs_diff_over_peak_median": float(f"{np.median(resid):.3g}"),
            "max_abs_diff_over_peak_max": float(f"{np.max(resid):.3g}"),
            "flux_ratio_skyssl_over_galsim_median": round(float(np.median(flux_ratio)), 5),
        },
        "peak_rss_mib": peak_rss_mib(),
    }


def bench_survey(key: str, args: argparse.Namespace) -> dict:
    config = SimConfig(
        survey=SURVEYS[key],
        n_objects=max(args.n, args.galsim_n),
        seed=args.seed,
        lens_rate=LENS_RATE_PRESETS["enriched"],
    )
    survey = get(config.survey)
    log(f"{key}: single process, {args.n} rows …")
    single = time_single(config, args.n)
    pools = []
    for pin in (False, True):
        log(f"{key}: {args.workers} workers, BLAS {'1 thread' if pin else 'default'} …")
        pools.append(time_pool(config, args.n, args.workers, pin))
    log(f"{key}: GalSim baseline, {args.galsim_n} rows …")
    same = time_same_galaxies(config, args.galsim_n, args.galsim_trunc)
    galsim_ms = same["galsim"]["ms_per_cutout_cpu"]
    return {
        "survey": survey.name,
        "bands": "".join(survey.bands),
        "stamp_px": survey.stamp_size_px,
        "lens_rate": config.lens_rate,
        "skyssl_pipeline_single_process": single,
        "skyssl_pipeline_pool": pools,
        "same_galaxies": same,
        "speedup_cpu_galsim_over_skyssl_pipeline": round(galsim_ms / single["ms_per_cutout_cpu"], 2),
        "speedup_cpu_galsim_over_skyssl_same_components": round(
            galsim_ms / same["skyssl_same_components"]["ms_per_cutout_cpu"], 2
        ),
    }


def log(message: str) -> None:
    if not LOG_QUIET:
        print(message, file=sys.stderr, flush=True)


LOG_QUIET = False


def summary(report: dict) -> str:
    w = report["workers"]
    lines = [
        f"survey | 1 proc cutouts/s (wall) | 1 proc ms/cutout (cpu) | {w} workers cutouts/s wall, BLAS default / 1 "
        f"| {w} workers cutouts/s if cores idle, BLAS 1 | GalSim ms (cpu) | skyssl same comps ms (cpu) "
        "| GalSim/skyssl pipeline | GalSim/skyssl same comps"
    ]
    for key in SURVEYS:
        r = report[key]
        s, p, g = r["skyssl_pipeline_single_process"], r["skyssl_pipeline_pool"], r["same_galaxies"]
        lines.append(
            f"{key} | {s['cutouts_per_s']} | {s['ms_per_cutout_cpu']} | {p[0]['cutouts_per_s']} / "
            f"{p[1]['cutouts_per_s']} | {p[1]['cutouts_per_s_if_cores_idle']} | "
            f"{g['galsim']['ms_per_cutout_cpu']} | {g['skyssl_same_components']['ms_per_cutout_cpu']} | "
            f"{r['speedup_cpu_galsim_over_skyssl_pipeline']} | "
            f"{r['speedup_cpu_galsim_over_skyssl_same_components']}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    global LOG_QUIET
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--n", type=int, default=1024, help="rows timed through the skyssl pipeline per survey"
    )
    parser.add_argument(
        "--galsim-n", type=int, default=128, help="rows drawn by the GalSim baseline per survey"
    )
    parser.add_argument(
        "--galsim-trunc",
        type=float,
        default=8.0,
        help="GalSim Sersic truncation in half-light radii (0: untruncated)",
    )
    parser.add_argument("--workers", type=int, default=2, help="processes for the pool figure")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json-only", action="store_true", help="print only the JSON document")
    args = parser.parse_args(argv)
    LOG_QUIET = args.json_only
    start = time.perf_counter()
    report: dict = {
        "benchmark": "simulate",
        "command": " ".join(
            [f"benchmarks/{os.path.basename(sys.argv[0])}", *(argv if argv is not None else sys.argv[1:])]
        ),
        "machine": machine(),
        "load_average_1_5_15_min_start": load_average(),
        "n": args.n,
        "galsim_n": args.galsim_n,
        "workers": args.workers,
        "chunk_rows": CHUNK_ROWS,
        "blas_single_process": "1 thread" if threadpool_limits is not None else "default",
    }
    for key in SURVEYS:
        report[key] = bench_survey(key, args)
    report["load_average_1_5_15_min_end"] = load_average()
    report["peak_rss_mib_parent"] = peak_rss_mib()
    report["peak_rss_mib_largest_worker"] = peak_rss_mib(resource.RUSAGE_CHILDREN)
    report["total_s"] = round(time.perf_counter() - start, 1)
    print(json.dumps(report, indent=2))
    if not args.json_only:
        print(summary(report), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
