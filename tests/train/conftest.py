"""Fixtures for the training tests: one tiny simulated store per session."""

from __future__ import annotations

import pytest

from tests.train.helpers import make_store


@pytest.fixture(scope="session")
def tiny_store(tmp_path_factory):
    return make_store(tmp_path_factory.mktemp("train-store") / "store")

