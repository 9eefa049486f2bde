"""Step arithmetic: linear scaling, warm-up + cosine, horizons and per-step seeds."""

from __future__ import annotations

import itertools
import math

import pytest

from skyssl.errors import SkysslError
from skyssl.train.schedule import (
    horizon_steps,
    lr_factor,
    scaled_lr,
    step_seed,
    steps_per_epoch,
    warmup_steps,
)


def test_linear_scaling_rule():
    assert scaled_lr(0.03, 256) == pytest.approx(0.03)
    assert scaled_lr(0.03, 1024) == pytest.approx(0.12)
    assert scaled_lr(0.06, 64) == pytest.approx(0.015)


def test_warmup_then_cosine_to_the_floor():
    warm, horizon = 4, 14
    factors = [lr_factor(s, warm, horizon) for s in range(20)]
    assert factors[:4] == pytest.approx([0.2, 0.4, 0.6, 0.8])  # never 0 at the first step
    assert factors[4] == pytest.approx(1.0)
    assert factors[9] == pytest.approx(0.5)  # half-way through the cosine
    assert factors[14:] == pytest.approx([0.0] * 6)  # flat after the horizon
    assert all(a >= b for a, b in itertools.pairwise(factors[4:]))
    assert lr_factor(9, warm, horizon, final=0.1) == pytest.approx(0.1 + 0.9 * 0.5)
    assert lr_factor(100, 0, 10, schedule="constant") == 1.0


def test_horizon_is_the_first_limit_reached():
    assert horizon_steps(10, None, 7) == 70
    assert horizon_steps(None, 50, 7) == 50
    assert horizon_steps(10, 50, 7) == 50
    assert horizon_steps(5, 50, 7) == 35
    assert warmup_steps(None, 1.5, 10) == 15 and warmup_steps(3, 0.0, 10) == 3


def test_an_epoch_must_hold_a_global_batch():
    assert steps_per_epoch(40, 8) == 5 and steps_per_epoch(47, 8) == 5
    with pytest.raises(SkysslError, match="do not fill one global batch"):
        steps_per_epoch(7, 8)


def test_step_seeds_are_stable_and_distinct():
    seeds = {step_seed(0, step, rank) for step in range(50) for rank in range(4)}
    assert len(seeds) == 200
    assert step_seed(1, 0, 0) != step_seed(0, 1, 0)  # not seed + step
    assert step_seed(7, 3, 1) == step_seed(7, 3, 1) and 0 <= step_seed(7, 3, 1) < 2**63
    assert not math.isnan(float(step_seed(7, 3, 1, stream=9)))
