"""Facts about the machine a run or a benchmark used, for model cards and benchmark records."""

from __future__ import annotations

import os
import platform
import sys


def cpu_model_name() -> str:
    """The CPU model from /proc/cpuinfo, or what `platform` knows where that file does not exist."""
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as handle:
            return next((ln.split(":", 1)[1].strip() for ln in handle if ln.startswith("model name")), model)
    except OSError:
        return model


def memory_gib() -> float:
    """Physical memory in GiB."""
    return round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3, 1)


def machine_facts(**versions: object) -> dict:
    """What a benchmark's figures were measured on and how busy the machine was: CPU, memory, Python and
    numpy, torch's threads and GPU when torch is loaded, the load average, plus the caller's `versions`."""
    import numpy as np

    facts: dict = {"cpu_model": cpu_model_name(), "cpus": os.cpu_count(), "machine": platform.machine(),
                   "memory_gib": memory_gib(), "python": platform.python_version(), "numpy": np.__version__}
    torch = sys.modules.get("torch")
    if torch is not None:
        facts.update(torch=torch.__version__, torch_threads=torch.get_num_threads(),
                     gpu=torch.cuda.get_device_name(0) if torch.cuda.is_available() else None)
    facts["load_average_1_5_15"] = [round(x, 2) for x in os.getloadavg()]
    return {**facts, **versions}
