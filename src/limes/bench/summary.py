"""The one summary of a benchmark's timings: count, p50, p95, p99, mean and max of milliseconds.

Percentiles interpolate linearly between the closest ranks (numpy's default, R's type 7),
so that every benchmark reports the same figure for the same timings.
"""
from __future__ import annotations

DIGITS = 3  # microseconds: in-process matcher searches take well under a millisecond


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0..100) by linear interpolation between closest ranks."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100.0
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summary(values_ms: list[float]) -> dict[str, float]:
    """{"count", "p50", "p95", "p99", "mean", "max"} of the timings; {"count": 0} when there are none."""
    values = [float(value) for value in values_ms]
    if not values:
        return {"count": 0}
    return {"count": len(values), **{f"p{q}": round(percentile(values, q), DIGITS) for q in (50, 95, 99)},
            "mean": round(sum(values) / len(values), DIGITS), "max": round(max(values), DIGITS)}
