"""Fixtures for the training tests: one tiny simulated store per session."""

from __future__ import annotations

import pytest

from tests.train.helpers import make_store


@pytest.fixture(scope="session")
def tiny_store(tmp_path_factory):
    return make_store(tmp_path_factory.mktemp("train-store") / "store")


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread():
    """One intra-op thread: the tiny convolutions here gain nothing from two, and OpenMP's spinning
    threads slow down several-fold when the two cores are shared with other processes."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
