"""The retrieval monitor's core, checked by hand on vectors whose neighbours are known."""

from __future__ import annotations

import math

import pytest
import torch

from skyssl.train.monitor import retrieval_top1


def test_every_query_finds_its_own_key():
    keys = torch.eye(4)
    queries = keys * 3.0 + 0.1  # scaled and shifted: cosine still points at the same key
    assert retrieval_top1(queries, keys) == 1.0


def test_counts_the_fraction_found():
    keys = torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0]])
    # query 0 → key 0; query 1 → key 0 (wrong); query 2 → key 2; query 3 → key 1 (wrong)
    queries = torch.tensor([[1.0, 0.1], [1.0, 0.2], [-1.0, 0.0], [0.1, 1.0]])
    assert retrieval_top1(queries, keys) == pytest.approx(0.5)


def test_cosine_not_dot_product():
    keys = torch.tensor([[1.0, 0.0], [10.0, 10.0]])  # a long key must not win on length
    queries = torch.tensor([[1.0, 0.05], [1.0, 1.0]])
    assert retrieval_top1(queries, keys) == 1.0


def test_shapes_are_checked_and_empty_is_nan():
    with pytest.raises(ValueError, match="one shape"):
        retrieval_top1(torch.zeros(3, 2), torch.zeros(4, 2))
    assert math.isnan(retrieval_top1(torch.zeros(0, 2), torch.zeros(0, 2)))
