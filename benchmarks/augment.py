"""Augmentation throughput: skyssl's batched torch pipeline vs per-image scipy.ndimage pipelines.

Views of the default training spec `grrrssgbjcgn` (reddening, flips + rotation, size scale, differential
blur, jitter + crop, differential noise, then an asinh input stretch) are made for two surveys:
Legacy DR9 (3 × 152² → 96²) and SDSS (5 × 107² → 64²). Contenders, all in one run on this machine:

- **skyssl**: `AugmentPipeline(AugmentConfig(), survey)(images, ebv, psfsize, psfdepth, generator)` on
  batches of `--batch` stamps (float32 on the CPU), with torch limited to 1 thread and with all threads.
  The per-view parameter draws (priors, catalogue conversions) are inside the timed call.
- **scipy, authors' chain**: one image at a time, HWC numpy float32, as the released code does it:
  reddening multiply, flips, `ndimage.rotate` of the full stamp (bilinear, constant 0), isotropic
  `ndimage.zoom` (bilinear), `gaussian_filter` per band with σ_aug (reflect, 4σ), jitter crop, Gaussian
  noise, `np.arcsinh` stretch.
- **scipy, fused affine**: one image at a time, the leaner per-image design of the performance anchor:
  one `ndimage.affine_transform` per band straight from the stamp to the crop (bilinear, reflect), then
  `gaussian_filter`, noise and stretch on the crop.

Both scipy pipelines run in this one process (one core) and get their parameters from the same draws
as skyssl, drawn before the clock starts (which favours them). Each figure is the median (and best) of
`--repeats` passes, contenders interleaved. On a machine with CUDA, skyssl is also timed on the GPU
(synchronised, generator on the device). Prints one JSON document.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import time
from collections.abc import Callable

import numpy as np
import scipy
import torch
from scipy import ndimage

from skyssl import surveys
from skyssl.augment import AugmentConfig, AugmentPipeline
from skyssl.augment.blur import added_sigma_px
from skyssl.augment.draws import draw_views
from skyssl.augment.noise import added_noise_sigma
from skyssl.hostinfo import machine_facts

SURVEYS = ("legacy-dr9-south", "sdss")


def machine() -> dict:
    return machine_facts(scipy=scipy.__version__)


def stamps(survey: surveys.Survey, n: int, seed: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Round galaxies on sky noise (nmgy) and catalogue columns in the DR9 conventions."""
    rng = np.random.default_rng(seed)
    size, bands = survey.stamp_size_px, survey.n_bands
    idx = np.arange(size) - size // 2
    r2 = idx[None, :] ** 2 + idx[:, None] ** 2
    sigma_px = rng.uniform(2.0, 6.0, (n, 1, 1, 1))
    amplitude = rng.uniform(0.02, 0.5, (n, bands, 1, 1))
    images = amplitude * np.exp(-r2 / (2 * sigma_px**2)) + rng.normal(0, 0.005, (n, bands, size, size))
    columns = {"ebv": rng.uniform(0.01, 0.1, n), "psfsize": rng.uniform(1.0, 1.6, (n, bands)),
               "psfdepth": rng.uniform(200.0, 3000.0, (n, bands))}
    return images.astype(np.float32), {k: v.astype(np.float32) for k, v in columns.items()}


def scipy_params(pipeline: AugmentPipeline, columns: dict[str, np.ndarray], n: int, seed: int) -> list[dict]:
    """Per-image parameters for the scipy pipelines, from skyssl's own draws (drawn up front)."""
    survey = pipeline.survey
    d = draw_views(pipeline.config, survey, n, torch.Generator().manual_seed(seed),
                   *(torch.from_numpy(columns[k][:n]) for k in ("ebv", "psfsize", "psfdepth")))
    r = torch.tensor(survey.extinction_r)
    transmission = torch.pow(10.0, -0.4 * r[None] * (d.ebv_new_mag - d.ebv_old_mag)[:, None])
    blur = added_sigma_px(d.psf_true_px * d.scale[:, None], d.psf_final_px)
    noise = added_noise_sigma(d.noise_true_nmgy, d.noise_final_nmgy)
    return [{"t": transmission[i].numpy(), "fx": bool(d.flip_x[i]), "fy": bool(d.flip_y[i]),
             "deg": math.degrees(float(d.angle_rad[i])), "s": float(d.scale[i]),
             "dx": int(d.shift_px[i, 0]), "dy": int(d.shift_px[i, 1]), "blur": blur[i].numpy(),
             "noise": noise[i].numpy()} for i in range(n)]


def blur_noise_stretch(img: np.ndarray, p: dict, asinh_scale: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    out = np.empty_like(img)
    for b in range(img.shape[-1]):
        out[..., b] = ndimage.gaussian_filter(img[..., b], p["blur"][b], mode="reflect", truncate=4.0) \
            if p["blur"][b] > 1e-3 else img[..., b]
    out += rng.standard_normal(out.shape, dtype=np.float32) * p["noise"]
    return np.arcsinh(out / asinh_scale)


def authors_chain(hwc: np.ndarray, p: dict, crop: int, asinh_scale: np.ndarray, rng: np.random.Generator):
    """The released chain, one image: redden, flip, rotate the full stamp, zoom, blur, crop, noise, stretch."""
    img = hwc * p["t"]
    if p["fx"]:
        img = img[:, ::-1]
    if p["fy"]:
        img = img[::-1]
    img = ndimage.rotate(img, p["deg"], axes=(1, 0), reshape=False, order=1, mode="constant", cval=0.0)
    img = ndimage.zoom(img, (p["s"], p["s"], 1), order=1)
    blurred = np.empty_like(img)
    for b in range(img.shape[-1]):
        blurred[..., b] = ndimage.gaussian_filter(img[..., b], p["blur"][b], mode="reflect", truncate=4.0) \
            if p["blur"][b] > 1e-3 else img[..., b]
    c, h = blurred.shape[0] // 2, crop // 2
    view = blurred[c + p["dy"] - h : c + p["dy"] - h + crop, c + p["dx"] - h : c + p["dx"] - h + crop]
    view = view + rng.standard_normal(view.shape, dtype=np.float32) * p["noise"]
    return np.arcsinh(view / asinh_scale)


def fused_affine(hwc: np.ndarray, p: dict, crop: int, asinh_scale: np.ndarray, rng: np.random.Generator):
    """One affine_transform per band from stamp to crop, then blur, noise and stretch on the crop."""
    cos, sin = math.cos(math.radians(p["deg"])), math.sin(math.radians(p["deg"]))
    fx, fy = (-1.0 if p["fx"] else 1.0), (-1.0 if p["fy"] else 1.0)
    s = p["s"]
    # (row, col) input = centre + M (out − crop//2 + shift): M = F R⁻¹ S⁻¹ written in (y, x) order
    matrix = np.array([[fy * cos / s, -fy * sin / s], [fx * sin / s, fx * cos / s]])
    centre = np.array([hwc.shape[0] // 2, hwc.shape[1] // 2], float)
    offset = centre + matrix @ (np.array([p["dy"], p["dx"]], float) - crop // 2)
    img = np.empty((crop, crop, hwc.shape[-1]), np.float32)
    for b in range(hwc.shape[-1]):
        img[..., b] = ndimage.affine_transform(hwc[..., b], matrix, offset=offset, output_shape=(crop, crop),
                                               order=1, mode="reflect") * p["t"][b]
    return blur_noise_stretch(img, p, asinh_scale, rng)


def views_per_s(fn: Callable[[], int], repeats: int, sync: Callable[[], None] = lambda: None,
                setup: Callable[[], None] = lambda: None) -> list[tuple[float, float]]:
    """(views per wall second, views per CPU second of this process) of ``repeats`` timed calls.

    ``setup`` (e.g. a thread-count change and a warm-up call, since torch rebuilds its thread pool on
    the next parallel region) runs before the clock. CPU seconds sum over this process's threads, so
    for a one-thread contender they are what the figure would be on an otherwise idle core.
    """
    rates = []
    for _ in range(repeats):
        setup()
        sync()
        wall, cpu = time.perf_counter(), time.process_time()
        n = fn()
        sync()
        rates.append((n / (time.perf_counter() - wall), n / max(time.process_time() - cpu, 1e-9)))
    return rates


def summarise(rates: list[tuple[float, float]]) -> dict:
    wall = [r[0] for r in rates]
    cpu = [r[1] for r in rates]
    return {"views_per_s_median": round(statistics.median(wall), 1), "views_per_s_best": round(max(wall), 1),
            "views_per_cpu_s_median": round(statistics.median(cpu), 1), "passes": len(rates)}


def bench_survey(name: str, args: argparse.Namespace) -> dict:
    survey = surveys.get(name)
    pipeline = AugmentPipeline(AugmentConfig(), survey)
    images, columns = stamps(survey, args.batch, args.seed)
    tensors = [torch.from_numpy(images)] + [torch.from_numpy(columns[k]) for k in ("ebv", "psfsize", "psfdepth")]
    params = scipy_params(pipeline, columns, args.scipy_images, args.seed)
    hwc = [np.ascontiguousarray(images[i].transpose(1, 2, 0)) for i in range(args.scipy_images)]
    asinh_scale = np.asarray(pipeline.asinh_scale_nmgy, np.float32)
    rng = np.random.default_rng(args.seed)
    crop = pipeline.crop_px
    generator = torch.Generator().manual_seed(args.seed)
    all_threads = torch.get_num_threads()

    def ours() -> int:
        pipeline(*tensors, generator)
        return args.batch

    def threads(n: int) -> Callable[[], None]:
        def setup() -> None:
            if torch.get_num_threads() != n:
                torch.set_num_threads(n)
                ours()
        return setup

    def per_image(fn) -> Callable[[], int]:
        def run() -> int:
            for img, p in zip(hwc, params, strict=True):
                fn(img, p, crop, asinh_scale, rng)
            return len(hwc)
        return run

    no_setup = threads(all_threads)
    contenders = {"skyssl_1_thread": (ours, threads(1)), f"skyssl_{all_threads}_threads": (ours, no_setup),
                  "scipy_authors_chain_1_core": (per_image(authors_chain), no_setup),
                  "scipy_fused_affine_1_core": (per_image(fused_affine), no_setup)}
    for fn, setup in contenders.values():  # warm-up
        setup()
        fn()
    rates: dict[str, list[tuple[float, float]]] = {k: [] for k in contenders}
    for _ in range(args.repeats):
        for key, (fn, setup) in contenders.items():
            rates[key] += views_per_s(fn, 1, setup=setup)
    torch.set_num_threads(all_threads)
    result = {"views": f"{survey.n_bands}×{survey.stamp_size_px}² → {crop}²", "batch": args.batch,
              "scipy_images_per_pass": args.scipy_images,
              "cpu": {k: summarise(v) for k, v in rates.items()}}
    med = {k: result["cpu"][k]["views_per_s_median"] for k in rates}
    per_cpu = {k: result["cpu"][k]["views_per_cpu_s_median"] for k in rates}
    ours_all = f"skyssl_{all_threads}_threads"
    result["ratios_median"] = {
        "skyssl_1_thread_vs_scipy_authors_1_core": round(med["skyssl_1_thread"] / med["scipy_authors_chain_1_core"], 2),
        "skyssl_1_thread_vs_scipy_fused_1_core": round(med["skyssl_1_thread"] / med["scipy_fused_affine_1_core"], 2),
        f"{ours_all}_vs_scipy_authors_1_core": round(med[ours_all] / med["scipy_authors_chain_1_core"], 2),
        f"{ours_all}_vs_scipy_fused_1_core": round(med[ours_all] / med["scipy_fused_affine_1_core"], 2),
        "per_cpu_second_skyssl_1_thread_vs_scipy_authors":
            round(per_cpu["skyssl_1_thread"] / per_cpu["scipy_authors_chain_1_core"], 2),
        "per_cpu_second_skyssl_1_thread_vs_scipy_fused":
            round(per_cpu["skyssl_1_thread"] / per_cpu["scipy_fused_affine_1_core"], 2),
    }
    if torch.cuda.is_available():
        result["cuda"] = bench_cuda(pipeline, images, columns, args)
    return result


def bench_cuda(pipeline: AugmentPipeline, images: np.ndarray, columns: dict, args: argparse.Namespace) -> dict:
    out = {}
    for batch in (args.batch, args.gpu_batch):
        reps = -(-batch // images.shape[0])
        tensors = [torch.from_numpy(np.concatenate([images] * reps)[:batch]).cuda()]
        tensors += [torch.from_numpy(np.concatenate([columns[k]] * reps)[:batch]).cuda()
                    for k in ("ebv", "psfsize", "psfdepth")]
        generator = torch.Generator(device="cuda").manual_seed(args.seed)

        def run(tensors=tensors, generator=generator, batch=batch) -> int:
            for _ in range(args.gpu_steps):
                pipeline(*tensors, generator)
            return batch * args.gpu_steps
        run()
        out[f"batch_{batch}"] = summarise(views_per_s(run, args.repeats, torch.cuda.synchronize))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=256, help="skyssl batch size (stamps per call)")
    parser.add_argument("--scipy-images", type=int, default=128, help="images per scipy pass")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--gpu-batch", type=int, default=2048)
    parser.add_argument("--gpu-steps", type=int, default=20, help="calls per timed GPU pass")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--surveys", nargs="+", default=list(SURVEYS))
    args = parser.parse_args(argv)
    report = {"benchmark": "augment", "command": " ".join([os.path.basename(sys.executable), *sys.argv]),
              "machine": machine(), "load_average_start": [round(x, 2) for x in os.getloadavg()],
              "spec": AugmentConfig().to_spec(), "surveys": {}}
    for name in args.surveys:
        report["surveys"][name] = bench_survey(name, args)
    report["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
