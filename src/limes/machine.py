"""What a benchmark ran on, for its --json output: figures taken on different processors,
or on a machine shared with other work, are not comparable."""
from __future__ import annotations

import os
import platform


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as info:
            return next(line.split(":", 1)[1].strip() for line in info if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor() or platform.machine()


def describe() -> dict:
    """The processor, its cores and the Python that ran the benchmark."""
    return {"cpu": cpu_model(), "cores": os.cpu_count(), "python": platform.python_version()}


def load_average() -> list[float]:
    """The 1, 5 and 15 minute load averages: how busy the machine was with other work too."""
    return [round(x, 2) for x in os.getloadavg()]
