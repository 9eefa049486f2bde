"""A proven bound on the error of bfloat16 similarity scores, so that a bf16 candidate pass loses nothing.

For float32 vectors a, b let ã, b̃ be their bf16 roundings (round to nearest even, 8 significant bits:
|aᵢ − ãᵢ| ≤ 2⁻⁸|aᵢ|) and r_a = a − ã. The score tile is a bf16 GEMM: the products ãᵢb̃ᵢ are exact in
float32 (8 + 8 significant bits), summed in float32 in some order, and the sum rounded to bf16. Then

  a·b − ã·b̃ = r_a·b + ã·r_b,  so  |a·b − ã·b̃| ≤ ‖r_a‖‖b‖ + ‖ã‖‖r_b‖                  (Cauchy–Schwarz)
  |fl32(Σ ãᵢb̃ᵢ) − ã·b̃| ≤ γ_d Σ|ãᵢb̃ᵢ| ≤ γ_d ‖ã‖‖b̃‖,  γ_d = d·2⁻²⁴ / (1 − d·2⁻²⁴)     (any summation order)
  |S̃ − s_acc| ≤ 2⁻⁸|s_acc| ≤ |S̃| / 255                                                (bf16 output rounding)

with the norms taken as maxima over all vectors (measured, not assumed). The exact similarity that
ends up in the table (:func:`~skyssl.search.allpairs_exact.exact_dot`: a fixed-point sum of the
float64 products, rounded to float32) is within 2⁻²⁴ + 2⁻³⁸ of a·b for |a·b| < 2. So for every pair

  similarity ≤ S̃ + |S̃|/255 + slack,  slack = ρ(n + ñ) + γ_d ñ² + 2⁻²²

(ρ = max ‖r‖, n = max ‖a‖, ñ = max ‖ã‖; 2⁻²² also covers products that the bf16 hardware flushes to
zero, d·2⁻¹²⁶). A pair with S̃ + |S̃|/255 < (worst similarity in the row's running top-k) − slack
cannot enter the top-k, and the running worst only rises — so skipping it is exact. The bound is
tested against measured errors in tests/search/test_allpairs_bounds.py.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

BF16_REL_OUTPUT = 1.0 / 255.0
"""|S̃ − s_acc| ≤ 2⁻⁸|s_acc| ≤ |S̃|·2⁻⁸/(1 − 2⁻⁸) = |S̃|/255."""
EXACT_ROUNDING = 2.0**-22
FLOAT32_UNIT = 2.0**-24


@dataclass(frozen=True)
class Bf16Bound:
    """similarity ≤ S̃ + rel·|S̃| + slack for every pair (and ≥ S̃ − rel·|S̃| − slack)."""

    slack: float
    rel: float = BF16_REL_OUTPUT


def to_bf16(vectors: np.ndarray) -> torch.Tensor:
    """float32 rows → bf16 tensor, rounded to nearest even (torch's conversion)."""
    return torch.from_numpy(np.ascontiguousarray(vectors, dtype=np.float32)).to(torch.bfloat16)


def bf16_bound(vectors: np.ndarray, vectors_bf16: torch.Tensor, batch: int = 1024) -> Bf16Bound:
    """The bound above for all pairs drawn from `vectors` (float32 rows) and their bf16 copy."""
    rho = norm = norm_bf16 = 0.0
    for start in range(0, vectors.shape[0], batch):
        exact = torch.from_numpy(vectors[start : start + batch]).double()
        rounded = vectors_bf16[start : start + batch].double()
        rho = max(rho, float(torch.linalg.vector_norm(exact - rounded, dim=1).max()))
        norm = max(norm, float(torch.linalg.vector_norm(exact, dim=1).max()))
        norm_bf16 = max(norm_bf16, float(torch.linalg.vector_norm(rounded, dim=1).max()))
    d = vectors.shape[1]
    gamma = d * FLOAT32_UNIT / (1.0 - d * FLOAT32_UNIT)
    return Bf16Bound(slack=rho * (norm + norm_bf16) + gamma * norm_bf16**2 + EXACT_ROUNDING)
