"""UMAP of representations: fitting directly on the vectors (cosine) against PCA-50 first, side by side.

Both contenders are :func:`skyssl.science.umap_map.fit_map`, exactly as `skyssl umap` calls it: the
vectors are L2-normalised, then either UMAP runs with the cosine metric on all `--dim` coordinates
("direct") or the unit vectors are projected on their 50 leading principal components and UMAP runs
Euclidean there ("pca50"). Data: `--n` clustered representations (cluster centres on a 32-d subspace
plus ambient noise, as in benchmarks/search.py), float32, seeded.

Each contender runs in its own fresh process. Memory: the resident set before the fit, and the fit's
own peak above it (the kernel's peak-RSS mark is reset just before the fit; `fit_extra_mib`), next to
the whole process's peak.
numba's JIT compilation is paid on a 4,500-point fit and transform (past umap-learn's switch to NN-descent
at 4,096 points) before the clock starts, and reported separately. A contender still running after
`--timeout-s` is stopped and reported as not finished within that time. Each contender runs `--repeats`
times, interleaved with the other; the repeat with the shortest fit is reported, with every repeat's
times beside it (on a loaded machine the spread is large).
Figures per contender: fit seconds (wall, and CPU seconds of the process, which a loaded machine
disturbs less), memory (and the input matrix's size, for scale), the size of the pickled model the Map
artefact stores (UMAP keeps its training inputs to place new objects), out-of-sample
transform throughput on `--new` held-out vectors, and a quality check: the fraction of each object's 10
nearest 2-D neighbours from its own cluster (1.0: clusters perfectly separated in the map). UMAP with a
seed is single-threaded (umap-learn's rule), so the core count matters little.

    python benchmarks/umap.py                     # 10^5 × 2048, as in BENCHMARKS.md
    python benchmarks/umap.py --n 20000 --dim 512   # a quick look
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import joblib
import numpy as np

from skyssl.hostinfo import machine_facts

# Run as a script, this file's folder comes first on sys.path and this file would shadow umap-learn's
# `umap` package (the benchmark is named after what it measures); drop the folder before umap is imported.
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != os.path.dirname(os.path.abspath(__file__))]

CONTENDERS = {"direct": 0, "pca50": 50}
CLUSTERS = 200
SPREAD = 0.6  # within-cluster spread on the 32-d subspace (centres are unit normal): neighbouring clusters touch
WARM_UP_N = 4600  # above umap-learn's 4,096-point switch from exact distances to NN-descent: compile that path


def machine() -> dict:
    import numba
    import umap

    return machine_facts(umap_learn=umap.__version__, numba=numba.__version__)


def clustered(n: int, dim: int, seed: int, n_clusters: int = CLUSTERS,
              intrinsic_dim: int = 32) -> tuple[np.ndarray, np.ndarray]:
    """(vectors, cluster label): centres on a random 32-d subspace, spread within it, plus ambient noise."""
    rng = np.random.default_rng(seed)
    basis = rng.standard_normal((intrinsic_dim, dim)).astype(np.float32) / np.sqrt(intrinsic_dim)
    centres = rng.standard_normal((n_clusters, intrinsic_dim)).astype(np.float32)
    labels = rng.integers(0, n_clusters, n)
    out = np.empty((n, dim), np.float32)
    for start in range(0, n, 50_000):
        stop = min(n, start + 50_000)
        latent = centres[labels[start:stop]] + SPREAD * rng.standard_normal((stop - start, intrinsic_dim),
                                                                          dtype=np.float32)
        out[start:stop] = latent @ basis + 0.05 * rng.standard_normal((stop - start, dim), dtype=np.float32)
    return out, labels


def peak_rss_mib() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # Linux reports KiB


def status_mib(field: str) -> float | None:
    """A memory figure of this process from /proc/self/status (VmRSS now, VmHWM its peak), in MiB."""
    try:
        with open("/proc/self/status") as handle:
            line = next(ln for ln in handle if ln.startswith(field + ":"))
    except (OSError, StopIteration):
        return None
    return round(int(line.split()[1]) / 1024, 1)


def reset_peak_rss() -> bool:
    """Reset this process's peak-RSS mark (Linux ≥ 4.0: write 5 to /proc/self/clear_refs)."""
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
    except OSError:
        return False
    return True


def run_contender(name: str, n: int, dim: int, n_new: int, seed: int) -> dict:
    """One contender in this (fresh) process: JIT warm-up, fit, transform, quality."""
    from skyssl.science.umap_map import fit_map
    from skyssl.science.umap_pixels import neighbour_agreement

    pca_dims = CONTENDERS[name]
    started = time.perf_counter()
    warm, _ = clustered(WARM_UP_N, 64, seed + 1)
    warm_model, _ = fit_map(warm[:-100], pca_dims=min(pca_dims, 32), seed=seed)
    warm_model.transform(warm[-100:])
    compile_s = time.perf_counter() - started
    vectors, labels = clustered(n + n_new, dim, seed)
    train, new = vectors[:n], vectors[n:]
    rss_before = status_mib("VmRSS")
    measured = reset_peak_rss()
    started, cpu_started = time.perf_counter(), time.process_time()
    model, xy = fit_map(train, pca_dims=pca_dims, seed=seed)
    fit_s, fit_cpu_s = time.perf_counter() - started, time.process_time() - cpu_started
    fit_peak = status_mib("VmHWM") if measured else None
    started = time.perf_counter()
    model.transform(new)
    transform_s = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as folder:
        joblib.dump(model, Path(folder) / "model.joblib")
        model_mib = round((Path(folder) / "model.joblib").stat().st_size / 2**20, 1)
    return {"contender": name, "pca_dims": pca_dims, "n": n, "dim": dim, "jit_compile_s": round(compile_s, 1),
            "fit_s": round(fit_s, 1), "fit_cpu_s": round(fit_cpu_s, 1), "transform_objects_per_s": round(n_new / transform_s, 1),
            "rss_before_fit_mib": rss_before, "peak_rss_during_fit_mib": fit_peak,
            "fit_extra_mib": None if fit_peak is None else round(fit_peak - rss_before, 1),
            "process_peak_rss_mib": peak_rss_mib(),
            "input_mib": round(train.nbytes / 2**20, 1), "model_file_mib": model_mib,
            "cluster_agreement_10nn": round(neighbour_agreement(xy, labels[:n]), 4)}


def run_child(name: str, args: argparse.Namespace) -> dict:
    """One contender in a fresh process; a run past the timeout is reported as such."""
    command = [sys.executable, __file__, "--child", name, "--n", str(args.n), "--dim", str(args.dim),
               "--new", str(args.new), "--seed", str(args.seed)]
    started = time.perf_counter()
    try:
        done = subprocess.run(command, capture_output=True, text=True, check=True, timeout=args.timeout_s)
    except subprocess.TimeoutExpired:
        return {"contender": name, "n": args.n, "dim": args.dim, "did_not_finish_within_s": args.timeout_s}
    return {**json.loads(done.stdout.strip().splitlines()[-1]),
            "process_wall_s": round(time.perf_counter() - started, 1)}


def best_run(runs: list[dict]) -> dict:
    """The repeat with the shortest fit (the least disturbed by other load), with every repeat's times."""
    finished = [run for run in runs if "fit_s" in run]
    if not finished:
        return runs[0]
    best = min(finished, key=lambda run: run["fit_s"])
    return {**best, "fit_s_all": [run["fit_s"] for run in finished],
            "fit_cpu_s_all": [run["fit_cpu_s"] for run in finished],
            "transform_objects_per_s_all": [run["transform_objects_per_s"] for run in finished]}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="Representations UMAP is fitted on.")
    parser.add_argument("--dim", type=int, default=2048, help="Width of the representations.")
    parser.add_argument("--new", type=int, default=5000, help="Held-out vectors placed by the fitted map.")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=2, help="Runs per contender; the fastest fit is reported.")
    parser.add_argument("--timeout-s", type=float, default=1800.0, help="Stop a contender after this long.")
    parser.add_argument("--contenders", nargs="+", default=list(CONTENDERS), choices=list(CONTENDERS))
    parser.add_argument("--child", choices=list(CONTENDERS), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(run_contender(args.child, args.n, args.dim, args.new, args.seed)))
        return
    runs: dict[str, list[dict]] = {name: [] for name in args.contenders}
    for _ in range(args.repeats):  # contenders interleaved, so a burst of load hits both alike
        for name in args.contenders:
            runs[name].append(run_child(name, args))
            print(f"{name}: {runs[name][-1]}", file=sys.stderr)
    results = {name: best_run(done) for name, done in runs.items()}
    report = {"benchmark": "umap", "machine": machine(), "n": args.n, "dim": args.dim, "repeats": args.repeats,
              "results": results}
    direct, pca = results.get("direct", {}), results.get("pca50", {})
    if "fit_s" in direct and "fit_s" in pca:
        report["pca50_vs_direct"] = {"fit_speedup": round(direct["fit_s"] / pca["fit_s"], 2),
                                     "fit_cpu_speedup": round(direct["fit_cpu_s"] / pca["fit_cpu_s"], 2),
                                     "fit_extra_memory_ratio": round(pca["fit_extra_mib"] / direct["fit_extra_mib"], 2),
                                     "transform_speedup": round(pca["transform_objects_per_s"]
                                                                / direct["transform_objects_per_s"], 2)}
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
