"""Fixtures of the embed tests: the shared trained run, and one intra-op thread (tiny convolutions)."""

from __future__ import annotations

import pytest

from tests.embed.helpers import embedded_store, trained_run
from tests.search.helpers import sim_store


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread():
    """Two OpenMP threads only slow tiny convolutions down on a shared two-core machine."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def store(tmp_path_factory):
    return sim_store(tmp_path_factory)


@pytest.fixture(scope="session")
def run(tmp_path_factory):
    return trained_run(tmp_path_factory)


@pytest.fixture(scope="session")
def emb(tmp_path_factory):
    return embedded_store(tmp_path_factory)


@pytest.fixture(scope="session")
def encoder(run):
    from skyssl.embed.model import load_run

    return load_run(run)
