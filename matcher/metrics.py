"""Prometheus metrics of the matcher, served over HTTP when a metrics port is given."""
from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

SEARCHES = Counter("limes_matcher_searches_total", "1:N searches (a batch counts each query)", ["gallery"])
SEARCH_SECONDS = Histogram("limes_matcher_search_seconds", "Time to answer one Search or SearchBatch call",
                           ["gallery"],
                           buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0))
ENROLMENTS = Counter("limes_matcher_enrolments_total", "Templates enrolled (including replacements)", ["gallery"])
GALLERY_SIZE = Gauge("limes_matcher_gallery_size", "Live subjects in a gallery", ["gallery"])
