"""`limes bench ocr`: the MRZ read from data-page images, over pages the simulator renders with
realistic damage (hardware_sim.datapage): how many are exactly right, how many are flagged for
the officer, and how many are silently wrong (a reading not flagged that differs from what is
printed; it must be 0). Time per page (decoded image to reading) p50/p95, wall clock and the
process's CPU time (which a shared machine's load does not inflate)."""
from __future__ import annotations

import argparse
import dataclasses
import sys
import time

import numpy as np

from common import machine
from common.output import add_json_flag, emit
from limes.bench.summary import summary

TARGET_EXACT = 0.99


def register(bench: argparse.ArgumentParser) -> None:
    bench.description = ("Render data pages with paper texture, skew, blur, glare, noise and JPEG, read each "
                         f"MRZ from the image; targets: >= {TARGET_EXACT:.0%} exactly right, the rest flagged, "
                         "none silently wrong.")
    bench.add_argument("--pages", type=int, default=200, help="pages rendered and read (default 200)")
    bench.add_argument("--seed", type=int, default=2026, help="seed of the holders and the damage (default 2026)")
    bench.add_argument("--ink-spread", type=int, default=0, choices=range(0, 4), metavar="PX",
                       help="print heavier than the OCR-B font: strokes thickened by PX pixels each side (0-3, "
                            "default 0), the same pages otherwise; the reader compares with the font's own glyphs")
    add_json_flag(bench)
    bench.set_defaults(func=_bench)


def _bench(args: argparse.Namespace) -> int:
    if args.pages < 1:
        print("limes bench ocr: --pages must be at least 1", file=sys.stderr)
        return 2
    from drivers.pageimage import decode_image, read_mrz
    from hardware_sim.datapage import Damage, damage_page, encode_jpeg, random_page, render_page

    rng = np.random.default_rng(args.seed)
    exact = flagged = silently_wrong = 0
    timings, cpu_timings, wrong, flagged_examples = [], [], [], []
    for index in range(args.pages):
        page = random_page(rng)
        damage = dataclasses.replace(Damage.realistic(rng), ink_spread=args.ink_spread)
        photo = encode_jpeg(damage_page(render_page(page, pattern_seed=index), damage, seed=index),
                            damage.jpeg_quality)
        image = decode_image(photo)
        started, cpu_started = time.perf_counter(), time.process_time()
        reading = read_mrz(image)
        timings.append((time.perf_counter() - started) * 1000)
        cpu_timings.append((time.process_time() - cpu_started) * 1000)   # all the process's threads: load-proof
        if reading.flagged:
            flagged += 1
            if len(flagged_examples) < 10:
                flagged_examples.append({"page": index, "problems": list(reading.problems)})
        elif reading.text == page.mrz_text:
            exact += 1
        else:
            silently_wrong += 1
            wrong.append({"page": index, "printed": page.mrz_text, "read": reading.text})
    result = {
        "bench": "ocr", "pages": args.pages, "seed": args.seed, "ink_spread_px": args.ink_spread,
        "exact": exact, "flagged": flagged, "silently_wrong": silently_wrong,
        "exact_rate": round(exact / args.pages, 4), "target_exact_rate": TARGET_EXACT,
        "met": exact / args.pages >= TARGET_EXACT and silently_wrong == 0,
        "ms_per_page": summary(timings), "cpu_ms_per_page": summary(cpu_timings),
        "silently_wrong_pages": wrong, "flagged_examples": flagged_examples,
        "machine": machine.describe(),
    }
    emit(result, args.json, lambda r: (
        f"{r['exact']}/{r['pages']} exactly right ({r['exact_rate']:.1%}), {r['flagged']} flagged, "
        f"{r['silently_wrong']} silently wrong; per page p50 {r['ms_per_page']['p50']:.0f} ms, "
        f"p95 {r['ms_per_page']['p95']:.0f} ms"))
    return 0 if result["met"] else 1
