"""Logistic-regression probes on cached representations, fitted full-batch with LBFGS in torch.

The features of a real search (10⁶–10⁷ objects × 2048 dims) only fit in memory as float16, and a
float32 copy would not (performance-anchors §5), so X is never converted whole: every loss-and-gradient
evaluation streams it chunk by chunk, converts small row blocks to float32 into one reused buffer that
stays in cache, and computes both products X·w and Xᵀ·r from that buffer, so each evaluation reads X
from memory once. The optimiser state (d·C + C numbers) is float64; the loss is summed in float64,
and gradient contributions in float32 over at most FLUSH_BLOCKS blocks before a float64 total.

Objective, minimised over W (C × d; one row for the binary case) and b (C):

    f(W, b) = (1/S) Σ_i s_i ℓ(y_i, W x_i + b) + ½ · l2 · ‖W‖²_F,    S = Σ_i s_i  (N without weights)

with ℓ the logistic loss (binary: one logit) or the softmax cross-entropy (multinomial: C logits, as
scikit-learn's multinomial LogisticRegression, with all C rows penalised). The bias is not penalised.
scikit-learn's lbfgs solver minimises C_sk · Σ_i s_i ℓ_i + ½ ‖W‖², which divided by C_sk·S is f, so
the two have the same minimiser when  l2 = 1 / (C_sk · S),  i.e.  C_sk = 1 / (l2 · S).

With `standardize=True` the features are x' = (x − μ)/σ, μ and σ from one streaming pass, and the
penalty acts on the weights of x'. The standardisation is folded into the weights (W x' = (W/σ) x −
(W/σ) μ), so it costs nothing per evaluation.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from skyssl.errors import ArtefactError, InputError

BLOCK_ROWS = 512  # float32 rows converted at a time: 4 MB at d = 2048, kept in cache for both products
FLUSH_BLOCKS = 64  # blocks summed in float32 before the float64 gradient total takes them over


@dataclass
class LinearProbe:
    """A fitted linear classifier: logits = weight·((x − mean)/std) + bias.

    `weight` is (d,) with a scalar `bias` for the binary case (one logit, positive class), (C, d) and
    (C,) for C > 2 classes. `mean`/`std` are None when the features were not standardised. `history`
    holds the objective at every function evaluation of the fit.
    """

    weight: np.ndarray
    bias: np.ndarray
    n_classes: int
    l2: float
    mean: np.ndarray | None = None
    std: np.ndarray | None = None
    history: list[float] = field(default_factory=list)
    fit_seconds: float = 0.0

    @property
    def n_features(self) -> int:
        return int(self.weight.shape[-1])

    def _raw_weights(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(C', d) weights and (C',) bias acting on raw features, C' = 1 for the binary case."""
        return _effective(torch.from_numpy(np.atleast_2d(self.weight).astype(np.float64)),
                          torch.from_numpy(np.atleast_1d(self.bias).astype(np.float64)), self.mean, self.std)

    def decision_function(self, X: np.ndarray, chunk_rows: int = 65536) -> np.ndarray:
        """Logits: (N,) for the binary probe, (N, C) otherwise; X streamed as in the fit."""
        _check_features(X, self.n_features)
        weight, bias = self._raw_weights()
        weight_t = weight.float().T.contiguous()
        out = np.empty((X.shape[0], weight_t.shape[1]), dtype=np.float32)
        cpu = torch.device("cpu")
        with _one_cpu_thread(cpu):
            for start, block in _float32_blocks(X, chunk_rows, cpu):
                out[start : start + block.shape[0]] = (block @ weight_t + bias.float()).numpy()
        return out[:, 0] if self.n_classes == 2 else out

    def predict_proba(self, X: np.ndarray, chunk_rows: int = 65536) -> np.ndarray:
        """P(positive) as (N,) for the binary probe; class probabilities (N, C) otherwise."""
        logits = torch.from_numpy(self.decision_function(X, chunk_rows))
        return (torch.sigmoid(logits) if self.n_classes == 2 else torch.softmax(logits, dim=1)).numpy()

    def save(self, path: str | Path) -> Path:
        """Write `path` (.npz arrays) and a JSON sidecar with the same stem (settings and history)."""
        path = Path(path).with_suffix(".npz")
        arrays = {"weight": self.weight, "bias": np.atleast_1d(self.bias)}
        if self.mean is not None:
            arrays.update(mean=self.mean, std=self.std)
        np.savez(path, **arrays)
        sidecar = {"n_classes": self.n_classes, "l2": self.l2, "n_features": self.n_features,
                   "standardized": self.mean is not None, "fit_seconds": self.fit_seconds, "history": self.history}
        path.with_suffix(".json").write_text(json.dumps(sidecar, indent=2) + "\n")
        return path

    @classmethod
    def load(cls, path: str | Path) -> LinearProbe:
        path = Path(path).with_suffix(".npz")
        if not path.is_file() or not path.with_suffix(".json").is_file():
            raise ArtefactError(f"{path}: probe arrays or their JSON sidecar are missing")
        try:
            meta = json.loads(path.with_suffix(".json").read_text())
            with np.load(path) as arrays:
                loaded = {name: arrays[name] for name in arrays.files}
            bias = loaded["bias"] if meta["n_classes"] > 2 else loaded["bias"][0]
            return cls(weight=loaded["weight"], bias=np.asarray(bias), n_classes=int(meta["n_classes"]),
                       l2=float(meta["l2"]), mean=loaded.get("mean"), std=loaded.get("std"),
                       history=list(meta["history"]), fit_seconds=float(meta["fit_seconds"]))
        except (KeyError, ValueError, OSError) as exc:
            raise ArtefactError(f"{path}: unreadable probe ({exc.__class__.__name__}: {exc})") from None


def _check_features(X: np.ndarray, n_features: int | None = None) -> None:
    if not isinstance(X, np.ndarray) or X.ndim != 2 or X.dtype not in (np.float16, np.float32):
        raise InputError("features must be a 2-D float16 or float32 numpy array")
    if n_features is not None and X.shape[1] != n_features:
        raise InputError(f"features have {X.shape[1]} dimensions, the probe expects {n_features}")


@contextmanager
def _one_cpu_thread(device: torch.device) -> Iterator[None]:
    """Run torch on one intra-op thread while streaming on the CPU (the caller's setting is restored).

    Every operation of a streamed pass is small (a cache-sized block, a vector of d), too small to
    split; and a parallel region stalls whenever another process holds a core. benchmarks/probe.py
    measured 13.7× the streaming bound per evaluation with two threads on the shared two-core machine
    and 2.7–4.3× with one.
    """
    threads = torch.get_num_threads()
    if device.type == "cpu":
        torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def _float32_blocks(X: np.ndarray, chunk_rows: int, device: torch.device) -> Iterator[tuple[int, torch.Tensor]]:
    """(first row, float32 block) over X. On the CPU each block is converted into one reused buffer,
    so a consumer must finish with a block before asking for the next; on a GPU whole chunks go over."""
    if chunk_rows < 1:
        raise InputError(f"chunk_rows must be at least 1, got {chunk_rows}")
    on_cpu = device.type == "cpu"
    block_rows = min(BLOCK_ROWS, chunk_rows) if on_cpu else chunk_rows
    buffer = torch.empty((min(block_rows, X.shape[0]), X.shape[1]), dtype=torch.float32, device=device)
    for chunk_start in range(0, X.shape[0], chunk_rows):
        chunk = X[chunk_start : chunk_start + chunk_rows]
        chunk = torch.from_numpy(chunk if chunk.flags.writeable and chunk.flags.c_contiguous else np.array(chunk))
        for start in range(0, chunk.shape[0], block_rows):
            rows = chunk[start : start + block_rows]
            block = buffer[: rows.shape[0]]
            block.copy_(rows, non_blocking=not on_cpu)
            yield chunk_start + start, block


def _effective(weight: torch.Tensor, bias: torch.Tensor, mean: np.ndarray | None,
               std: np.ndarray | None) -> tuple[torch.Tensor, torch.Tensor]:
    """Weights and bias on raw features equivalent to (weight, bias) on standardised ones."""
    if mean is None:
        return weight, bias
    scaled = weight / torch.from_numpy(std.astype(np.float64)).to(weight.device)
    return scaled, bias - scaled @ torch.from_numpy(mean.astype(np.float64)).to(weight.device)


def feature_moments(X: np.ndarray, chunk_rows: int = 65536) -> tuple[np.ndarray, np.ndarray]:
    """Per-feature mean and standard deviation in one streaming pass (float64 sums); std 0 → 1."""
    _check_features(X)
    total = torch.zeros(X.shape[1], dtype=torch.float64)
    total_sq = torch.zeros(X.shape[1], dtype=torch.float64)
    cpu = torch.device("cpu")
    with _one_cpu_thread(cpu):
        for _, block in _float32_blocks(X, chunk_rows, cpu):
            total += block.sum(0, dtype=torch.float64)
            total_sq += block.square().sum(0, dtype=torch.float64)
    mean = total / X.shape[0]
    std = (total_sq / X.shape[0] - mean.square()).clamp_min(0.0).sqrt()
    std[std == 0] = 1.0
    return mean.numpy(), std.numpy()


class LogisticObjective:
    """f and ∇f of the module docstring, streamed over X; the flat parameter is [W.ravel(), b].

    Per block only the two products and the residual r = ∂ℓ/∂z are computed (few tensor operations,
    so small cache-resident blocks stay cheap); the loss is summed over the stored logits afterwards.
    """

    def __init__(self, X: np.ndarray, y: np.ndarray, n_outputs: int, l2: float, sample_weight: np.ndarray | None,
                 mean: np.ndarray | None, std: np.ndarray | None, device: torch.device, chunk_rows: int):
        self.X, self.n_outputs, self.l2, self.mean, self.std = X, n_outputs, l2, mean, std
        self.device, self.chunk_rows = device, chunk_rows
        self.binary = n_outputs == 1
        self.y = torch.from_numpy(y.astype(np.float32 if self.binary else np.int64)).to(device)
        weight = np.ones(y.size) if sample_weight is None else sample_weight
        self.scale = 1.0 / float(weight.sum())                               # 1/S
        self.s = None if sample_weight is None else torch.from_numpy(weight.astype(np.float32)).to(device)
        shape = (y.size,) if self.binary else (y.size, n_outputs)
        self.logits = torch.empty(shape, dtype=torch.float32, device=device)
        self.residual = torch.empty(shape, dtype=torch.float32, device=device)
        self.history: list[float] = []

    def split(self, flat: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        d = self.X.shape[1]
        return flat[: self.n_outputs * d].view(self.n_outputs, d), flat[self.n_outputs * d :]

    def _block(self, start: int, block: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor,
               partial: torch.Tensor) -> None:
        """Logits and residuals of one block, and its share of Σ s_i r_i x_iᵀ added to `partial`."""
        stop = start + block.shape[0]
        z, r, y = self.logits[start:stop], self.residual[start:stop], self.y[start:stop]
        if self.binary:
            torch.addmv(bias, block, weight[0], out=z)
            torch.sigmoid(z, out=r).sub_(y)
        else:
            torch.addmm(bias, block, weight.T, out=z)
            torch.softmax(z, dim=1, out=r)
            r[torch.arange(y.shape[0], device=self.device), y] -= 1.0
        if self.s is not None:
            r.mul_(self.s[start:stop] if self.binary else self.s[start:stop, None])
        if self.binary:
            partial[0].addmv_(block.T, r)
        else:
            partial.addmm_(r.T, block)

    def _loss(self) -> float:
        """(1/S) Σ s_i ℓ_i over the logits of the pass just made."""
        if self.binary:
            losses = F.binary_cross_entropy_with_logits(self.logits, self.y, reduction="none")
        else:
            losses = F.cross_entropy(self.logits, self.y, reduction="none")
        if self.s is not None:
            losses = losses * self.s
        return float(losses.sum(dtype=torch.float64)) * self.scale

    def __call__(self, flat: torch.Tensor) -> tuple[float, torch.Tensor]:
        with _one_cpu_thread(self.device):
            return self._evaluate(flat)

    def _evaluate(self, flat: torch.Tensor) -> tuple[float, torch.Tensor]:
        weight, bias = self.split(flat)
        raw_w, raw_b = _effective(weight, bias, self.mean, self.std)
        raw_w32, raw_b32 = raw_w.float(), raw_b.float()
        grad_x = torch.zeros_like(raw_w, dtype=torch.float64)   # Σ_i s_i r_i x_iᵀ
        partial = torch.zeros_like(raw_w32)                     # float32 sum over the last FLUSH_BLOCKS blocks
        for k, (start, block) in enumerate(_float32_blocks(self.X, self.chunk_rows, self.device)):
            self._block(start, block, raw_w32, raw_b32, partial)
            if (k + 1) % FLUSH_BLOCKS == 0:
                grad_x += partial
                partial.zero_()
        grad_x = (grad_x + partial) * self.scale
        grad_b = self.residual.sum(0, dtype=torch.float64).reshape(-1) * self.scale
        grad_w = grad_x
        if self.std is not None:  # chain rule through the folded standardisation
            std = torch.from_numpy(self.std.astype(np.float64)).to(self.device)
            mean = torch.from_numpy(self.mean.astype(np.float64)).to(self.device)
            grad_w = (grad_x - grad_b[:, None] * mean) / std
        value = self._loss() + 0.5 * self.l2 * float(weight.square().sum())
        grad = torch.cat([(grad_w + self.l2 * weight).ravel(), grad_b])
        self.history.append(value)
        return value, grad


def _initial_bias(y: np.ndarray, n_outputs: int, sample_weight: np.ndarray | None) -> np.ndarray:
    """Log prior odds (binary) or log class frequencies: the optimum when W = 0, a good start."""
    weight = np.ones(y.size) if sample_weight is None else sample_weight
    if n_outputs == 1:
        p = np.clip(weight[y == 1].sum() / weight.sum(), 1e-12, 1 - 1e-12)
        return np.array([np.log(p / (1 - p))])
    freq = np.bincount(y, weights=weight, minlength=n_outputs) / weight.sum()
    return np.log(np.clip(freq, 1e-12, None))


def _check_targets(y: np.ndarray, n_rows: int, n_classes: int, sample_weight: np.ndarray | None) -> tuple:
    y = np.asarray(y)
    if y.shape != (n_rows,):
        raise InputError(f"{y.shape} labels for {n_rows} feature rows")
    if y.dtype.kind == "f" and not np.isfinite(y).all():
        raise InputError("labels contain NaN")
    if y.dtype.kind not in "biuf" or not np.isin(y, np.arange(n_classes)).all():
        raise InputError(f"labels must be integers in [0, {n_classes})")
    y = y.astype(np.int64)
    if np.unique(y).size < 2:
        raise InputError("labels hold one class only; a probe needs at least two")
    if sample_weight is not None:
        sample_weight = np.asarray(sample_weight, dtype=np.float64)
        if sample_weight.shape != (n_rows,) or not np.isfinite(sample_weight).all() or (sample_weight < 0).any() \
                or sample_weight.sum() <= 0:
            raise InputError("sample_weight must be finite, non-negative, one per row, not all zero")
    return y, sample_weight


def fit_logistic(X: np.ndarray, y: np.ndarray, *, n_classes: int = 2, l2: float = 1e-4, max_iter: int = 200,
                 tol: float = 1e-6, sample_weight: np.ndarray | None = None, device: str = "cpu",
                 chunk_rows: int = 65536, standardize: bool = False) -> LinearProbe:
    """Fit the objective of the module docstring with full-batch LBFGS (strong Wolfe line search).

    X: (N, d) float16 or float32 array or memmap, streamed `chunk_rows` rows at a time (on a GPU, each
    chunk is copied over per evaluation). y: 0/1 (binary, n_classes=2) or integers in [0, n_classes).
    Stops after `max_iter` LBFGS iterations, when max|∇f| ≤ tol, or when f or the step changes by less
    than tol·1e-3. On the CPU the fit runs on one torch thread (see `_one_cpu_thread`).
    """
    _check_features(X)
    if n_classes < 2 or l2 < 0 or max_iter < 1 or tol <= 0:
        raise InputError(f"need n_classes ≥ 2, l2 ≥ 0, max_iter ≥ 1, tol > 0 (got {n_classes}, {l2}, {max_iter}, "
                         f"{tol})")
    y, sample_weight = _check_targets(y, X.shape[0], n_classes, sample_weight)
    started = time.perf_counter()
    torch_device = torch.device(device)
    mean, std = feature_moments(X, chunk_rows) if standardize else (None, None)
    n_outputs = 1 if n_classes == 2 else n_classes
    objective = LogisticObjective(X, y, n_outputs, l2, sample_weight, mean, std, torch_device, chunk_rows)
    flat = torch.zeros(n_outputs * X.shape[1] + n_outputs, dtype=torch.float64, device=torch_device)
    flat[n_outputs * X.shape[1] :] = torch.from_numpy(_initial_bias(y, n_outputs, sample_weight))
    flat.requires_grad_(True)
    optimiser = torch.optim.LBFGS([flat], lr=1.0, max_iter=max_iter, max_eval=int(max_iter * 1.25) + 1,
                                  tolerance_grad=tol, tolerance_change=tol * 1e-3, history_size=20,
                                  line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        value, grad = objective(flat.detach())
        flat.grad = grad
        return torch.tensor(value, dtype=torch.float64)

    with _one_cpu_thread(torch_device):
        optimiser.step(closure)
    weight, bias = (t.detach().cpu().numpy() for t in objective.split(flat.detach()))
    return LinearProbe(weight=weight[0] if n_outputs == 1 else weight, bias=bias[0] if n_outputs == 1 else bias,
                       n_classes=n_classes, l2=float(l2), mean=mean, std=std, history=objective.history,
                       fit_seconds=time.perf_counter() - started)
