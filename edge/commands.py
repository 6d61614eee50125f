"""`limes` subcommands of the edge: face biometrics, running a gate, and their benchmarks."""
from __future__ import annotations

from edge import bench, edge_commands, face_commands


def register(sub) -> None:
    face_commands.register(sub)
    edge_commands.register(sub)


def register_bench(bench_sub) -> None:
    face_commands.register_bench(bench_sub)
    bench.register_bench(bench_sub)
