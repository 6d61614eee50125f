"""`limes` subcommands of the edge: face biometrics (and their benchmark)."""
from __future__ import annotations

from edge import bench, face_commands


def register(sub) -> None:
    face_commands.register(sub)


def register_bench(bench_sub) -> None:
    face_commands.register_bench(bench_sub)
    bench.register_bench(bench_sub)
