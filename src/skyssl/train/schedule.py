"""Step arithmetic of a run: learning rate, its schedule, the horizon, and per-step random seeds.

Pure functions of integers, so that a resumed run computes exactly what an uninterrupted one would:
the schedule depends on the config's horizon, never on where a `--max-steps` stop happened to fall.
"""

from __future__ import annotations

import math

import numpy as np

from skyssl.errors import SkysslError


def scaled_lr(lr_per_256: float, global_batch: int) -> float:
    """The linear scaling rule (Goyal et al. 2017): lr = lr_per_256 × global_batch / 256."""
    return lr_per_256 * global_batch / 256.0


def steps_per_epoch(n_train: int, global_batch: int) -> int:
    """Optimizer steps in one pass over the training rows (the last incomplete batch is dropped)."""
    steps = n_train // global_batch
    if steps < 1:
        raise SkysslError(
            f"{n_train} training objects do not fill one global batch of {global_batch}; "
            "use a smaller batch_size, fewer devices or a larger store"
        )
    return steps


def horizon_steps(max_epochs: int | None, max_steps: int | None, epoch_steps: int) -> int:
    """The step at which the schedule ends: the config's max_steps or max_epochs, whichever comes first."""
    candidates = [s for s in (max_steps, None if max_epochs is None else max_epochs * epoch_steps) if s]
    return min(candidates)


def warmup_steps(warmup_steps_cfg: int | None, warmup_epochs: float, epoch_steps: int) -> int:
    """Warm-up length in steps, from either form of the config."""
    if warmup_steps_cfg is not None:
        return warmup_steps_cfg
    return round(warmup_epochs * epoch_steps)


def lr_factor(step: int, warmup: int, horizon: int, schedule: str = "cosine", final: float = 0.0) -> float:
    """Multiplier of the peak learning rate at optimizer step `step` (0-based).

    Linear warm-up from 1/(warmup+1) to 1 over `warmup` steps (never exactly 0: a first step at lr 0
    would waste a batch), then constant or a half cosine from 1 down to `final` at `horizon`; steps past
    the horizon stay at `final`.
    """
    if step < warmup:
        return (step + 1) / (warmup + 1)
    if schedule == "constant":
        return 1.0
    span = max(1, horizon - warmup)
    progress = min(1.0, (step - warmup) / span)
    return final + (1.0 - final) * 0.5 * (1.0 + math.cos(math.pi * progress))


def step_seed(seed: int, step: int, rank: int, stream: int = 0) -> int:
    """A 63-bit seed for one (run seed, global step, rank, stream): independent streams, same bytes on rerun.

    numpy's SeedSequence hashes the tuple, so neighbouring steps or ranks get unrelated streams (unlike
    seed + step, where run seed 1 at step 0 would repeat run seed 0 at step 1).
    """
    state = np.random.SeedSequence([seed, step, rank, stream]).generate_state(2, dtype=np.uint32)
    return int((int(state[0]) << 31) ^ int(state[1])) & ((1 << 63) - 1)
