"""What benchmarks record of the machine they ran on."""
from __future__ import annotations

import io
import os

from common import machine


def test_cpuinfo_fields_are_the_first_processors_only():
    text = "processor\t: 0\nmodel name\t: AMD EPYC\ncpu family\t: 26\n\nprocessor\t: 1\nmodel name\t: other\n"
    assert dict(machine._cpuinfo_fields(io.StringIO(text))) == {
        "processor": "0", "model name": "AMD EPYC", "cpu family": "26"}


def test_describe_names_the_processor_generation_where_linux_tells_it():
    described = machine.describe()
    assert described["cores"] == os.cpu_count() and described["cpu"]
    if os.path.exists("/proc/cpuinfo"):
        with open("/proc/cpuinfo") as info:
            has_family = any(line.startswith("cpu family") for line in info)
        assert ("family" in described["cpu"]) == has_family
