"""`limes bench finger`: minutiae extraction time and 1:1 accuracy on synthetic fingerprints.

Every finger (hardware_sim.fingerprints: a master print of a seeded pattern class) is touched twice
at the chosen difficulty; both impressions are extracted (timed), each finger's two impressions make
a mated pair, and every finger's first impression against every other finger's second a non-mated
pair. 101 fingers give 10,100 non-mated pairs: enough to see an FMR of 1e-4 at all.
"""
from __future__ import annotations

import argparse
import functools
import json
import multiprocessing
import sys
import time
from pathlib import Path

from common import machine
from common.output import add_json_flag, emit
from drivers.fingerprint import accuracy, compare, minutiae
from drivers.fingerprint.errors import FingerprintError
from hardware_sim.fingerprints.impression import Touch, make_impression
from hardware_sim.fingerprints.master import make_master
from limes.bench import finger_data, finger_search
from limes.bench.summary import summary

TARGET_EXTRACTION_MS = 300.0
TARGET_FNMR = 0.02
TARGET_FMR = 1e-4


def register(bench: argparse.ArgumentParser) -> None:
    bench.description = (f"Extraction time a finger (target <= {TARGET_EXTRACTION_MS:.0f} ms) and 1:1 FNMR at "
                         f"FMR {TARGET_FMR:g} (target <= {TARGET_FNMR:.0%}) on synthetic fingerprints.")
    bench.add_argument("--fingers", type=int, default=101, help="fingers, two impressions each (default 101)")
    bench.add_argument("--difficulty", type=float, default=1.0,
                       help="scale of every departure from a clean touch (default 1.0; 0.5 easy, 2 hard)")
    bench.add_argument("--seed", type=int, default=1000, help="first finger's seed (default 1000)")
    bench.add_argument("--cached", action="store_true",
                       help="read the fingers' templates from the var dir's cache (limes.bench.finger_data), making "
                            "the missing ones: extraction is then not timed")
    bench.add_argument("--alignments", type=int, default=compare.ALIGNMENTS,
                       help=f"alignments the comparator tries (default {compare.ALIGNMENTS}; the first version: 8)")
    bench.add_argument("--scores", type=Path, metavar="FILE.json",
                       help="also write every mated and non-mated score (to calibrate thresholds)")
    bench.add_argument("--processes", type=int, default=1, help="processes comparing (default 1)")
    finger_search.add_arguments(bench)
    add_json_flag(bench)
    bench.set_defaults(func=_bench)


def _bench(args: argparse.Namespace) -> int:
    if args.gallery is not None:
        if args.gallery < 2 * args.per_subject or args.searches < 1 or args.shortlist < 0:
            print("limes bench finger: --gallery must hold two subjects, --searches positive, --shortlist not negative",
                  file=sys.stderr)
            return 2
        if max(args.search_fingers or [0]) > args.per_subject:
            print("limes bench finger: --search-fingers cannot ask for more fingers than --per-subject enrols",
                  file=sys.stderr)
            return 2
        emit(finger_search.run(args), args.json, finger_search.render)
        return 0
    if args.fingers < 2:
        print("limes bench finger: --fingers must be at least 2", file=sys.stderr)
        return 2
    templates, extraction, patterns = {}, [], {}
    if args.cached:
        cached = finger_data.fingers(range(args.seed, args.seed + args.fingers), args.difficulty, args.processes)
        templates = {(finger, touch): cached[args.seed + finger][touch] for finger in range(args.fingers)
                     for touch in (0, 1)}
    else:
        for finger in range(args.fingers):
            master = make_master(args.seed + finger)
            patterns[master.pattern] = patterns.get(master.pattern, 0) + 1
            for touch in (0, 1):
                image = make_impression(master, Touch(touch, args.difficulty))
                started = time.perf_counter()
                templates[finger, touch] = minutiae.extract(image)
                extraction.append((time.perf_counter() - started) * 1000)
    rows = [[(templates[finger, 0], templates[other, 1]) for other in range(args.fingers)]
            for finger in range(args.fingers)]
    with multiprocessing.get_context("fork").Pool(args.processes) as pool:
        scored = pool.map(functools.partial(_score_row, alignments=args.alignments), rows)
    mated, non_mated, comparing, failed = [], [], [], 0
    for finger, row in enumerate(scored):
        for other, (score, milliseconds) in enumerate(row):
            failed += score is None
            comparing.append(milliseconds)
            (mated if finger == other else non_mated).append(score or 0.0)
    if args.scores:
        args.scores.write_text(json.dumps({"mated": mated, "non_mated": non_mated}))
    at_target = accuracy.fnmr_at_fmr(mated, non_mated, TARGET_FMR)
    fmr, fnmr = accuracy.error_rates(mated, non_mated, compare.THRESHOLD)
    eer, eer_threshold = accuracy.equal_error_rate(mated, non_mated)
    result = {
        "data_set": {"generator": "hardware_sim.fingerprints", "fingers": args.fingers, "impressions": 2,
                     "difficulty": args.difficulty, "seed": args.seed, "image": "300x400 px, 500 ppi",
                     "patterns": patterns or "not drawn (cached templates)",
                     "templates": "cached" if args.cached else "extracted"},
        "alignments": args.alignments, "extraction_ms": summary(extraction), "compare_cpu_ms": summary(comparing),
        "mated_pairs": len(mated), "non_mated_pairs": len(non_mated), "failed_to_compare": failed,
        "shipped_threshold": compare.THRESHOLD, "fmr": fmr, "fnmr": fnmr, "eer": eer, "eer_threshold": eer_threshold,
        "fnmr_at_fmr": [accuracy.fnmr_at_fmr(mated, non_mated, t) for t in (1e-2, 1e-3, TARGET_FMR)],
        "targets": {"extraction_ms_p95": TARGET_EXTRACTION_MS, "fnmr": TARGET_FNMR, "at_fmr": TARGET_FMR},
        "machine": machine.describe(), "load_average": machine.load_average(),
    }
    result["meets_extraction_target"] = (result["extraction_ms"]["p95"] <= TARGET_EXTRACTION_MS if extraction
                                         else None)
    result["meets_accuracy_target"] = at_target["measurable"] and at_target["fnmr"] <= TARGET_FNMR
    emit(result, args.json, _render)
    return 0


def _score_row(pairs, alignments: int) -> list[tuple[float | None, float]]:
    """Each pair's score (None: too few minutiae to compare, counted as a failure scored 0) and CPU ms."""
    row = []
    for a, b in pairs:
        started = time.process_time()
        try:
            score = compare.compare(a, b, alignments=alignments).score
        except FingerprintError:
            score = None
        row.append((score, (time.process_time() - started) * 1000))
    return row


def _render(r: dict) -> str:
    at = r["fnmr_at_fmr"][-1]
    extraction = r["extraction_ms"]
    timed = (f"extraction p50 {extraction['p50']:.0f} ms, p95 {extraction['p95']:.0f} ms; " if extraction["count"]
             else "extraction not timed (cached templates); ")
    return (f"{timed}compare p50 {r['compare_cpu_ms']['p50']:.1f} ms CPU\n"
            f"{r['mated_pairs']} mated / {r['non_mated_pairs']} non-mated pairs; EER {r['eer']:.3f}; "
            f"FNMR {at['fnmr']:.3f} at FMR {at['fmr_target']:g} (threshold {at['threshold']}); "
            f"at the shipped threshold {r['shipped_threshold']:g}: FMR {r['fmr']:.5f}, FNMR {r['fnmr']:.3f}")
