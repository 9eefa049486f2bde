"""Linear-probe benchmark: one full-batch loss+gradient evaluation ("epoch") of the streamed LBFGS
probe against the memory-streaming bound, and the whole fit against scikit-learn's lbfgs.

Data: N × d float16 features (standard normal, generated in place), labels from a planted direction
plus noise with the top `--positive-fraction` labelled positive (an imbalanced lens-like problem).

(a) Epoch at full N (default 10⁶ × 2048, 4.1 GB of float16): :class:`LogisticObjective` once per
    repeat, best and median. The streaming bound is bytes(X) / bandwidth, the bandwidth measured in
    the same run as the best of `--repeats` torch sums over the same bytes viewed as float32 (a pure
    sequential read; numpy's float32 sum, slower, is reported too).
(b) End to end on the first `--sk-n` rows (scikit-learn needs a float64 copy: 10⁶ × 2048 would be
    16 GB): scikit-learn `LogisticRegression(lbfgs)` with C = 1/(l2·n) (the same objective) on
    float64 as a user runs it (default tol, iterations until it converges), timed including the
    float64 copy; then ours, `fit_logistic` on the float16 rows, with max_iter doubled from
    `--start-iter` until our objective is within 1e-6 relative of scikit-learn's; our time is that of
    the first run that reaches its loss. Both objectives are recomputed in float64 here.
    scikit-learn's time per iteration is also scaled to full N, as an estimate (labelled so).

Prints one JSON document (a summary goes to stderr).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np
import sklearn
import torch
from sklearn.linear_model import LogisticRegression

from skyssl.hostinfo import machine_facts
from skyssl.mining.probe import LogisticObjective, fit_logistic

GENERATE_ROWS = 65536


def machine() -> dict:
    return machine_facts(sklearn=sklearn.__version__)


def make_data(n: int, d: int, positive_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """float16 features filled chunk by chunk (never a float32 copy of the whole) and 0/1 labels."""
    generator = torch.Generator().manual_seed(seed)
    X = np.empty((n, d), dtype=np.float16)
    X_t = torch.from_numpy(X)
    direction = torch.randn(d, generator=generator) / d**0.5
    score = torch.empty(n)
    for start in range(0, n, GENERATE_ROWS):
        block = torch.randn(min(GENERATE_ROWS, n - start), d, generator=generator)
        X_t[start : start + block.shape[0]] = block.half()
        score[start : start + block.shape[0]] = block @ direction + 0.5 * torch.randn(block.shape[0], generator=generator)
    threshold = torch.quantile(score[: min(n, 1_000_000)], 1.0 - positive_fraction)
    return X, (score > threshold).numpy().astype(np.int64)


def best_and_median(function, repeats: int) -> tuple[float, float]:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return min(times), float(np.median(times))


def objective64(X: np.ndarray, y: np.ndarray, w: np.ndarray, b: float, l2: float) -> float:
    """The probe objective in float64, chunk by chunk."""
    total = 0.0
    for start in range(0, X.shape[0], GENERATE_ROWS):
        z = X[start : start + GENERATE_ROWS].astype(np.float64) @ w + b
        total += float(np.sum(np.logaddexp(0.0, z) - y[start : start + GENERATE_ROWS] * z))
    return total / X.shape[0] + 0.5 * l2 * float(w @ w)


def epoch_figures(X: np.ndarray, y: np.ndarray, l2: float, repeats: int) -> dict:
    as_f32 = torch.from_numpy(X.reshape(-1).view(np.float32))
    torch_read, _ = best_and_median(lambda: as_f32.sum(), repeats)
    numpy_read, _ = best_and_median(lambda: X.reshape(-1).view(np.float32).sum(), repeats)
    objective = LogisticObjective(X, y, 1, l2, None, None, None, torch.device("cpu"), 65536)
    flat = torch.zeros(X.shape[1] + 1, dtype=torch.float64)
    flat[:-1] = 0.01
    epoch_best, epoch_median = best_and_median(lambda: objective(flat), repeats)
    bandwidth = X.nbytes / torch_read
    return {"bytes": X.nbytes, "bandwidth_gb_s": bandwidth / 1e9, "numpy_sum_gb_s": X.nbytes / numpy_read / 1e9,
            "streaming_bound_s": torch_read, "epoch_best_s": epoch_best, "epoch_median_s": epoch_median,
            "epoch_over_bound_best": epoch_best / torch_read, "epoch_over_bound_median": epoch_median / torch_read}


def end_to_end(X: np.ndarray, y: np.ndarray, l2: float, start_iter: int, max_iter: int) -> dict:
    """scikit-learn as a user runs it (lbfgs, default tol, enough iterations to converge), then ours
    with max_iter doubled until our objective is at most scikit-learn's (+1e-6 relative)."""
    fit_logistic(X[:256], np.arange(256) % 2, max_iter=2)  # the first LBFGS use imports torch._dynamo (~4 s)
    started = time.perf_counter()
    model = LogisticRegression(C=1.0 / (l2 * y.size), max_iter=10_000).fit(X.astype(np.float64), y)
    sk_seconds = time.perf_counter() - started
    sk_obj = objective64(X, y, model.coef_[0], float(model.intercept_[0]), l2)
    runs, iters = [], start_iter
    while True:
        started = time.perf_counter()
        probe = fit_logistic(X, y, l2=l2, max_iter=iters, tol=1e-9)
        seconds = time.perf_counter() - started
        objective = objective64(X, y, probe.weight.astype(np.float64), float(probe.bias), l2)
        runs.append({"max_iter": iters, "evaluations": len(probe.history), "seconds": seconds, "objective": objective})
        if objective <= sk_obj * (1 + 1e-6) or iters >= max_iter:
            break
        iters *= 2
    ours = runs[-1]
    return {"n": int(y.size), "sklearn_seconds": sk_seconds, "sklearn_n_iter": int(model.n_iter_[0]),
            "sklearn_objective": sk_obj, "sklearn_seconds_per_iteration": sk_seconds / max(int(model.n_iter_[0]), 1),
            "ours_runs": runs, "ours_reached_sklearn_objective": bool(ours["objective"] <= sk_obj * (1 + 1e-6)),
            "ours_seconds": ours["seconds"], "ours_seconds_per_evaluation": ours["seconds"] / ours["evaluations"],
            "speedup": sk_seconds / ours["seconds"], "relative_objective_gap": (ours["objective"] - sk_obj) / sk_obj}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--d", type=int, default=2048)
    parser.add_argument("--sk-n", type=int, default=50_000, help="rows of the end-to-end comparison")
    parser.add_argument("--start-iter", type=int, default=8, help="our first max_iter (then doubled)")
    parser.add_argument("--max-iter", type=int, default=1024)
    parser.add_argument("--l2", type=float, default=1e-4)
    parser.add_argument("--positive-fraction", type=float, default=0.01)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    result = {"command": " ".join(["python benchmarks/probe.py", *(argv if argv is not None else sys.argv[1:])]),
              "machine": machine(), "settings": vars(args)}
    started = time.perf_counter()
    X, y = make_data(args.n, args.d, args.positive_fraction, args.seed)
    result["generate_seconds"] = time.perf_counter() - started
    result["epoch"] = epoch_figures(X, y, args.l2, args.repeats)
    sub = min(args.sk_n, args.n)
    result["end_to_end"] = end_to_end(X[:sub], y[:sub], args.l2, args.start_iter, args.max_iter)
    e2e = result["end_to_end"]
    result["sklearn_full_n_estimate"] = {
        "note": "scikit-learn seconds per iteration on the subsample × N / subsample (float64 X would be "
                f"{args.n * args.d * 8 / 1e9:.1f} GB)",
        "seconds_per_iteration": e2e["sklearn_seconds_per_iteration"] * args.n / sub}
    result["machine"]["load_average_end"] = list(os.getloadavg())
    epoch = result["epoch"]
    print(f"epoch {epoch['epoch_best_s']:.3f} s best / {epoch['epoch_median_s']:.3f} s median at N={args.n}, "
          f"d={args.d} float16; streaming bound {epoch['streaming_bound_s']:.3f} s "
          f"({epoch['bandwidth_gb_s']:.1f} GB/s) → {epoch['epoch_over_bound_best']:.2f}× bound; end to end "
          f"on {sub} rows: ours {e2e['ours_seconds']:.1f} s, sklearn {e2e['sklearn_seconds']:.1f} s "
          f"(×{e2e['speedup']:.1f}, gap {e2e['relative_objective_gap']:.1e})", file=sys.stderr)
    return result


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
