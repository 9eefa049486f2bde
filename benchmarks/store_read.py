"""Store read throughput: skyssl stores (float32, float16) vs a plain h5py loop over an authors' DR9 file.

Everything is written fresh into one temporary folder in the same run: a file in the authors' DR9
layout (contiguous `images` (N, 3, 152, 152) float32, as Stein et al. ship them), then two stores
converted from it with `skyssl.store.convert`. Two access patterns are timed:

- random: one image per call at random rows — the baseline reads `f['images'][i]`, ours calls
  `Store.read_images_by_id([object_id])` (id lookup included);
- sequential: batches of 256 — the baseline reads `f['images'][a:b]`, ours iterates
  `Store.iter_image_batches(256)`.

Arrays come back in the stored dtype (float16 goes to the training device as is and is widened
there, per the design); `store_float16_as_float32` also times the cast on the CPU. MB/s counts bytes as
stored on disk, so a float16 image is half the bytes of a float32 one. Each figure is the median of
`--repeats` passes, contenders interleaved in a shuffled order each pass, measured twice: "warm" (files
in the page cache, which is where data just written lives) and "cold" (pages evicted with
posix_fadvise(DONTNEED) before every pass; a hypervisor or device cache underneath may still help).
Prints one JSON document.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import h5py
import numpy as np

from skyssl.hostinfo import machine_facts
from skyssl.store import Store
from skyssl.store.convert import convert

IMAGE_SHAPE = (3, 152, 152)
BYTES_PER_IMAGE_F32 = int(np.prod(IMAGE_SHAPE)) * 4
WRITE_CHUNK_ROWS = 256


def machine() -> dict:
    """What the figures were measured on."""
    return machine_facts(h5py=h5py.__version__, hdf5=h5py.version.hdf5_version)


def write_dr9_file(path: Path, n: int, seed: int) -> None:
    """An authors'-layout DR9 file, written in chunks so that memory stays small at any n."""
    rng = np.random.default_rng(seed)
    with h5py.File(path, "w") as handle:
        images = handle.create_dataset("images", shape=(n, *IMAGE_SHAPE), dtype="float32")
        for start in range(0, n, WRITE_CHUNK_ROWS):
            stop = min(n, start + WRITE_CHUNK_ROWS)
            images[start:stop] = rng.normal(0.01, 0.01, (stop - start, *IMAGE_SHAPE)).astype(np.float32)
        handle["ra"] = rng.uniform(0, 360, n)
        handle["dec"] = rng.uniform(-60, 60, n)
        handle["ebv"] = rng.uniform(0.01, 0.1, n).astype(np.float32)
        for name in ("flux", "psfsize", "psfdepth"):
            handle[name] = rng.uniform(1, 10, (n, 3)).astype(np.float32)
        handle["release"] = np.full(n, 9010, np.int16)
        handle["brickid"] = rng.integers(0, 300_000, n).astype(np.int32)
        handle["objid"] = np.arange(n, dtype=np.int32)
        handle["inds"] = np.arange(n, dtype=np.int64)


def evict(paths: list[Path]) -> None:
    """Drop these files' pages from the OS page cache (works without root for clean pages)."""
    for path in paths:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


def baseline_random(path: Path, rows: np.ndarray) -> Callable[[], int]:
    def run() -> int:
        with h5py.File(path, "r") as handle:
            images = handle["images"]
            for row in rows:
                np.asarray(images[int(row)], dtype=np.float32)
        return rows.size

    return run


def baseline_sequential(path: Path, n: int, batch: int) -> Callable[[], int]:
    def run() -> int:
        with h5py.File(path, "r") as handle:
            images = handle["images"]
            for start in range(0, n, batch):
                np.asarray(images[start : start + batch], dtype=np.float32)
        return n

    return run


def store_random(path: Path, rows: np.ndarray, dtype: type | None) -> Callable[[], int]:
    def run() -> int:
        with Store.open(path) as store:
            ids = store.object_ids[rows]
            for object_id in ids:
                store.read_images_by_id([object_id], dtype=dtype)
        return rows.size

    return run


def store_sequential(path: Path, batch: int, dtype: type | None) -> Callable[[], int]:
    def run() -> int:
        with Store.open(path) as store:
            for _ in store.iter_image_batches(batch, dtype=dtype):
                pass
            return store.n_objects

    return run


def figures(seconds: float, n_images: int, stored_bytes_per_image: int) -> dict:
    return {
        "seconds": round(seconds, 4),
        "images_per_s": round(n_images / seconds, 1),
        "mb_per_s": round(n_images * stored_bytes_per_image / seconds / 1e6, 1),
    }


def readers(paths: dict[str, Path], rows: np.ndarray, n: int, batch: int) -> list[tuple]:
    """(name, path, stored bytes per image, random pass, sequential pass) for each contender."""
    base, f32, f16 = paths["baseline_h5py_dr9"], paths["store_float32"], paths["store_float16"]
    half = BYTES_PER_IMAGE_F32 // 2
    return [
        (
            "baseline_h5py_dr9",
            base,
            BYTES_PER_IMAGE_F32,
            baseline_random(base, rows),
            baseline_sequential(base, n, batch),
        ),
        (
            "store_float32",
            f32,
            BYTES_PER_IMAGE_F32,
            store_random(f32, rows, None),
            store_sequential(f32, batch, None),
        ),
        ("store_float16", f16, half, store_random(f16, rows, None), store_sequential(f16, batch, None)),
        (
            "store_float16_as_float32",
            f16,
            half,
            store_random(f16, rows, np.float32),
            store_sequential(f16, batch, np.float32),
        ),
    ]


def measure(paths: dict[str, Path], n: int, args: argparse.Namespace, cold: bool) -> dict:
    """Median seconds per pass, contenders interleaved pass by pass so that noise hits all alike."""
    rows = np.random.default_rng(args.seed + 1).integers(0, n, args.random_reads)
    contenders = readers(paths, rows, n, args.batch)
    for _, _, _, _, sequential_run in contenders:
        sequential_run()  # warm-up: imports, file metadata, and (warm case) the page cache
    result: dict[str, dict] = {}
    for pattern, n_images in (("random", rows.size), ("sequential", n)):
        seconds: dict[str, list[float]] = {name: [] for name, *_ in contenders}
        shuffle = np.random.default_rng(args.seed + 2)
        for _ in range(args.repeats):
            for k in shuffle.permutation(len(contenders)):  # no contender always runs right after another
                name, path, _, random_run, sequential_run = contenders[k]
                if cold:
                    evict([path] if path.is_file() else sorted(path.glob("part-*.h5")))
                run = random_run if pattern == "random" else sequential_run
                start = time.perf_counter()
                run()
                seconds[name].append(time.perf_counter() - start)
        result[pattern] = {
            name: {
                **figures(statistics.median(seconds[name]), n_images, stored_bytes),
                "seconds_min_max": [round(min(seconds[name]), 4), round(max(seconds[name]), 4)],
            }
            for name, _, stored_bytes, _, _ in contenders
        }
        base = result[pattern]["baseline_h5py_dr9"]["images_per_s"]
        result[pattern]["ratio_images_per_s_vs_baseline"] = {
            name: round(figs["images_per_s"] / base, 3)
            for name, figs in list(result[pattern].items())
            if name != "baseline_h5py_dr9"
        }
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=4000, help="objects in the test data")
    parser.add_argument("--random-reads", type=int, default=2000, help="single-image reads per random pass")
    parser.add_argument("--batch", type=int, default=256, help="images per sequential batch")
    parser.add_argument("--repeats", type=int, default=5, help="passes per figure (median reported)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--dir", type=Path, default=None, help="where to write the data (default: a temp dir)"
    )
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(dir=args.dir, prefix="skyssl-bench-") as tmp:
        tmp_path = Path(tmp)
        baseline = tmp_path / "images_npix152_000000000_dr9.h5"
        start = time.perf_counter()
        write_dr9_file(baseline, args.n, args.seed)
        write_s = time.perf_counter() - start
        conversions = {}
        paths = {"baseline_h5py_dr9": baseline}
        for dtype in ("float32", "float16"):
            start = time.perf_counter()
            convert(baseline, tmp_path / f"store_{dtype}", image_dtype=dtype)
            conversions[dtype] = figures(time.perf_counter() - start, args.n, BYTES_PER_IMAGE_F32)
            paths[f"store_{dtype}"] = tmp_path / f"store_{dtype}"
        report = {
            "benchmark": "store_read",
            "command": " ".join([Path(sys.argv[0]).name, *(argv if argv is not None else sys.argv[1:])]),
            "machine": machine(),
            "n_objects": args.n,
            "image_shape": list(IMAGE_SHAPE),
            "random_reads": args.random_reads,
            "batch": args.batch,
            "repeats": args.repeats,
            "data_written_s": round(write_s, 2),
            "convert": conversions,
            "warm_page_cache": measure(paths, args.n, args, cold=False),
            "cold_page_cache": measure(paths, args.n, args, cold=True),
        }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
