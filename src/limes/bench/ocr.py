"""`limes bench ocr`: the MRZ read from data-page images, over pages the simulator renders with
realistic damage (hardware_sim.datapage): how many are exactly right, how many are flagged for
the officer, and how many are silently wrong (a reading not flagged that differs from what is
printed; it must be 0). Time per page (decoded image to reading) p50/p95, wall clock and the
process's CPU time (which a shared machine's load does not inflate).

With --real DIR: the photographs and scans in DIR that Limes did not make (each file's printed
MRZ in DIR/printed.json; tests/drivers/fixtures/pages/real holds specimen pages), each read as it
is and as a hand-held camera would make it harder (hardware_sim.datapage.handheld): per image,
exact, flagged or silently wrong."""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

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
    bench.add_argument("--real", type=Path, metavar="DIR",
                       help="read the real page images in DIR instead (their printed MRZs in DIR/printed.json), "
                            "each as it is and made harder as a hand-held camera would; none may be silently wrong")
    add_json_flag(bench)
    bench.set_defaults(func=_bench)


def _bench(args: argparse.Namespace) -> int:
    if args.real is not None:
        return _bench_real(args)
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


def _bench_real(args: argparse.Namespace) -> int:
    from drivers.pageimage import PageImageError, decode_image, read_mrz
    from hardware_sim.datapage.handheld import HANDHELD

    try:
        printed = json.loads((args.real / "printed.json").read_text())
        originals = {name: decode_image((args.real / name).read_bytes()) for name in printed}
    except (OSError, ValueError, PageImageError) as exc:   # json's errors are ValueErrors too
        print(f"limes bench ocr: --real {args.real}: {exc}", file=sys.stderr)
        return 2
    readings, timings = [], []
    for name, image in originals.items():
        for made, harder in {"as it is": lambda page: page, **HANDHELD}.items():
            started = time.perf_counter()
            reading = read_mrz(harder(image))
            timings.append((time.perf_counter() - started) * 1000)
            outcome = ("flagged" if reading.flagged else
                       "exact" if reading.text == printed[name] else "silently wrong")
            readings.append({"image": name, "made": made, "outcome": outcome, "read": reading.text,
                             "problems": list(reading.problems)})
    counts = {outcome: sum(1 for reading in readings if reading["outcome"] == outcome)
              for outcome in ("exact", "flagged", "silently wrong")}
    result = {"bench": "ocr", "real": str(args.real), "images": len(originals), "readings": len(readings),
              "exact": counts["exact"], "flagged": counts["flagged"], "silently_wrong": counts["silently wrong"],
              "met": counts["silently wrong"] == 0, "ms_per_page": summary(timings), "per_image": readings,
              "machine": machine.describe()}
    emit(result, args.json, lambda r: "\n".join(
        [f"{reading['outcome']:>14}  {reading['image']} ({reading['made']})" for reading in r["per_image"]]
        + [f"{r['exact']}/{r['readings']} exactly right, {r['flagged']} flagged, "
           f"{r['silently_wrong']} silently wrong"]))
    return 0 if result["met"] else 1
