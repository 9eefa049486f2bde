"""Embedding throughput: `skyssl.embed.extract.embed_store` against the bare model forward, same batches.

`embed_store` is the whole job of `skyssl embed`: it reads each batch from the store (into reused
buffers; in a background thread where torch leaves a core free, else between forwards with the kernel's
readahead asked for the next batches), makes the centre view and input stretch, runs the backbone, casts
to the artefact dtype and writes HDF5 shards, then checks every id against the store and writes the
manifest.
The bare forward is the compute alone: the same batches, read into memory before the clock starts, go
through `TrainedEncoder.embed_images` (centre view + stretch + backbone) with the result brought back
to the host. Their ratio is what reading, writing and bookkeeping cost; the target is ≥ 0.9.

Models (randomly initialised: throughput does not depend on the weights), built by the train package
from the shipped configs:

- `cpu-small`: configs/cpu-small.yaml — the "small" encoder at 96 px views (Legacy DR9, 152 px stamps);
- `resnet50-small-stamp-96`: configs/legacy-r50.yaml with the stride-1 stem (`small_stamp: true`),
  the 23.6-GFLOP forward of performance-anchors §6.1, on a couple of small batches only (CPU);
- on a machine with CUDA, also legacy-r50 as shipped and with the stride-1 stem, at batch 256.

The store is written once per run (synthetic galaxies on noise, float32, as the simulated stores).
"warm" means its pages sit in the page cache (just written); "cold" drops them first with
`posix_fadvise(DONTNEED)`, so each batch is read from the disk. Each figure is the median of
`--repeats` passes with the contenders interleaved; `objects_per_cpu_s` divides by this process's CPU
seconds (all threads), which a shared machine disturbs less than wall time. Prints one JSON document.

    python benchmarks/embed.py                      # defaults as in BENCHMARKS.md
    python benchmarks/embed.py --n 2048 --repeats 3 --threads 1 2
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from skyssl import surveys
from skyssl.augment.pipeline import AugmentPipeline
from skyssl.embed.extract import batch_spans, embed_store
from skyssl.embed.model import TrainedEncoder
from skyssl.hostinfo import machine_facts
from skyssl.store import Store, StoreWriter
from skyssl.train.config import PretrainConfig, config_from_dict, load_config
from skyssl.train.module import build_moco

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
SURVEY = "legacy-dr9-south"


def machine() -> dict:
    """What the figures were measured on."""
    return machine_facts()


def write_store(path: Path, n: int, seed: int = 0, rows_per_shard: int = 4096) -> Path:
    """A Legacy-like store of `n` round galaxies on sky noise (3 × 152², float32 nmgy)."""
    survey = surveys.get(SURVEY)
    rng = np.random.default_rng(seed)
    size = survey.stamp_size_px
    r2 = (np.arange(size) - size // 2)[None, :] ** 2 + (np.arange(size) - size // 2)[:, None] ** 2
    writer = StoreWriter(path, survey, n, rows_per_shard=rows_per_shard)
    for k in range(writer.n_shards):
        a, b = writer.shard_rows(k)
        m = b - a
        sigma = rng.uniform(2.0, 6.0, (m, 1, 1, 1))
        images = rng.uniform(0.02, 0.5, (m, 3, 1, 1)) * np.exp(-r2 / (2 * sigma**2))
        images = (images + rng.normal(0, 0.005, (m, 3, size, size))).astype(np.float32)
        columns = {"object_id": 10_000_000 + np.arange(a, b, dtype=np.int64), "ra": rng.uniform(0, 360, m),
                   "dec": rng.uniform(-30, 30, m), "ebv": rng.uniform(0.01, 0.1, m).astype(np.float32),
                   "psfsize": rng.uniform(1.0, 1.6, (m, 3)).astype(np.float32),
                   "psfdepth": rng.uniform(200, 3000, (m, 3)).astype(np.float32)}
        writer.write_shard(k, images, columns)
    return writer.finish(checksums=False)


def random_encoder(config: PretrainConfig, device: torch.device) -> TrainedEncoder:
    """A TrainedEncoder with the config's model (random weights) and evaluation view."""
    survey = surveys.get(SURVEY)
    pipeline = AugmentPipeline(config.augment_config(), survey)
    moco = build_moco(config, pipeline.output_channels, world_size=1).eval().requires_grad_(False)
    encoder = TrainedEncoder(Path("(random init)"), Path("(none)"), "0" * 64, 0, config, survey, pipeline, moco)
    return encoder.to(device)


def model_configs(cuda: bool) -> dict[str, tuple[PretrainConfig, dict]]:
    """name → (config, options); options limit the rows and batch size of the expensive models."""
    r50 = load_config(CONFIGS / "legacy-r50.yaml").model_dump(mode="json")
    r50_small = {**r50, "model": {**r50["model"], "small_stamp": True}}
    out = {"cpu-small": (load_config(CONFIGS / "cpu-small.yaml"), {"batch": 256, "rows": None})}
    if cuda:
        out["legacy-r50"] = (config_from_dict(r50), {"batch": 256, "rows": None})
        out["resnet50-small-stamp-96"] = (config_from_dict(r50_small), {"batch": 256, "rows": None})
    else:
        out["resnet50-small-stamp-96"] = (config_from_dict(r50_small), {"batch": 8, "rows": 16})
    return out


def drop_page_cache(store_path: Path) -> None:
    """Ask the kernel to forget the store's cached pages, so the next read comes from the disk."""
    for file in store_path.glob("*.h5"):
        fd = os.open(file, os.O_RDONLY)
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def bare_forward(encoder: TrainedEncoder, batches: list[torch.Tensor]) -> tuple[float, float]:
    """(wall s, process CPU s) of the compute alone on in-memory batches: centre view + backbone, to host."""
    _sync(encoder.device)
    start, cpu = time.perf_counter(), time.process_time()
    for images in batches:
        encoder.embed_images(images)["backbone"].to(torch.float16).cpu()
    _sync(encoder.device)
    return time.perf_counter() - start, time.process_time() - cpu


def embed_pass(encoder: TrainedEncoder, store: Path, out: Path, batch: int, cold: bool) -> tuple[float, float]:
    """(wall s, process CPU s) of the whole `embed_store` job into a fresh folder (manifest, id check)."""
    shutil.rmtree(out, ignore_errors=True)
    if cold:
        drop_page_cache(store)
    start, cpu = time.perf_counter(), time.process_time()
    embed_store(encoder, store, out, batch_size=batch, dtype="float16", rows_per_shard=65536)
    return time.perf_counter() - start, time.process_time() - cpu


def measure(name: str, config: PretrainConfig, options: dict, store: Path, work: Path, device: torch.device,
            repeats: int) -> dict:
    """Objects/s of the bare forward and of `embed_store` (warm and cold cache), interleaved, medians."""
    encoder = random_encoder(config, device)
    with Store.open(store) as opened:
        n = opened.n_objects if options["rows"] is None else min(options["rows"], opened.n_objects)
        batches = [torch.from_numpy(opened.read_images(np.arange(a, b)))
                   for a, b in batch_spans(0, n, options["batch"])]
    if options["rows"] is not None:  # a store holding only the rows this model is timed on
        small = work / f"store-{n}"
        if not small.exists():
            write_store(small, n)
        store = small
    bare_forward(encoder, batches[:1])  # warm-up: kernel selection, first allocations
    times: dict[str, list[tuple[float, float]]] = {"bare": [], "embed_warm": [], "embed_cold": []}
    for _ in range(repeats):
        times["bare"].append(bare_forward(encoder, batches))
        times["embed_warm"].append(embed_pass(encoder, store, work / "emb", options["batch"], cold=False))
        times["embed_cold"].append(embed_pass(encoder, store, work / "emb", options["batch"], cold=True))
    rates = {k: n / statistics.median(w for w, _ in v) for k, v in times.items()}
    cpu_rates = {k: n / statistics.median(c for _, c in v) for k, v in times.items()}
    return {
        "model": name, "encoder": config.model.encoder, "small_stamp": config.model.small_stamp,
        "view_px": encoder.pipeline.crop_px, "dim": encoder.representation_dim, "device": str(device),
        "torch_threads": torch.get_num_threads(), "objects": n, "batch": options["batch"],
        "objects_per_s": {k: round(v, 2) for k, v in rates.items()},
        "best_objects_per_s": {k: round(n / min(w for w, _ in v), 2) for k, v in times.items()},
        "objects_per_cpu_s": {k: round(v, 2) for k, v in cpu_rates.items()},
        "embed_over_bare": {"warm": round(rates["embed_warm"] / rates["bare"], 3),
                            "cold": round(rates["embed_cold"] / rates["bare"], 3)},
        "embed_over_bare_cpu": {"warm": round(cpu_rates["embed_warm"] / cpu_rates["bare"], 3),
                                "cold": round(cpu_rates["embed_cold"] / cpu_rates["bare"], 3)},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=4096, help="objects in the store (cpu-small, GPU models)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2], help="torch intra-op threads (CPU)")
    parser.add_argument("--models", nargs="*", default=None, help="subset of model names to time")
    args = parser.parse_args()
    cuda = torch.cuda.is_available()
    report = {"machine": machine(), "n_store": args.n, "results": []}
    with tempfile.TemporaryDirectory(prefix="skyssl-bench-embed-") as tmp:
        work = Path(tmp)
        started = time.perf_counter()
        store = write_store(work / "store", args.n)
        report["store_write_s"] = round(time.perf_counter() - started, 2)
        for name, (config, options) in model_configs(cuda).items():
            if args.models and name not in args.models:
                continue
            if cuda:
                report["results"].append(measure(name, config, options, store, work, torch.device("cuda"),
                                                 args.repeats))
                continue
            for threads in args.threads:
                torch.set_num_threads(threads)
                report["results"].append(measure(name, config, options, store, work, torch.device("cpu"),
                                                 args.repeats))
    report["machine"]["load_average_after"] = list(os.getloadavg())
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
