"""`limes bench finger --gallery N`: 1:N fingerprint search in the matcher (matcher.fingerprints).

N synthetic fingers (limes.bench.finger_data: cached templates of seeds SEED..SEED+N-1, first
impression) are enrolled in a finger gallery of an in-process registry in a temporary folder, grouped
into subjects of --per-subject fingers (positions from the right index finger on). Then --searches
mated searches (the second impression of enrolled subjects' fingers) and as many non-mated ones (the
second impression of subjects that were never enrolled: the seeds after the gallery's) run through
FingerGalleries.search, as the FingerSearch RPC does, without the transport. FPIR is the share of
non-mated searches whose best candidate reaches a threshold, FNIR the share of mated ones whose mate is
not the returned candidate at that threshold; the threshold is set where FPIR is 1 %, and the figures
are also given at the shipped (calibrated) threshold.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from common import machine
from limes.bench import finger_data
from limes.bench.summary import summary
from matcher import fingerprints
from matcher.registry import Registry

TARGET_P95_MS = 1000.0
TARGET_FNIR = 0.02
TARGET_FPIR = 0.01
TARGET_GALLERY = 100_000
FIRST_POSITION = 2      # ISO/IEC 19794-2: 2 right index, 3 right middle, ...
GALLERY = "fingers"


def add_arguments(bench: argparse.ArgumentParser) -> None:
    bench.add_argument("--gallery", type=int, metavar="N",
                       help=f"1:N instead: N fingers enrolled (target: {TARGET_GALLERY:,} fingers, p95 <= "
                            f"{TARGET_P95_MS:.0f} ms, FNIR <= {TARGET_FNIR * 100:g}%% at FPIR {TARGET_FPIR * 100:g}%%)")
    bench.add_argument("--searches", type=int, default=100,
                       help="with --gallery: mated searches, and as many non-mated (default 100)")
    bench.add_argument("--per-subject", type=int, default=1, choices=range(1, 11), metavar="K",
                       help="with --gallery: fingers a subject enrols and a search gives, fused (default 1)")
    bench.add_argument("--shortlist", type=int, default=fingerprints.DEFAULT_SHORTLIST,
                       help=f"with --gallery: subjects re-ranked a search (default {fingerprints.DEFAULT_SHORTLIST})")
    bench.add_argument("--seeds", type=seed_ranges, metavar="A-B[,C-D...]",
                       help="with --gallery: the fingers' seeds, gallery first then non-mated searches "
                            "(default: --seed on, as many as needed)")
    bench.add_argument("--workers", type=int, default=0,
                       help="with --gallery: processes preparing uncached fingers (default: one per core)")


def run(args: argparse.Namespace) -> dict:
    k = args.per_subject
    subjects = args.gallery // k
    searches = min(args.searches, subjects)
    prepared_at = time.perf_counter()
    needed = (subjects + searches) * k
    seeds = args.seeds or list(range(args.seed, args.seed + needed))
    if len(seeds) < needed:
        raise SystemExit(f"limes bench finger: --seeds name {len(seeds)} fingers, {needed} are needed")
    templates = finger_data.fingers(seeds[:needed], args.difficulty, args.workers)
    preparing_s = time.perf_counter() - prepared_at

    def subject_fingers(subject: int, impression: int):
        return [(FIRST_POSITION + f, templates[seeds[subject * k + f]][impression]) for f in range(k)]

    with tempfile.TemporaryDirectory(prefix="limes-bench-finger-") as folder:
        registry = Registry(Path(folder), background=False)
        galleries = fingerprints.FingerGalleries(registry)
        galleries.create(GALLERY)
        enrolling = time.perf_counter()
        for subject in range(subjects):
            galleries.enrol(GALLERY, f"s{subject}", subject_fingers(subject, 0))
        enrol_s = time.perf_counter() - enrolling
        mated, non_mated, timings, shortlisted = [], [], [], 0
        picks = np.random.default_rng(args.seed).choice(subjects, searches, replace=False)
        for subject in picks:
            started = time.perf_counter()  # every re-ranked subject asked back: was the mate among them?
            ranked, _ = galleries.search(GALLERY, subject_fingers(int(subject), 1), args.shortlist, args.shortlist)
            timings.append((time.perf_counter() - started) * 1000)
            mate = f"s{subject}"
            shortlisted += any(c.subject_id == mate for c in ranked)
            mated.append(ranked[0].score if ranked and ranked[0].subject_id == mate else None)
        for subject in range(subjects, subjects + searches):
            started = time.perf_counter()
            ranked, _ = galleries.search(GALLERY, subject_fingers(subject, 1), 1, args.shortlist)
            timings.append((time.perf_counter() - started) * 1000)
            non_mated.append(ranked[0].score if ranked else 0.0)
        memory = {part: sum(g.memory_bytes()[part] for g in registry.all()) for part in ("vectors", "index")}
        registry.close()

    threshold = float(np.quantile(non_mated, 1 - TARGET_FPIR, method="higher")) + 1e-9
    shipped = fingerprints.fused_threshold(k)
    return {
        "data_set": {"generator": "hardware_sim.fingerprints (cached templates)", "difficulty": args.difficulty,
                     "seeds": _ranges(seeds[:needed]), "gallery_fingers": subjects * k, "fingers_per_subject": k,
                     "gallery_subjects": subjects, "mated_searches": searches, "non_mated_searches": searches,
                     "impressions": "first enrolled, second searched"},
        "encoding": {"dimension": fingerprints.encoding.DIMENSION, "version": fingerprints.encoding.VERSION},
        "fusion": "sum rule over the fingers' 1:1 scores", "shortlist": args.shortlist,
        "search_ms": summary(timings), "enrol_s": round(enrol_s, 3), "preparing_s": round(preparing_s, 1),
        "memory_bytes": memory,
        "mate_shortlisted": shortlisted / searches,
        "at_fpir_1pct": {"threshold": round(threshold, 3), **_rates(mated, non_mated, threshold)},
        "at_shipped_threshold": {"threshold": shipped, **_rates(mated, non_mated, shipped)},
        "targets": {"gallery_fingers": TARGET_GALLERY, "search_ms_p95": TARGET_P95_MS, "fnir": TARGET_FNIR,
                    "fpir": TARGET_FPIR},
        "measured_at_target_size": subjects * k >= TARGET_GALLERY,
        "machine": machine.describe(), "load_average": machine.load_average(),
    }


def seed_ranges(text: str) -> list[int]:
    """'1000-1099,5000-5100' as the list of seeds."""
    seeds = []
    try:
        for part in text.split(","):
            first, _, last = part.partition("-")
            seeds.extend(range(int(first), int(last or first) + 1))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not seed ranges like 1000-1099,5000-5100") from None
    return seeds


def _ranges(seeds: list[int]) -> str:
    parts, start = [], 0
    for i in range(1, len(seeds) + 1):
        if i == len(seeds) or seeds[i] != seeds[i - 1] + 1:
            parts.append(f"{seeds[start]}-{seeds[i - 1]}")
            start = i
    return ",".join(parts)


def _rates(mated: list[float | None], non_mated: list[float], threshold: float) -> dict:
    fpir = float(np.mean([s >= threshold for s in non_mated]))
    fnir = float(np.mean([s is None or s < threshold for s in mated]))
    return {"fpir": fpir, "fnir": fnir}


def render(r: dict) -> str:
    d, at = r["data_set"], r["at_fpir_1pct"]
    return (f"{d['gallery_fingers']} fingers ({d['gallery_subjects']} subjects of {d['fingers_per_subject']}), "
            f"difficulty {d['difficulty']}: search p50 {r['search_ms']['p50']:.0f} ms, "
            f"p95 {r['search_ms']['p95']:.0f} ms; mate shortlisted {r['mate_shortlisted']:.1%}\n"
            f"FNIR {at['fnir']:.1%} at FPIR {at['fpir']:.1%} (threshold {at['threshold']}); at the shipped "
            f"threshold {r['at_shipped_threshold']['threshold']}: FNIR {r['at_shipped_threshold']['fnir']:.1%}, "
            f"FPIR {r['at_shipped_threshold']['fpir']:.1%}")
