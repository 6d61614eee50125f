"""Error rates of a comparator from its mated and non-mated scores (higher score: more alike)."""
from __future__ import annotations

import numpy as np


def error_rates(mated: list[float], non_mated: list[float], threshold: float) -> tuple[float, float]:
    """(FMR, FNMR) at threshold: a score at or above it is a match."""
    fmr = float(np.mean(np.asarray(non_mated) >= threshold)) if non_mated else 0.0
    fnmr = float(np.mean(np.asarray(mated) < threshold)) if mated else 0.0
    return fmr, fnmr


def det_points(mated: list[float], non_mated: list[float], count: int = 20) -> list[dict]:
    """FMR and FNMR at thresholds spread over both distributions, more of them in the non-mated tail
    where low FMRs are decided: `count` quantiles of the mated scores, `count` of the non-mated top
    percent and `count` of the rest."""
    mated_scores, non_mated_scores = np.asarray(mated, float), np.asarray(non_mated, float)
    thresholds = set()
    if len(mated_scores):
        thresholds |= set(np.quantile(mated_scores, np.linspace(0, 1, count)).tolist())
    if len(non_mated_scores):
        thresholds |= set(np.quantile(non_mated_scores, np.linspace(0.99, 1, count)).tolist())
        thresholds |= set(np.quantile(non_mated_scores, np.linspace(0, 0.99, count)).tolist())
    points = []
    for threshold in sorted(thresholds):
        fmr, fnmr = error_rates(mated, non_mated, threshold)
        points.append({"threshold": round(threshold, 3), "fmr": fmr, "fnmr": fnmr})
    return points


def fnmr_at_fmr(mated: list[float], non_mated: list[float], target: float) -> dict:
    """The lowest threshold whose FMR is at most target, and the FNMR there. `measurable` says whether
    there were enough non-mated pairs for that FMR to be seen at all (at least 1/target of them)."""
    ranked = np.sort(np.asarray(non_mated, float))[::-1]
    allowed = int(np.floor(target * len(ranked)))         # false matches the target tolerates
    threshold = float(ranked[allowed]) + 1e-9 if allowed < len(ranked) else float("-inf")
    fmr, fnmr = error_rates(mated, non_mated, threshold)
    return {"fmr_target": target, "threshold": round(threshold, 3), "fmr": fmr, "fnmr": fnmr,
            "measurable": len(ranked) >= 1 / target}


def equal_error_rate(mated: list[float], non_mated: list[float]) -> tuple[float, float]:
    """(EER, threshold) where FMR and FNMR are closest."""
    best = (1.0, 0.0, 0.0)
    for threshold in np.unique(np.concatenate([np.asarray(mated, float), np.asarray(non_mated, float)])):
        fmr, fnmr = error_rates(mated, non_mated, float(threshold))
        if abs(fmr - fnmr) < best[0]:
            best = (abs(fmr - fnmr), (fmr + fnmr) / 2, float(threshold))
    return best[1], best[2]
