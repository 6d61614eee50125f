"""What a benchmark ran on, for its --json output: figures taken on different processors,
or on a machine shared with other work, are not comparable."""
from __future__ import annotations

import os
import platform


def cpu_model() -> str:
    """The processor's name, with its family and model where the name alone is vague.

    A virtual machine may call processors of different generations by one name ("AMD EPYC"):
    the family and model numbers, and whether it has AVX-512 (FAISS's scans use it), tell them apart.
    """
    try:
        with open("/proc/cpuinfo") as info:
            fields = dict(_cpuinfo_fields(info))
    except OSError:
        fields = {}
    name = fields.get("model name") or platform.processor() or platform.machine()
    if "cpu family" not in fields:
        return name
    extras = f"family {fields['cpu family']} model {fields.get('model', '?')}"
    if "avx512f" in fields.get("flags", "").split():
        extras += ", AVX-512"
    return f"{name} ({extras})"


def _cpuinfo_fields(lines):
    """The first processor's `name: value` pairs."""
    for line in lines:
        if not line.strip():
            return
        name, _, value = line.partition(":")
        yield name.strip(), value.strip()


def describe() -> dict:
    """The processor, its cores and the Python that ran the benchmark."""
    return {"cpu": cpu_model(), "cores": os.cpu_count(), "python": platform.python_version()}


def load_average() -> list[float]:
    """The 1, 5 and 15 minute load averages: how busy the machine was with other work too."""
    return [round(x, 2) for x in os.getloadavg()]
