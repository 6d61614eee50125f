"""The `limes` command.

Each component owns its subcommands in a `commands` module with a
`register(subparsers)` function; registration imports only argparse-level
code, so `limes --help` stays fast; heavy imports happen inside each
command's handler.

Benchmarks live under `limes bench`; a component adds its own with an
optional `register_bench(bench_subparsers)`.
"""
from __future__ import annotations

import argparse
import importlib
import sys

# Order is the order of `limes --help`.
COMPONENT_COMMANDS = [
    "edge.commands",
    "central.commands",
    "matcher.commands",
    "drivers.commands",
    "hardware_sim.commands",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="limes",
        description="Limes biometric border-checkpoint system.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    modules = []
    for name in COMPONENT_COMMANDS:
        modules.append(importlib.import_module(name))
    from limes import demo, pki_cli, scenarios_cli

    demo.register(sub)
    scenarios_cli.register(sub)
    for module in modules:
        module.register(sub)
    pki_cli.register(sub)  # joins the `limes pki` group of the chip commands
    bench = sub.add_parser("bench", help="benchmarks with --json output (see docs/BENCHMARKS.md)")
    bench_sub = bench.add_subparsers(dest="bench", metavar="WHAT", required=True)
    for module in modules:
        if hasattr(module, "register_bench"):
            module.register_bench(bench_sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
