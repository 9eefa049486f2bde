"""Samples per second, measured at step boundaries on the host clock.

A window over the last few steps gives the figure logged as `train/samples_per_s`; the whole-run
figure for the model card skips the first steps, which pay for worker start-up, cuDNN autotuning and
torch.compile, and would otherwise drag the mean of a short run far below its steady state.
"""

from __future__ import annotations

import time
from collections import deque


class ThroughputMeter:
    """Record `tick()` after every optimizer step; read rates in samples/s of the global batch."""

    def __init__(self, global_batch: int, window: int = 20, warmup_steps: int = 5) -> None:
        self.global_batch = global_batch
        self.warmup_steps = warmup_steps
        self._recent: deque[float] = deque(maxlen=window + 1)
        self._ticks = 0
        self._steady_start: float | None = None
        self._last: float | None = None
        self._excluded_s = 0.0

    def tick(self, now: float | None = None) -> None:
        now = time.perf_counter() if now is None else now
        self._recent.append(now)
        self._ticks += 1
        if self._ticks == self.warmup_steps + 1:
            self._steady_start = now
        self._last = now

    def exclude(self, seconds: float) -> None:
        """Time spent on something other than training (a monitor pass): left out of both rates."""
        self._recent.clear()
        if self._steady_start is not None:
            self._excluded_s += seconds

    def window_rate(self) -> float | None:
        """Samples/s over the recent window; None until two ticks are in it."""
        if len(self._recent) < 2 or self._recent[-1] <= self._recent[0]:
            return None
        return (len(self._recent) - 1) * self.global_batch / (self._recent[-1] - self._recent[0])

    def steady_rate(self) -> float | None:
        """Samples/s from the end of the warm-up steps to the last tick; None for runs that short."""
        if self._steady_start is None or self._last is None or self._last <= self._steady_start:
            return None
        steps = self._ticks - self.warmup_steps - 1
        return steps * self.global_batch / max(1e-9, self._last - self._steady_start - self._excluded_s)

    @property
    def steps(self) -> int:
        return self._ticks
