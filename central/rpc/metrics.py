"""Prometheus metrics of central, served over HTTP when a metrics port is given."""
from __future__ import annotations

from prometheus_client import Counter, Histogram

CALLS = Counter("limes_central_calls_total", "Central RPCs answered, by method and status code", ["method", "code"])
CALL_SECONDS = Histogram("limes_central_call_seconds", "Time to answer one Central RPC", ["method"],
                         buckets=(0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5))
ALERT_HITS = Counter("limes_central_alert_hits_total", "Alert hits reported to gates and officers",
                     ["kind", "match"])
COMMITS = Counter(
    "limes_central_group_commits_total", "Commits of central.database.group_commit (each holds one or more writes)"
)
COMMITTED_WRITES = Counter("limes_central_group_commit_writes_total",
                           "Writes (audit rows, units of work) that went through central.database.group_commit")
