"""`limes bench WHAT`: the benchmarks (src/limes/bench/, docs/BENCHMARKS.md), each with --json.

Like the top-level commands, each benchmark's module is imported only when it runs.
"""
from __future__ import annotations

import argparse

from limes.cli import add_command_table

# name -> (module under limes.bench, summary); the order is that of `limes bench --help`.
BENCHES: dict[str, tuple[str, str]] = {
    "face": ("face", "detection, quality and template time per face on the real photos (p50/p95)"),
    "gate": ("gate", "document presented to gate open (record committed), p50/p95, per step (simulated devices)"),
    "desk": ("desk", "officer desk: document on the reader to every check shown, p50/p95 (simulated devices)"),
    "central": ("central", "crossings/s with concurrent gates: CheckDocument + CheckPerson + RecordCrossing each"),
    "matcher": ("matcher", "recall, latency and throughput on a synthetic gallery"),
    "chip": ("chip", "full chip read through pcscd + vpcd and in process, p50/p95/p99"),
    "pki": ("pki", "trust store of 1,000 CSCAs and 10,000 DSCs: load time, passive authentication p50/p95"),
    "api": ("api", "a 1,000-passenger PAXLST and 100 PNRs of a flight read, stored and screened (target 2 s each)"),
    "files": ("files", "traveller files: enrolment with 1:N deduplication against a 1M travellers gallery, p95"),
    "finger": ("finger", "fingerprint extraction time and 1:1 FNMR at FMR 1e-4 on synthetic prints"),
    "stay": ("stay", "the 90/180 authorised-stay rule for one traveller with 500 crossings, p50/p95/p99"),
    "intel": ("intel", "co-travel groups among N synthetic crossings: recall, precision, build time; network and "
                       "trend queries p95"),
    "ocr": ("ocr", "MRZ read from 200 damaged data-page images: exactly right, flagged, silently wrong (0); "
                   "time per page p50/p95"),
    "sites": ("sites", "a border post's crossings at headquarters over PostgreSQL logical replication: delay, "
                       "catch-up after an outage"),
}


def register(parser: argparse.ArgumentParser) -> None:
    add_command_table(parser, BENCHES, "limes.bench", dest="bench", metavar="WHAT")
