"""Verification accuracy from labelled image pairs: FAR/FRR, EER, DET curve, threshold calibration.

Distances, not scores: a pair is accepted when its distance is at most the
threshold. Pure functions over lists of floats, so they test without images.
"""
from __future__ import annotations

import csv
import itertools
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from drivers.face.errors import FaceError

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".jp2", ".bmp", ".webp"}
# Folders of photos showing several people: no identity label, never paired.
UNLABELLED_FOLDERS = {"groups"}
# Where the gap between genuine and impostor distances is placed by calibrate:
# 0.5 would be the middle; nearer the genuine side because a false accept at a
# border costs more than a false reject, which sends the traveller to a booth.
GAP_POSITION = 0.4


@dataclass(frozen=True)
class Pair:
    a: str
    b: str
    same: bool


def read_pairs(path: str | Path) -> list[Pair]:
    """CSV with a header `a,b,same`; a and b relative to the images folder, same is 1/0 or true/false."""
    pairs = []
    try:
        with open(path, newline="") as handle:
            reader = csv.DictReader(handle)
            missing = {"a", "b", "same"} - set(reader.fieldnames or [])
            if missing:
                raise FaceError(f"pairs file {path}: header lacks column(s) {', '.join(sorted(missing))}")
            for line, row in enumerate(reader, start=2):
                same = (row["same"] or "").strip().lower()
                if same not in {"1", "0", "true", "false", "yes", "no"}:
                    raise FaceError(f"pairs file {path} line {line}: same must be 1 or 0, got {row['same']!r}")
                if not (row["a"] or "").strip() or not (row["b"] or "").strip():
                    raise FaceError(f"pairs file {path} line {line}: empty image name")
                pairs.append(Pair(row["a"].strip(), row["b"].strip(), same in {"1", "true", "yes"}))
    except OSError as exc:
        raise FaceError(f"cannot read pairs file {path}: {exc.strerror or exc}") from exc
    return pairs


def all_pairs(images_dir: str | Path) -> list[Pair]:
    """Every pair of images in a folder of one sub-folder per person (groups/ left out)."""
    root = Path(images_dir)
    images = sorted(
        path.relative_to(root).as_posix()
        for path in root.glob("*/*")
        if path.suffix.lower() in IMAGE_SUFFIXES and path.parent.name not in UNLABELLED_FOLDERS
    )
    if not images:
        raise FaceError(f"no images in person folders under {root}")
    return [Pair(a, b, a.split("/")[0] == b.split("/")[0]) for a, b in itertools.combinations(images, 2)]


def error_rates(genuine, impostor, threshold: float) -> tuple[float, float]:
    """(FAR, FRR) at the threshold; a rate over an empty set is NaN."""
    genuine, impostor = np.asarray(genuine, float), np.asarray(impostor, float)
    far = float(np.mean(impostor <= threshold)) if impostor.size else float("nan")
    frr = float(np.mean(genuine > threshold)) if genuine.size else float("nan")
    return far, frr


def det_curve(genuine, impostor) -> list[tuple[float, float, float]]:
    """(threshold, FAR, FRR) at every distinct distance, thresholds ascending."""
    thresholds = np.unique(np.concatenate([np.asarray(genuine, float), np.asarray(impostor, float)]))
    return [(float(t), *error_rates(genuine, impostor, t)) for t in thresholds]


def equal_error_rate(genuine, impostor) -> tuple[float, float]:
    """(EER, threshold) where FAR and FRR cross; 0 with a mid-gap threshold when the sets separate."""
    genuine, impostor = np.asarray(genuine, float), np.asarray(impostor, float)
    if not genuine.size or not impostor.size:
        raise FaceError("EER needs genuine and impostor pairs")
    if genuine.max() < impostor.min():
        return 0.0, float((genuine.max() + impostor.min()) / 2)
    best = min(det_curve(genuine, impostor), key=lambda row: abs(row[1] - row[2]))
    return (best[1] + best[2]) / 2, best[0]


def frr_at_far(genuine, impostor, far_target: float) -> dict:
    """FRR at the largest threshold whose FAR stays within far_target.

    With N impostor pairs the smallest measurable non-zero FAR is 1/N; when
    far_target is below that, the answer is the FRR at FAR = 0 and says so.
    """
    genuine, impostor = np.asarray(genuine, float), np.asarray(impostor, float)
    if not genuine.size or not impostor.size:
        raise FaceError("FRR at a FAR needs genuine and impostor pairs")
    ordered = np.sort(impostor)
    allowed = int(np.floor(far_target * ordered.size))  # impostors that may be accepted
    threshold = float(np.nextafter(ordered[allowed], -np.inf)) if allowed < ordered.size else float(ordered[-1])
    far, frr = error_rates(genuine, impostor, threshold)
    return {
        "far_target": far_target,
        "threshold": threshold,
        "far": far,
        "frr": frr,
        "resolved": far_target >= 1.0 / ordered.size,
        "impostor_pairs": int(ordered.size),
    }


def recommend_threshold(genuine, impostor) -> dict:
    """The operating threshold and why: inside the gap when the sets separate, else at the EER."""
    genuine, impostor = np.asarray(genuine, float), np.asarray(impostor, float)
    if not genuine.size or not impostor.size:
        raise FaceError("calibration needs genuine and impostor pairs")
    top, bottom = float(genuine.max()), float(impostor.min())
    if top < bottom:
        threshold = top + GAP_POSITION * (bottom - top)
        reason = (
            f"genuine distances reach {top:.3f} and impostor distances start at {bottom:.3f}; "
            f"the threshold sits {GAP_POSITION:.0%} of the way into that gap, nearer the genuine side, "
            "because a false accept at a border costs more than a false reject"
        )
    else:
        _, threshold = equal_error_rate(genuine, impostor)
        reason = f"genuine and impostor distances overlap ({bottom:.3f} < {top:.3f}); threshold at the EER"
    return {"threshold": round(threshold, 3), "genuine_max": top, "impostor_min": bottom, "reason": reason}
