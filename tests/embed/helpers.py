"""A tiny trained run and its embeddings, built once per test session and shared by the embed and CLI tests.

The run is two MoCo steps of the training tests' tiny config (the "small" encoder, 32 px views) on the
64-object simulated store: a few seconds, and enough for a checkpoint whose vectors are not trivial.
Both live under pytest's base temp folder, so every module (and xdist worker) builds them at most once.
"""

from __future__ import annotations

from pathlib import Path

from skyssl.manifest import has_manifest
from tests.search.helpers import sim_store
from tests.train.helpers import write_config


def trained_run(tmp_path_factory) -> Path:
    """A run dir (config.yaml, last.ckpt, MODEL_CARD.md) trained for 2 steps on the simulated store."""
    run = tmp_path_factory.getbasetemp() / "skyssl-embed-run"
    if not (run / "MODEL_CARD.md").is_file():
        from skyssl.train.run import pretrain

        config = write_config(tmp_path_factory.getbasetemp() / "skyssl-embed-run.yaml", monitor={"every_n_steps": 0})
        pretrain(config, sim_store(tmp_path_factory), run, max_steps=2, overwrite=run.exists(), progress=False)
    return run


def embedded_store(tmp_path_factory) -> Path:
    """The simulated store embedded by :func:`trained_run` (float32, with projection, shards of 20 rows)."""
    out = tmp_path_factory.getbasetemp() / "skyssl-embed-emb"
    if not has_manifest(out):
        from skyssl.embed.extract import embed_store
        from skyssl.embed.model import load_run

        embed_store(load_run(trained_run(tmp_path_factory)), sim_store(tmp_path_factory), out, batch_size=16,
                    dtype="float32", projection=True, rows_per_shard=20, overwrite=out.exists())
    return out
