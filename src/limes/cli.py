"""The `limes` command: one table of its commands, each loaded only when it runs.

COMMANDS maps every top-level command to its module under limes.commands and the
one line `limes --help` shows. Building the parser imports none of those modules:
argparse looks a command up when it parses it, and only then is its module
imported and its `register(parser)` called to add its arguments. So `limes --help`
imports nothing but argparse, and `limes NAME ...` imports limes.commands.NAME and
what it needs. A command module with subcommands of its own may give them a table
too (`limes bench WHAT`, limes.commands.bench) with add_command_table.
"""
from __future__ import annotations

import argparse
import importlib
import sys

# name -> (module under limes.commands, summary); the order is that of `limes --help`.
COMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("demo", "run one border post end to end on simulated devices"),
    "sim": ("sim", "simulated devices: scenarios through a border post, a virtual chip in vpcd"),
    "face": ("face", "face biometrics: accuracy, threshold calibration, image checks"),
    "finger": ("finger", "fingerprints: 1:1 compare, quality, accuracy, ISO/ANSI-NIST templates"),
    "edge": ("edge", "the e-gate and the officer desk: run one against its devices and services"),
    "stats": ("stats", "crossing statistics for policy, small cells suppressed"),
    "stay": ("stay", "authorised stay: 90 days in any 180-day period (see docs/STAYS.md)"),
    "central": ("central", "the border management information system behind the gates"),
    "matcher": ("matcher", "FAISS 1:N face search service (see docs/MATCHER.md)"),
    "api": ("api", "advance passenger data: read PAXLST and PNRGOV messages (see docs/API.md)"),
    "mrz": ("mrz", "ICAO 9303 machine readable zones"),
    "docreader": ("docreader", "the serial OCR-B document reader"),
    "chip": ("chip", "ePassport chips in a PC/SC reader"),
    "pki": ("pki", "trusted CSCAs, test PKIs and the certificates for mutual TLS"),
    "bench": ("bench", "benchmarks with --json output (see docs/BENCHMARKS.md)"),
    "deploy": ("deploy", "local stands: a clustered matcher, or the multi-site stand (docs/SITES.md)"),
}


class _LazyParsers(dict):
    """A subparsers action's name -> parser map whose parsers get their arguments when
    argparse looks one up to parse it: only then is the command's module imported."""

    def __init__(self) -> None:
        super().__init__()
        self.pending: dict[str, str] = {}

    def __getitem__(self, name: str) -> argparse.ArgumentParser:
        parser = super().__getitem__(name)
        module = self.pending.pop(name, None)
        if module is not None:
            importlib.import_module(module).register(parser)
        return parser

    def load_all(self) -> None:
        for name in list(self.pending):
            self[name]


def add_command_table(parser: argparse.ArgumentParser, table: dict[str, tuple[str, str]], package: str,
                      dest: str, metavar: str = "COMMAND") -> None:
    """The commands of `table` (name -> (module under `package`, summary)) as subcommands of parser,
    each module imported only when its command is parsed."""
    sub = parser.add_subparsers(dest=dest, metavar=metavar, required=True)
    parsers = _LazyParsers()
    sub._name_parser_map = sub.choices = parsers  # argparse's own map, looked up by name when parsing
    for name, (module, summary) in table.items():
        sub.add_parser(name, help=summary)
        parsers.pending[name] = f"{package}.{module}"


def load_all(parser: argparse.ArgumentParser) -> None:
    """Every command of parser's tables registered, at every level (for the tests that walk them all)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            if isinstance(action.choices, _LazyParsers):
                action.choices.load_all()
            for child in dict.values(action.choices):
                load_all(child)


def build_parser(full: bool = False) -> argparse.ArgumentParser:
    """The `limes` parser; with full, every command's module imported and its arguments added."""
    parser = argparse.ArgumentParser(prog="limes", description="Limes biometric border-checkpoint system.")
    add_command_table(parser, COMMANDS, "limes.commands", dest="command")
    if full:
        load_all(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
