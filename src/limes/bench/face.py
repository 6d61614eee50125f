"""`limes bench face`: detection, quality and template time per face on the real photos."""
from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

from common import machine
from common.output import add_json_flag, emit
from common.settings import faces_dir
from drivers.face import assess_quality, detect_faces, encode_face, load_image
from limes.bench.summary import summary
from limes.face_calibration.evaluation import IMAGE_SUFFIXES

SPEED_TARGET_MS = 50.0  # detection + template per face at p50 (the e-gate's budget)


def register(bench: argparse.ArgumentParser) -> None:
    bench.description = (f"Time each stage per face on the photos; the target is detection + template "
                         f"<= {SPEED_TARGET_MS:.0f} ms at p50.")
    bench.add_argument("--images", type=Path, help="photos folder (default: LIMES_FACES_DIR)")
    bench.add_argument("--repeat", type=int, default=3, help="runs per image (default 3)")
    bench.add_argument("--no-baseline", action="store_true", help="skip timing face_recognition's own pipeline")
    add_json_flag(bench)
    bench.set_defaults(func=_bench)


def _images_dir(args) -> Path:
    return args.images if args.images is not None else faces_dir()


def _fail(message: str) -> int:
    print(f"limes bench face: {message}", file=sys.stderr)
    return 2


def _bench(args) -> int:
    images = _images_dir(args)
    paths = sorted(p for p in images.glob("*/*") if p.suffix.lower() in IMAGE_SUFFIXES and p.parent.name != "groups")
    if not paths:
        return _fail(f"no photos under {images}")
    if args.repeat < 1:
        return _fail("--repeat must be at least 1")
    loaded = [load_image(path) for path in paths]
    encode_face(loaded[0])  # load the models outside the timings
    timings: dict[str, list[float]] = {"detect": [], "quality": [], "template": [], "detect+template": []}
    for _ in range(args.repeat):
        for rgb in loaded:
            t0 = time.perf_counter()
            faces = detect_faces(rgb)
            t1 = time.perf_counter()
            if not faces:
                continue
            assess_quality(rgb, faces[0], face_count=len(faces))
            t2 = time.perf_counter()
            encode_face(rgb, faces[0])
            t3 = time.perf_counter()
            for key, value in (("detect", t1 - t0), ("quality", t2 - t1), ("template", t3 - t2),
                               ("detect+template", (t1 - t0) + (t3 - t2))):
                timings[key].append(value * 1000)
    result = {
        "images": len(paths),
        "repeat": args.repeat,
        "stages_ms": {k: summary(v) for k, v in timings.items()},
        "target_ms_p50": SPEED_TARGET_MS,
        "machine": machine.describe(),
        "load_average": machine.load_average(),
    }
    result["meets_target"] = result["stages_ms"]["detect+template"]["p50"] <= SPEED_TARGET_MS
    if not args.no_baseline:
        result["baseline_face_recognition_ms"] = summary(_baseline(loaded))
    emit(result, args.json, _render_bench)
    return 0


def _baseline(loaded) -> list[float]:
    """face_recognition's own pipeline per image: HOG at full size with one upsampling, 5-point encodings."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # face_recognition_models imports pkg_resources
        import face_recognition

    times = []
    for rgb in loaded:
        t0 = time.perf_counter()
        locations = face_recognition.face_locations(rgb)
        face_recognition.face_encodings(rgb, locations[:1])
        times.append((time.perf_counter() - t0) * 1000)
    return times


def _render_bench(r: dict) -> str:
    lines = [f"{r['images']} photos x {r['repeat']} runs, per face (ms):"]
    for stage, value in r["stages_ms"].items():
        p50, p95 = value.get("p50", float("nan")), value.get("p95", float("nan"))
        lines.append(f"  {stage:<16} p50 {p50:7.1f}   p95 {p95:7.1f}")
    if "baseline_face_recognition_ms" in r:
        base = r["baseline_face_recognition_ms"]
        lines.append(f"  face_recognition p50 {base['p50']:7.1f}   p95 {base['p95']:7.1f}  "
                     "(its own pipeline, for reference)")
    verdict = "meets" if r["meets_target"] else "MISSES"
    lines.append(f"detect+template p50 {verdict} the {r['target_ms_p50']:.0f} ms target")
    return "\n".join(lines)
