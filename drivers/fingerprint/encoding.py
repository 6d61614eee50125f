"""Fixed-length encodings of a minutiae template for the matcher's FAISS shortlist in 1:N search: one
Minutia Cylinder-Code cylinder a minutia (drivers.fingerprint.mcc), each a fixed-length vector.

A search looks every query cylinder up among the enrolled ones and lets the nearest vote for their fingers
(Cappelli, Ferrara and Maltoni's MCC indexing votes the same way, over hash tables rather than a nearest-
neighbour index): two touches of one finger share many local neighbourhoods even when they overlap by half,
while one vector a whole finger mixes the shared part with the parts only one touch shows. Measured on the
synthetic prints before choosing (docs/BENCHMARKS.md, 2026-12-06 "choosing the encoding"), mate among the
32 best of about 300-400 fingers: 82 % for the minutia-pair histogram this module used to compute
("pairs-1"), 67 % for MCC bits hashed into 16 tables of 256 buckets (one vector a finger), 69 % for a
bag of 1024 k-means cylinder words, 99 % for cylinder voting.

A cylinder's vector is its NS x NS x ND bits (NS 8 here, a coarser disc than the paper's 16: a quarter of
the memory and time, see the measurements) as 0/1 values scaled to unit length, so that L2 distance is
the cosine distance of the bit sets; cylinders with no bit set say nothing and are left out.
"""
from __future__ import annotations

import numpy as np

from drivers.fingerprint import mcc
from drivers.fingerprint.template import Template

SPATIAL_CELLS = 8
DIMENSION = SPATIAL_CELLS * SPATIAL_CELLS * mcc.DIRECTION_CELLS
# The model_version a finger gallery's shortlist is created with: a gallery of another encoding is refused
# (matcher.fingerprints), never searched with vectors it was not made of. "pairs-1" was the minutia-pair
# histogram, one vector a finger.
VERSION = "mcc-bits-8x8x6-1"


def encode(template: Template) -> np.ndarray:
    """The template's cylinders as unit-length float32 rows, shape (cylinders, DIMENSION); none (0 rows)
    for a template too small or too sparse to have any."""
    bits, _ = mcc.cylinders(template, SPATIAL_CELLS)
    vectors = bits.astype(np.float32)
    norms = np.linalg.norm(vectors, axis=1)
    kept = norms > 0
    return np.ascontiguousarray(vectors[kept] / norms[kept, None])
