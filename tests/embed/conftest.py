"""Fixtures of the embed tests: the loaded encoder of the shared run (store, run and emb are in tests/conftest.py)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def encoder(run):
    from skyssl.embed.model import load_run

    return load_run(run)
