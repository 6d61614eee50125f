"""`limes finger compare|quality|evaluate|template|synth`: fingerprints from images and records.

Images: PNG, JPEG, BMP, PGM, TIFF or WSQ at 500 ppi. A compare side may also be an ISO/IEC 19794-2
record (its first finger view) or a template JSON written by `limes finger template --json`.
"""
from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from pathlib import Path

from common.output import add_json_flag, emit
from drivers.fingerprint import accuracy, ansi_nist, compare, iso19794_2, minutiae, quality, wsq
from drivers.fingerprint.errors import FingerprintError
from drivers.fingerprint.image import encode_png, load_image
from drivers.fingerprint.template import Template


def register(parser: argparse.ArgumentParser) -> None:
    commands = parser.add_subparsers(dest="finger_command", metavar="COMMAND", required=True)

    comparing = commands.add_parser("compare", help="compare two fingerprints 1:1 (score 0-100, match at the "
                                                    f"shipped threshold {compare.THRESHOLD:g})")
    comparing.add_argument("a", type=Path, help="an image, an ISO/IEC 19794-2 record or a template JSON")
    comparing.add_argument("b", type=Path, help="the same kinds as a")
    comparing.add_argument("--threshold", type=float, default=compare.THRESHOLD)
    add_json_flag(comparing)
    comparing.set_defaults(func=_compare)

    assessing = commands.add_parser("quality", help="a finger image's quality 0-100 (NFIQ 2's scale, not NFIQ 2)")
    assessing.add_argument("image", type=Path)
    assessing.add_argument("--threshold", type=int, default=quality.RECAPTURE_BELOW,
                           help=f"prompt a re-capture below this score (default {quality.RECAPTURE_BELOW})")
    add_json_flag(assessing)
    assessing.set_defaults(func=_quality)

    evaluating = commands.add_parser("evaluate", help="FMR, FNMR and DET points over labelled pairs of images")
    evaluating.add_argument("--pairs", type=Path, required=True, metavar="FILE.csv",
                            help="CSV with columns a,b,mated (mated: 1 for the same finger, 0 otherwise)")
    evaluating.add_argument("--images", type=Path, required=True, metavar="DIR", help="the folder the CSV names")
    evaluating.add_argument("--threshold", type=float, default=compare.THRESHOLD)
    evaluating.add_argument("--scores", type=Path, metavar="FILE.csv",
                            help="also write every pair's score (a,b,mated,score), for calibrating a threshold")
    add_json_flag(evaluating)
    evaluating.set_defaults(func=_evaluate)

    templating = commands.add_parser("template", help="extract minutiae; write ISO/IEC 19794-2 or ANSI/NIST-ITL")
    templating.add_argument("image", type=Path)
    templating.add_argument("--position", type=int, default=0, help="finger position 0-10 (0: unknown)")
    templating.add_argument("--iso", type=Path, metavar="FILE", help="write an ISO/IEC 19794-2:2005 record")
    templating.add_argument("--ansi-nist", type=Path, metavar="FILE",
                            help="write an ANSI/NIST-ITL transaction with the image (WSQ)")
    templating.add_argument("--record-type", type=int, choices=(4, 14), default=14)
    add_json_flag(templating)
    templating.set_defaults(func=_template)

    synthesising = commands.add_parser("synth", help="write a synthetic data set: impressions and pairs.csv")
    synthesising.add_argument("--out", type=Path, required=True)
    synthesising.add_argument("--fingers", type=int, default=20)
    synthesising.add_argument("--impressions", type=int, default=2)
    synthesising.add_argument("--difficulty", type=float, default=1.0)
    synthesising.add_argument("--seed", type=int, default=0, help="first finger's seed")
    synthesising.add_argument("--format", choices=("png", "wsq"), default="png")
    add_json_flag(synthesising)
    synthesising.set_defaults(func=_synth)


def _fail(message: str, as_json: bool) -> int:
    if as_json:
        emit({"error": message}, True)
    print(f"limes finger: {message}", file=sys.stderr)
    return 2


def _load_template(path: Path) -> Template:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise FingerprintError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if data.startswith(iso19794_2.FORMAT):
        return iso19794_2.decode(data)[0]
    if data.lstrip().startswith(b"{"):
        try:
            return Template.from_json(json.loads(data))
        except json.JSONDecodeError as exc:
            raise FingerprintError(f"{path}: not valid JSON: {exc}") from exc
    return minutiae.extract(load_image(data))


def _compare(args: argparse.Namespace) -> int:
    try:
        result = compare.compare(_load_template(args.a), _load_template(args.b), args.threshold)
    except FingerprintError as exc:
        return _fail(str(exc), args.json)
    emit(result.to_json(), args.json, lambda r: f"score {r['score']} ({r['paired']} minutiae paired): "
                                      f"{'match' if r['match'] else 'no match'} at {r['threshold']:g}")
    return 0


def _quality(args: argparse.Namespace) -> int:
    try:
        measured = quality.assess(load_image(args.image))
    except FingerprintError as exc:
        return _fail(str(exc), args.json)
    emit(measured.to_json(args.threshold), args.json,
         lambda r: f"quality {r['score']}/100" + (" - re-capture" if r["recapture"] else ""))
    return 0


def _template(args: argparse.Namespace) -> int:
    try:
        image = load_image(args.image)
        found = minutiae.analyse(image)
        measured = quality.assess(image, found)
        template = Template(image.shape[1], image.shape[0], found.minutiae, args.position, measured.score)
        if args.iso:
            args.iso.write_bytes(iso19794_2.encode(template))
        if args.ansi_nist:
            finger = ansi_nist.FingerImage(args.position, image, "WSQ", measured.score)
            args.ansi_nist.write_bytes(ansi_nist.encode([finger], args.record_type))
    except (FingerprintError, OSError) as exc:
        return _fail(str(exc), args.json)
    emit(template.to_json(), args.json, lambda r: f"{len(r['minutiae'])} minutiae, quality {r['quality']}")
    return 0


def _read_pairs(path: Path) -> list[tuple[str, str, bool]]:
    try:
        with path.open(newline="") as handle:
            rows = list(csv.DictReader(handle))
    except (OSError, csv.Error, UnicodeDecodeError) as exc:
        raise FingerprintError(f"cannot read pairs {path}: {exc}") from exc
    pairs = []
    for number, row in enumerate(rows, start=2):
        try:
            mated = row["mated"].strip()
            if mated not in ("0", "1"):
                raise ValueError(mated)
            pairs.append((row["a"].strip(), row["b"].strip(), mated == "1"))
        except (KeyError, AttributeError, ValueError) as exc:
            raise FingerprintError(f"{path} line {number}: needs columns a,b,mated with mated 0 or 1") from exc
    if not pairs:
        raise FingerprintError(f"{path} lists no pairs")
    return pairs


def _evaluate(args: argparse.Namespace) -> int:
    try:
        pairs = _read_pairs(args.pairs)
    except FingerprintError as exc:
        return _fail(str(exc), args.json)
    templates, failed, extraction_ms = {}, {}, []
    for name in sorted({a for a, _, _ in pairs} | {b for _, b, _ in pairs}):
        started = time.perf_counter()
        try:
            templates[name] = minutiae.extract(load_image(args.images / name))
            extraction_ms.append(1000 * (time.perf_counter() - started))
        except FingerprintError as exc:
            failed[name] = str(exc)
    mated, non_mated, skipped, scored = [], [], 0, []
    for a, b, same in pairs:
        try:
            score = compare.compare(templates[a], templates[b]).score
        except (KeyError, FingerprintError):
            skipped += 1     # an image that failed to enrol, or too few minutiae: neither rate counts it
            continue
        (mated if same else non_mated).append(score)
        scored.append((a, b, int(same), round(score, 3)))
    if args.scores:
        try:
            with args.scores.open("w", newline="") as handle:
                csv.writer(handle).writerows([("a", "b", "mated", "score"), *scored])
        except OSError as exc:
            return _fail(f"cannot write scores {args.scores}: {exc.strerror or exc}", args.json)
    fmr, fnmr = accuracy.error_rates(mated, non_mated, args.threshold)
    eer, eer_threshold = accuracy.equal_error_rate(mated, non_mated) if mated and non_mated else (None, None)
    result = {"images": len(templates) + len(failed), "failed_to_enrol": [{"image": k, "reason": v}
                                                                         for k, v in failed.items()],
              "mated_pairs": len(mated), "non_mated_pairs": len(non_mated), "pairs_skipped": skipped,
              "threshold": args.threshold, "fmr": fmr, "fnmr": fnmr, "eer": eer, "eer_threshold": eer_threshold,
              "fnmr_at_fmr": [accuracy.fnmr_at_fmr(mated, non_mated, t) for t in (1e-2, 1e-3, 1e-4)] if non_mated
              else [],
              "extraction_ms_mean": round(sum(extraction_ms) / len(extraction_ms), 1) if extraction_ms else None,
              "det": accuracy.det_points(mated, non_mated) if mated and non_mated else []}
    emit(result, args.json, lambda r: f"{r['mated_pairs']} mated, {r['non_mated_pairs']} non-mated pairs; at "
                                      f"{r['threshold']:g}: FMR {r['fmr']:.4%}, FNMR {r['fnmr']:.2%}; EER {r['eer']}")
    return 0


def _synth(args: argparse.Namespace) -> int:
    from hardware_sim.fingerprints.impression import Touch, make_impression
    from hardware_sim.fingerprints.master import make_master

    args.out.mkdir(parents=True, exist_ok=True)
    names: dict[tuple[int, int], str] = {}
    for finger in range(args.fingers):
        master = make_master(args.seed + finger)
        for touch in range(args.impressions):
            image = make_impression(master, Touch(touch, args.difficulty))
            name = f"f{args.seed + finger:05d}_{touch}.{args.format}"
            (args.out / name).write_bytes(wsq.encode(image) if args.format == "wsq" else encode_png(image))
            names[finger, touch] = name
    with (args.out / "pairs.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["a", "b", "mated"])
        for finger in range(args.fingers):       # every mated pair of impressions
            for t in range(args.impressions):
                for u in range(t + 1, args.impressions):
                    writer.writerow([names[finger, t], names[finger, u], 1])
        for finger in range(args.fingers):       # first against second impressions of every other finger
            for other in range(args.fingers):
                if other != finger and args.impressions > 1:
                    writer.writerow([names[finger, 0], names[other, 1], 0])
    result = {"out": str(args.out), "fingers": args.fingers, "impressions": args.impressions,
              "difficulty": args.difficulty, "seed": args.seed, "images": len(names)}
    emit(result, args.json, lambda r: f"{r['images']} impressions of {r['fingers']} fingers in {r['out']}")
    return 0
