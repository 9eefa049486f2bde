"""Facts about the machine a run or a benchmark used, for model cards and benchmark records."""

from __future__ import annotations

import platform


def cpu_model_name() -> str:
    """The CPU model from /proc/cpuinfo, or what `platform` knows where that file does not exist."""
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as handle:
            return next((ln.split(":", 1)[1].strip() for ln in handle if ln.startswith("model name")), model)
    except OSError:
        return model
