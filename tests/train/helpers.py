"""Tiny stores and configs for the training tests: seconds, not minutes, on two CPU cores.

The store is the simulated DR9-like survey (152 px stamps); the config shrinks everything that costs
time — the "small" encoder, 32 px views, batches of 8, a 64-key queue — and keeps everything that
matters for the code paths: split BatchNorm, the monitor, periodic checkpoints.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from skyssl.sim.config import SimConfig
from skyssl.sim.driver import simulate_store

TINY: dict[str, Any] = {
    "model": {"encoder": "small", "small_stamp": True, "emb_dim": 32},
    "moco": {"queue_size": 64, "momentum": 0.99, "temperature": 0.2, "shuffle": "split_bn", "bn_splits": 2},
    "augment": {"spec": "grrrssgbjcgn", "overrides": {"crop_px": 32}},
    "optim": {"lr_per_256": 0.3, "warmup_steps": 3},
    "monitor": {"every_n_steps": 10, "held_out_fraction": 0.25, "held_out_max": 8, "batch_size": 8},
    "batch_size": 8,
    "max_epochs": 100,
    "max_steps": 60,
    "num_workers": 0,
    "seed": 3,
    "log_every_n_steps": 5,
    "checkpoint_every_n_steps": 10,
    "keep_checkpoints": 1,
    "accelerator": "cpu",
    "devices": 1,
}


def make_store(path: Path, n_objects: int = 48, seed: int = 0) -> Path:
    """A simulated DR9-like store (g, r, z, 152 px) of `n_objects` cutouts."""
    return simulate_store(SimConfig(survey="legacy", n_objects=n_objects, seed=seed, lens_rate=0.01), path, workers=1)


def merged(base: dict, overrides: dict) -> dict:
    """`base` with `overrides` applied, one level of sections deep."""
    out = {k: dict(v) if isinstance(v, dict) else v for k, v in base.items()}
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = {**out[key], **value}
        else:
            out[key] = value
    return out


def write_config(path: Path, **overrides: Any) -> Path:
    """The tiny config with top-level or per-section overrides, as YAML at `path`."""
    path.write_text(yaml.safe_dump(merged(TINY, overrides), sort_keys=False))
    return path
