"""InfoNCE logits and loss against a hand computation (MoCo eq. 1)."""

from __future__ import annotations

import math

import pytest
import torch

from skyssl.models.infonce import info_nce_logits, info_nce_loss


def unit(*values: float) -> list[float]:
    norm = math.sqrt(sum(v * v for v in values))
    return [v / norm for v in values]


Q = [unit(1.0, 0.0), unit(0.6, 0.8)]
K = [unit(0.8, 0.6), unit(0.0, 1.0)]
QUEUE = [unit(-1.0, 0.0), unit(0.0, -1.0), unit(1.0, 1.0)]  # (K=3, D=2): one key per row
TAU = 0.2


def dot(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


def hand_loss() -> float:
    """−log softmax of the positive, written out per query and averaged."""
    losses = []
    for q, k in zip(Q, K, strict=True):
        scores = [dot(q, k) / TAU] + [dot(q, n) / TAU for n in QUEUE]
        losses.append(-math.log(math.exp(scores[0]) / sum(math.exp(s) for s in scores)))
    return sum(losses) / len(losses)


def tensors() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    return (
        torch.tensor(Q, dtype=torch.float64),
        torch.tensor(K, dtype=torch.float64),
        torch.tensor(QUEUE, dtype=torch.float64),
    )


def test_logits_are_positive_then_queue_similarities_over_tau() -> None:
    logits, labels = info_nce_logits(*tensors(), temperature=TAU)
    assert logits.shape == (2, 4) and labels.dtype == torch.long
    assert labels.tolist() == [0, 0]
    expected = [[dot(q, k) / TAU] + [dot(q, n) / TAU for n in QUEUE] for q, k in zip(Q, K, strict=True)]
    torch.testing.assert_close(logits, torch.tensor(expected, dtype=torch.float64))


def test_loss_matches_hand_computation() -> None:
    loss = info_nce_loss(*tensors(), temperature=TAU)
    assert loss.item() == pytest.approx(hand_loss(), rel=1e-12)


def test_gradient_reaches_q_only_through_the_function() -> None:
    q, k, queue = tensors()
    q.requires_grad_(True)
    info_nce_loss(q, k, queue, TAU).backward()
    assert q.grad is not None and torch.isfinite(q.grad).all() and q.grad.abs().sum() > 0


def test_perfect_positive_and_orthogonal_negatives_give_small_loss() -> None:
    q = torch.eye(3)[:2]
    loss = info_nce_loss(q, q.clone(), -torch.eye(3)[:2], temperature=0.05)
    assert loss.item() < 1e-8


def test_queue_must_be_rows_of_keys() -> None:
    q, k, _ = tensors()
    with pytest.raises(ValueError, match=r"queue \(K, D\)"):
        info_nce_logits(q, k, torch.zeros(2, 5, dtype=torch.float64), TAU)
