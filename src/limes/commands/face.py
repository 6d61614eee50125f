"""`limes face ...`: accuracy, threshold calibration, image checks (speed: `limes bench face`)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from common.output import add_json_flag, emit
from common.settings import faces_dir
from drivers.face import (
    DEFAULT_MAX_DISTANCE,
    FaceError,
    NoFaceError,
    assess_quality,
    compare,
    detect_faces,
    encode_face,
    load_image,
)
from limes.face_calibration.evaluation import (
    all_pairs,
    equal_error_rate,
    error_rates,
    frr_at_far,
    read_pairs,
    recommend_threshold,
)
from limes.face_calibration.plot import draw_evaluation


def register(face: argparse.ArgumentParser) -> None:
    face_sub = face.add_subparsers(dest="face_command", metavar="WHAT", required=True)

    evaluate = face_sub.add_parser(
        "evaluate",
        help="FAR/FRR, EER and DET curve over labelled image pairs",
        description="Verify every pair and report genuine/impostor counts, failure-to-enrol, FAR and FRR at "
        "the threshold, the EER, FRR at FAR 0.1% and optionally a DET plot.",
    )
    _add_pairs_arguments(evaluate)
    evaluate.add_argument("--threshold", type=float, help="distance threshold (default: the calibrated one)")
    evaluate.add_argument("--plot", type=Path, metavar="FILE.png", help="draw distance histograms and the DET curve")
    add_json_flag(evaluate)
    evaluate.set_defaults(func=_evaluate)

    calibrate = face_sub.add_parser(
        "calibrate",
        help="recompute the operating threshold from labelled photos",
        description="Measure genuine and impostor distances and recommend the operating threshold "
        "(drivers.face.template.DEFAULT_MAX_DISTANCE), with the reasoning.",
    )
    _add_pairs_arguments(calibrate)
    add_json_flag(calibrate)
    calibrate.set_defaults(func=_calibrate)

    quality = face_sub.add_parser("quality", help="faces and quality metrics of one image")
    quality.add_argument("image", type=Path)
    add_json_flag(quality)
    quality.set_defaults(func=_quality)

    compare = face_sub.add_parser("compare", help="verify the largest faces of two images")
    compare.add_argument("image_a", type=Path)
    compare.add_argument("image_b", type=Path)
    compare.add_argument("--threshold", type=float)
    add_json_flag(compare)
    compare.set_defaults(func=_compare)


def _add_pairs_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--pairs", type=Path, metavar="FILE.csv",
                        help="CSV with columns a,b,same (default: every pair of the person folders)")
    parser.add_argument("--images", type=Path, metavar="DIR", help="images folder (default: LIMES_FACES_DIR)")


def _images_dir(args) -> Path:
    return args.images if args.images is not None else faces_dir()


def _fail(message: str) -> int:
    print(f"limes face: {message}", file=sys.stderr)
    return 2


def _distances(args) -> dict:
    """Templates of every image named by the pairs, then the distance of each usable pair."""
    images = _images_dir(args)
    pairs = read_pairs(args.pairs) if args.pairs else all_pairs(images)
    templates, failed = {}, {}
    for name in sorted({p.a for p in pairs} | {p.b for p in pairs}):
        try:
            templates[name] = encode_face(load_image(images / name))
        except NoFaceError:
            failed[name] = "no face found"
        except FaceError as exc:
            failed[name] = str(exc)
    genuine, impostor, skipped = [], [], 0
    for pair in pairs:
        if pair.a in failed or pair.b in failed:
            skipped += 1
            continue
        distance = compare(templates[pair.a], templates[pair.b]).distance
        (genuine if pair.same else impostor).append(distance)
    return {
        "images_dir": str(images),
        "images": len(templates) + len(failed),
        "failed_to_enrol": [{"image": name, "reason": reason} for name, reason in failed.items()],
        "failure_to_enrol_rate": len(failed) / max(len(templates) + len(failed), 1),
        "pairs_skipped": skipped,
        "genuine": genuine,
        "impostor": impostor,
    }


def _stats(values: list[float]) -> dict:
    if not values:
        return {"count": 0}
    return {"count": len(values), "min": round(min(values), 4), "mean": round(sum(values) / len(values), 4),
            "max": round(max(values), 4)}


def _evaluate(args) -> int:
    try:
        measured = _distances(args)
        genuine, impostor = measured["genuine"], measured["impostor"]
        threshold = DEFAULT_MAX_DISTANCE if args.threshold is None else args.threshold
        far, frr = error_rates(genuine, impostor, threshold)
        eer, eer_threshold = equal_error_rate(genuine, impostor)
        at_far = frr_at_far(genuine, impostor, 0.001)
    except FaceError as exc:
        return _fail(str(exc))
    result = {
        "images_dir": measured["images_dir"],
        "images": measured["images"],
        "genuine_pairs": len(genuine),
        "impostor_pairs": len(impostor),
        "failed_to_enrol": measured["failed_to_enrol"],
        "failure_to_enrol_rate": measured["failure_to_enrol_rate"],
        "pairs_skipped": measured["pairs_skipped"],
        "threshold": threshold,
        "far": far,
        "frr": frr,
        "eer": eer,
        "eer_threshold": round(eer_threshold, 4),
        "frr_at_far_0.1%": at_far,
        "genuine_distance": _stats(genuine),
        "impostor_distance": _stats(impostor),
    }
    if args.plot:
        draw_evaluation(genuine, impostor, threshold, args.plot)
        result["plot"] = str(args.plot)
    emit(result, args.json, _render_evaluation)
    return 0


def _render_evaluation(r: dict) -> str:
    at_far = r["frr_at_far_0.1%"]
    note = "" if at_far["resolved"] else f" (not resolved: {at_far['impostor_pairs']} impostor pairs, shown at FAR 0)"
    lines = [
        f"images {r['images']} from {r['images_dir']}: {r['genuine_pairs']} genuine, "
        f"{r['impostor_pairs']} impostor pairs",
        f"failure to enrol: {len(r['failed_to_enrol'])} ({r['failure_to_enrol_rate']:.1%})"
        + "".join(f"\n  {f['image']}: {f['reason']}" for f in r["failed_to_enrol"]),
        f"at threshold {r['threshold']:.3f}: FAR {r['far']:.2%}  FRR {r['frr']:.2%}",
        f"EER {r['eer']:.2%} at {r['eer_threshold']:.3f}",
        f"FRR at FAR 0.1%: {at_far['frr']:.2%} (threshold {at_far['threshold']:.3f}){note}",
        f"genuine distances  {r['genuine_distance']}",
        f"impostor distances {r['impostor_distance']}",
    ]
    if "plot" in r:
        lines.append(f"plot written to {r['plot']}")
    return "\n".join(lines)


def _calibrate(args) -> int:
    try:
        measured = _distances(args)
        recommendation = recommend_threshold(measured["genuine"], measured["impostor"])
    except FaceError as exc:
        return _fail(str(exc))
    far, frr = error_rates(measured["genuine"], measured["impostor"], recommendation["threshold"])
    result = {
        **recommendation,
        "current_default": DEFAULT_MAX_DISTANCE,
        "far": far,
        "frr": frr,
        "genuine_pairs": len(measured["genuine"]),
        "impostor_pairs": len(measured["impostor"]),
        "failed_to_enrol": measured["failed_to_enrol"],
    }
    emit(result, args.json, lambda r: (
        f"recommended threshold {r['threshold']:.3f} (current default {r['current_default']:.3f})\n"
        f"{r['reason']}\n"
        f"on {r['genuine_pairs']} genuine / {r['impostor_pairs']} impostor pairs: "
        f"FAR {r['far']:.2%}, FRR {r['frr']:.2%}"
    ))
    return 0


def _quality(args) -> int:

    try:
        rgb = load_image(args.image)
    except FaceError as exc:
        return _fail(str(exc))
    faces = detect_faces(rgb)
    result = {"image": str(args.image), "size": [rgb.shape[1], rgb.shape[0]], "faces": len(faces)}
    if faces:
        report = assess_quality(rgb, faces[0], face_count=len(faces))
        result.update(
            box=list(faces[0].box),
            passed=report.passed,
            metrics=[vars(metric) for metric in report.metrics],
            messages=report.messages,
        )
    emit(result, args.json, _render_quality)
    return 0


def _render_quality(r: dict) -> str:
    lines = [f"{r['image']}: {r['size'][0]}x{r['size'][1]}, {r['faces']} face(s)"]
    for metric in r.get("metrics", []):
        mark = "ok  " if metric["passed"] else "FAIL"
        lines.append(f"  {mark} {metric['name']:<19} {metric['value']:>9.3f}   threshold {metric['threshold']}")
    if "passed" in r:
        lines.append("quality passed" if r["passed"] else "quality failed: " + "; ".join(r["messages"]))
    return "\n".join(lines)


def _compare(args) -> int:

    try:
        a = encode_face(load_image(args.image_a))
        b = encode_face(load_image(args.image_b))
        verification = compare(a, b, args.threshold)
    except FaceError as exc:
        return _fail(str(exc))
    emit(vars(verification), args.json, lambda r: (
        f"{'MATCH' if r['match'] else 'NO MATCH'}: distance {r['distance']:.4f} "
        f"(threshold {r['threshold']:.3f}), score {r['score']:.3f}"
    ))
    return 0
