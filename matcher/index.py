"""FAISS indexes over a gallery's rows: exact while small, a factory-built one once large.

Every index is wrapped in an IndexIDMap whose ids are the gallery's row numbers,
so an index can be rebuilt from any subset of rows. Removed and replaced rows
stay in the index as tombstones (HNSW cannot remove at all) and are filtered
out during the search itself through a bitmap selector, so they never take a
top-k place (a search without tombstones skips the filter); the gallery rebuilds the
index when tombstones pile up.
"""
from __future__ import annotations

import math
import os
import re

import faiss
import numpy as np

EXACT = "Flat"
TRAIN_SAMPLE = 200_000  # k-means does not get better beyond a few hundred points per list
ADD_BLOCK = 65_536  # rows converted to float32 and added at a time when building
PQ_BITS = re.compile(r"PQ\d+(?:x(\d+))?")  # "PQ32" (8 bits) or "PQ32x4"

# Exact search of a batch of queries is one matrix product (BLAS) only from this many queries on. FAISS 1.15
# ships 128,000, so a finger search's ~67 query cylinders were scanned one by one: about ten times the CPU of
# the product (300 ms against 29 ms over 33,000 rows, measured 2026-12-07). The old default, 20, is where the
# product starts to pay. A filtered search (tombstones) scans either way.
faiss.cvar.distance_compute_blas_threshold = 20


def minimum_size(factory: str, dimension: int) -> int:
    """Rows needed before an index of this kind can be trained (FAISS asks 39 per IVF list)."""
    index = faiss.index_factory(dimension, factory)
    ivf = faiss.try_extract_index_ivf(index)
    needed = 39 * ivf.nlist if ivf is not None else 0
    for bits in PQ_BITS.findall(factory):  # PQ codebooks: 2^bits centroids per sub-quantizer
        needed = max(needed, 39 * 2 ** int(bits or 8))
    if not index.is_trained and not needed:
        needed = 256  # e.g. SQ ranges: a few hundred points are plenty
    return needed


def build(factory: str, dimension: int, vectors: np.ndarray, rows: np.ndarray) -> faiss.Index:
    """A trained index holding the gallery rows `rows`, read from `vectors` (all the gallery's rows,
    float32 or float16) a block at a time, so no float32 copy of them all is ever made."""
    faiss.omp_set_num_threads(os.cpu_count() or 1)  # training and adding do use every core
    index = faiss.IndexIDMap(faiss.index_factory(dimension, factory))
    if not index.is_trained:
        sample = rows
        if len(rows) > TRAIN_SAMPLE:
            sample = np.sort(np.random.default_rng(0).choice(rows, TRAIN_SAMPLE, replace=False))
        index.train(np.ascontiguousarray(vectors[sample], dtype=np.float32))
    for first in range(0, len(rows), ADD_BLOCK):
        block = rows[first:first + ADD_BLOCK]
        index.add_with_ids(np.ascontiguousarray(vectors[block], dtype=np.float32), block.astype(np.int64))
    return index


def search_parameters(index: faiss.Index, breadth: int, shortlist: int,
                      selector: faiss.IDSelector | None) -> faiss.SearchParameters:
    """How wide to search (`breadth`, 0: default) so the shortlist holds the true neighbours,
    plus the live-row filter (None: every row in the index is live)."""
    inner = faiss.downcast_index(index.index)
    ivf = faiss.try_extract_index_ivf(inner)
    if ivf is not None:
        nprobe = breadth or default_nprobe(ivf.nlist)
        return faiss.SearchParametersIVF(sel=selector, nprobe=int(min(ivf.nlist, nprobe)))
    if isinstance(inner, faiss.IndexHNSW):
        return faiss.SearchParametersHNSW(sel=selector, efSearch=max(breadth or 256, shortlist))
    return faiss.SearchParameters(sel=selector)


def default_nprobe(nlist: int) -> int:
    """IVF lists probed by default: 8 x sqrt(nlist), so 256 of 1024 lists, 512 of 4096, 724 of 8192.

    Face templates spread over all 128 dimensions, the hard case for approximate
    search. On synthetic ones the mate is in the shortlist 99.5% of the time or more
    when 1/4 of 1024 lists or 1/8 of 4096 are probed (1/8 of 1024: 98.4%, 1/12 of
    4096: 99.4%): with more lists a smaller share is enough, about as sqrt(nlist)
    lists (docs/MATCHER.md has the measurements).
    """
    return int(min(nlist, max(16, round(8 * math.sqrt(nlist)))))


def is_exact(index: faiss.Index) -> bool:
    return isinstance(faiss.downcast_index(index.index), faiss.IndexFlat)
