"""`limes bench finger --gallery N`: 1:N fingerprint search in the matcher (matcher.fingerprints).

N synthetic fingers (limes.bench.finger_data: cached templates, first touch) are enrolled in a finger
gallery of an in-process registry in a temporary folder, grouped into subjects of --per-subject fingers
(positions from the right index finger on). The gallery's seeds are --seeds (default --seed on); the
first --searches subjects are searched with their second touch (mated searches), and as many subjects that
were never enrolled (--non-mated-seeds) with theirs (non-mated searches), through FingerGalleries.search
as the FingerSearch RPC does, without the transport.

--search-fingers C,... searches the same gallery with C fingers at a time as well: each searched subject's
fingers split into groups of C (a single-finger search of a four-finger subject is four searches, one a
finger), so one gallery answers both the ten-print style search and the single-finger one.

Reported apart for each C: the shortlist's recall (the mate among the best K subjects the cylinders voted for,
K 1, 8, 32 and --shortlist), and the decision after re-ranking: FPIR is the share of non-mated searches whose
best candidate reaches a threshold, FNIR the share of mated ones whose mate is not the returned candidate at
that threshold; the threshold is set where FPIR is 1 % and the figures are also given at the shipped
(calibrated) threshold. Search time is wall time of FingerGalleries.search (cylinders of the query, FAISS,
voting, re-ranking), and its CPU time beside it: on a shared machine the two differ.
"""
from __future__ import annotations

import argparse
import multiprocessing
import os
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
RECALL_AT = (1, 8, 32)
DEFAULT_NON_MATED_SEED = 900_000


def add_arguments(bench: argparse.ArgumentParser) -> None:
    bench.add_argument("--gallery", type=int, metavar="N",
                       help=f"1:N instead: N fingers enrolled (target: {TARGET_GALLERY:,} fingers, p95 <= "
                            f"{TARGET_P95_MS:.0f} ms, FNIR <= {TARGET_FNIR * 100:g}%% at FPIR {TARGET_FPIR * 100:g}%%)")
    bench.add_argument("--searches", type=int, default=100,
                       help="with --gallery: mated searches, and as many non-mated (default 100)")
    bench.add_argument("--per-subject", type=int, default=1, choices=range(1, 11), metavar="K",
                       help="with --gallery: fingers a subject enrols and a search gives, fused (default 1)")
    bench.add_argument("--search-fingers", type=finger_counts, metavar="C[,C...]",
                       help="with --gallery: fingers a search gives, each count measured apart (default: "
                            "--per-subject; e.g. 1,4 with --per-subject 4)")
    bench.add_argument("--shortlist", type=int, default=0,
                       help="with --gallery: subjects re-ranked a search (default: the matcher's for the search's "
                            f"finger count, {fingerprints.DEFAULT_SHORTLIST} / fingers and at least "
                            f"{fingerprints.MIN_SHORTLIST})")
    bench.add_argument("--seeds", type=seed_ranges, metavar="A-B[,C-D...]",
                       help="with --gallery: the enrolled fingers' seeds, the searched subjects' first "
                            "(default: --seed on, as many as needed)")
    bench.add_argument("--non-mated-seeds", type=seed_ranges, metavar="A-B[,C-D...]",
                       help=f"with --gallery: never-enrolled fingers' seeds for the non-mated searches (default "
                            f"{DEFAULT_NON_MATED_SEED:,} on)")
    bench.add_argument("--index-factory", default="",
                       help="with --gallery: the FAISS index of the cylinder gallery once it outgrows exact search "
                            f"(Flat: exact at every size; default: a finger gallery's, "
                            f"{fingerprints.DEFAULT_INDEX_FACTORY})")
    bench.add_argument("--search-breadth", type=int, default=0,
                       help="with --gallery and an IVF --index-factory: lists probed (default: the finger gallery's, "
                            f"{fingerprints.DEFAULT_SEARCH_BREADTH} for its default index)")
    bench.add_argument("--workers", type=int, default=0,
                       help="with --gallery: processes preparing uncached fingers and encoding enrolments "
                            "(default: one per core)")


def run(args: argparse.Namespace) -> dict:
    k = args.per_subject
    subjects = args.gallery // k
    searches = min(args.searches, subjects)
    seeds = (args.seeds or list(range(args.seed, args.seed + subjects * k)))[:subjects * k]
    strangers = (args.non_mated_seeds or list(range(DEFAULT_NON_MATED_SEED, DEFAULT_NON_MATED_SEED + searches * k)))
    strangers = strangers[:searches * k]
    if len(seeds) < subjects * k or len(strangers) < searches * k:
        raise SystemExit(f"limes bench finger: {subjects * k} gallery and {searches * k} non-mated seeds are needed; "
                         f"--seeds name {len(seeds)}, --non-mated-seeds {len(strangers)}")
    prepared_at = time.perf_counter()
    made = finger_data.prepare(seeds[:searches * k], args.difficulty, args.workers, (0, 1))
    made += finger_data.prepare(seeds[searches * k:], args.difficulty, args.workers, (0,))
    made += finger_data.prepare(strangers, args.difficulty, args.workers, (1,))
    templates = finger_data.fingers(seeds, args.difficulty, touches=())
    templates.update(finger_data.fingers(strangers, args.difficulty, touches=()))
    preparing_s = time.perf_counter() - prepared_at
    generation = finger_data.generation_cpu_s(seeds + strangers, args.difficulty)

    with tempfile.TemporaryDirectory(prefix="limes-bench-finger-") as folder:
        # no snapshots while loading: each would write every row again, and the bench measures searches
        registry = Registry(Path(folder), background=False, snapshot_every=1 << 62)
        galleries = fingerprints.FingerGalleries(registry)
        _, cylinders = galleries.create(GALLERY, index_factory=args.index_factory,
                                        search_breadth=args.search_breadth)
        enrolling, enrol_cpu = time.perf_counter(), time.process_time()
        jobs = ((subject, _touch(fingers, templates, 0)) for subject, fingers in _groups(seeds, subjects, k, k))
        with multiprocessing.get_context("fork").Pool(args.workers or os.cpu_count() or 1) as pool:
            for enrolment in pool.imap(_enrolment, jobs, chunksize=64):
                galleries.store(GALLERY, enrolment)
        enrol_s, enrol_cpu_s = time.perf_counter() - enrolling, time.process_time() - enrol_cpu
        registry.get(GALLERY).wait_for_maintenance()
        by_count = {str(c): _searched(galleries, cylinders, args.shortlist or fingerprints.default_shortlist(c),
                                      _groups(seeds, searches, k, c),
                                      _groups(strangers, searches, k, c), templates)
                    for c in args.search_fingers or [k]}
        memory = {part: sum(g.memory_bytes()[part] for g in registry.all()) for part in ("vectors", "index")}
        rows, index_kind = cylinders.size, cylinders.index_kind
        registry.close()

    return {
        "data_set": {"generator": "hardware_sim.fingerprints (cached templates)", "difficulty": args.difficulty,
                     "gallery_seeds": _ranges(seeds), "non_mated_seeds": _ranges(strangers),
                     "gallery_fingers": subjects * k, "fingers_per_subject": k, "gallery_subjects": subjects,
                     "searched_subjects": searches, "never_enrolled_subjects": searches,
                     "impressions": "touch 0 enrolled, touch 1 searched"},
        "generation": {"fingers_made_now": made, "preparing_wall_s": round(preparing_s, 1),
                       "cpu_s_a_finger": summary(generation) if generation else "not recorded (older cache files)"},
        "encoding": {"version": fingerprints.encoding.VERSION, "dimension": fingerprints.encoding.DIMENSION,
                     "cylinder_rows": rows, "cylinders_a_finger": round(rows / max(subjects * k, 1), 1),
                     "index": index_kind, "vote_neighbours": fingerprints.VOTE_NEIGHBOURS},
        "fusion": "sum rule over the fingers' 1:1 scores",
        "search_breadth": cylinders.config.search_breadth or "the matcher's default",
        "enrol_s": round(enrol_s, 1), "enrol_cpu_ms_a_finger": round(enrol_cpu_s * 1000 / max(subjects * k, 1), 1),
        "memory_bytes": memory,
        "by_search_fingers": by_count,
        "targets": {"gallery_fingers": TARGET_GALLERY, "search_ms_p95": TARGET_P95_MS, "fnir": TARGET_FNIR,
                    "fpir": TARGET_FPIR},
        "measured_at_target_size": subjects * k >= TARGET_GALLERY,
        "machine": machine.describe(), "load_average": machine.load_average(),
    }


def _groups(subject_seeds: list[int], subjects: int, k: int, count: int) -> list[tuple[str, list[tuple[int, int]]]]:
    """The searches of `count` fingers made of the first `subjects` subjects' fingers: (subject, [(position,
    seed)]) each, a subject's k fingers split into k // count groups."""
    return [(f"s{subject}", [(FIRST_POSITION + f, subject_seeds[subject * k + f])
                             for f in range(group * count, group * count + count)])
            for subject in range(subjects) for group in range(k // count)]


def _touch(fingers: list[tuple[int, int]], templates: dict, touch: int) -> list:
    """(position, template) of each (position, seed) finger, as its `touch` left it."""
    return [(position, templates[seed][touch]) for position, seed in fingers]


def _searched(galleries: fingerprints.FingerGalleries, cylinders, shortlist: int, mated_groups: list,
              stranger_groups: list, templates: dict) -> dict:
    """Mated and non-mated searches of one finger count (second touches), and what they measure."""
    mated, non_mated, wall, cpu, shortlist_cpu, ranks, kept = [], [], [], [], [], [], []
    for mate, fingers in mated_groups:
        proposed, ranked = _timed(galleries, cylinders, _touch(fingers, templates, 1), shortlist, wall, cpu,
                                  shortlist_cpu)
        ranks.append(proposed.index(mate) if mate in proposed else 1 << 30)
        mated.append(ranked[0].score if ranked and ranked[0].subject_id == mate else None)
        kept.append(_kept(ranked, mate))
    for _, fingers in stranger_groups:
        _, ranked = _timed(galleries, cylinders, _touch(fingers, templates, 1), shortlist, wall, cpu, shortlist_cpu)
        non_mated.append(ranked[0].score if ranked else 0.0)
        kept.append(_kept(ranked, None))
    count = len(mated_groups[0][1])
    threshold = float(np.quantile(non_mated, 1 - TARGET_FPIR, method="higher")) + 1e-9
    shipped = fingerprints.search_threshold(count)          # what FingerSearch decides at by default
    ranks_array = np.array(ranks)
    return {
        "mated_searches": len(mated), "non_mated_searches": len(non_mated), "shortlist": shortlist,
        "shortlist_recall": {f"at_{n}": float(np.mean(ranks_array < n)) for n in (*RECALL_AT, shortlist)},
        "search_ms": summary(wall), "search_cpu_ms": summary(cpu), "shortlist_cpu_ms": summary(shortlist_cpu),
        "at_fpir_1pct": {"threshold": round(threshold, 3), **_rates(mated, non_mated, threshold),
                         "measurable": len(non_mated) >= 1 / TARGET_FPIR},
        "at_shipped_threshold": {"threshold": shipped, **_rates(mated, non_mated, shipped)},
        "searches": {"mated": kept[:len(mated)], "non_mated": kept[len(mated):]},
    }


def _enrolment(job: tuple[str, list]) -> fingerprints.Enrolment:
    """One subject's enrolment, prepared in a worker process (Pool.imap passes one argument)."""
    return fingerprints.prepare(*job)


def _timed(galleries: fingerprints.FingerGalleries, cylinders, query, shortlist: int, wall: list, cpu: list,
           shortlist_cpu: list) -> tuple[list[str], list[fingerprints.FingerCandidate]]:
    """A search as FingerGalleries.search makes it, in its two steps, so that the mate's place among every
    subject voted for is known: (the subjects voted for, best first; the re-ranked candidates)."""
    started, started_cpu = time.perf_counter(), time.process_time()
    proposed = galleries.candidates(cylinders, query)
    shortlist_cpu.append((time.process_time() - started_cpu) * 1000)
    ranked, _ = galleries.rerank(GALLERY, proposed[:shortlist], query, shortlist)
    wall.append((time.perf_counter() - started) * 1000)
    cpu.append((time.process_time() - started_cpu) * 1000)
    return proposed, ranked


def _kept(ranked: list[fingerprints.FingerCandidate], mate: str | None) -> dict:
    """What a search's decision could be recomputed from later: the three best fused scores, and where the
    mate came (None: not re-ranked, or a non-mated search)."""
    place = next((i for i, c in enumerate(ranked) if c.subject_id == mate), None)
    return {"best": [round(c.score, 2) for c in ranked[:3]], "mate_place": place}


def finger_counts(text: str) -> list[int]:
    """'1,4' as [1, 4]: fingers a search gives, 1-10 each."""
    try:
        counts = sorted({int(part) for part in text.split(",")})
    except ValueError:
        counts = []
    if not counts or not all(1 <= c <= fingerprints.MAX_FINGERS for c in counts):
        raise argparse.ArgumentTypeError(f"{text!r} is not finger counts 1-10 like 1,4")
    return counts


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
    d = r["data_set"]
    lines = [f"{d['gallery_fingers']} fingers ({d['gallery_subjects']} subjects of {d['fingers_per_subject']}), "
             f"difficulty {d['difficulty']}, cylinder index {r['encoding']['index']}"]
    for count, c in r["by_search_fingers"].items():
        at, shipped = c["at_fpir_1pct"], c["at_shipped_threshold"]
        lines += [f"{count}-finger searches ({c['mated_searches']} mated, {c['non_mated_searches']} non-mated, "
                  f"{c['shortlist']} subjects re-ranked): "
                  f"p50 {c['search_ms']['p50']:.0f} ms, p95 {c['search_ms']['p95']:.0f} ms",
                  "  mate in the shortlist: " + ", ".join(f"top {n[3:]} {v:.1%}"
                                                           for n, v in c["shortlist_recall"].items()),
                  f"  FNIR {at['fnir']:.1%} at FPIR {at['fpir']:.1%} (threshold {at['threshold']}); at the shipped "
                  f"threshold {shipped['threshold']}: FNIR {shipped['fnir']:.1%}, FPIR {shipped['fpir']:.1%}"]
    return "\n".join(lines)
