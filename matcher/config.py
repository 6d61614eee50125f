"""A gallery's configuration, fixed at creation and kept in its config.json."""
from __future__ import annotations

import json
import math
import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path

import faiss

from drivers.face_score import DEFAULT_MIN_SCORE
from matcher.errors import InvalidArgument

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")  # also its directory name
DEFAULT_EXACT_UNTIL = 20_000
MAX_DIMENSION = 4096
# How the gallery keeps each template in memory for exact re-ranking, Get and Verify.
# float16 halves that memory (256 B instead of 512 B at 128-d) at a distance error of
# ~1e-5 on face templates (docs/MATCHER.md); the log always keeps the float32 template.
VECTOR_STORAGE = ("float32", "float16")
DEFAULT_RERANK_SHORTLIST = 64  # candidates an approximate index proposes for exact re-ranking
MAX_RERANK_SHORTLIST = 4096


@dataclass(frozen=True)
class GalleryConfig:
    name: str
    model: str
    model_version: str
    dimension: int
    threshold: float = DEFAULT_MIN_SCORE
    index_factory: str = ""  # empty: exact search at every size
    exact_until: int = DEFAULT_EXACT_UNTIL
    search_breadth: int = 0  # nprobe (IVF) or efSearch (HNSW); 0: matcher.index's default
    vector_storage: str = "float32"  # one of VECTOR_STORAGE
    # Candidates an approximate index proposes, re-ranked on the stored vectors: coarser codes
    # (PQ16 rather than PQ32) order them more roughly, so the true neighbour needs a longer list.
    rerank_shortlist: int = DEFAULT_RERANK_SHORTLIST

    @classmethod
    def checked(cls, name: str, model: str, model_version: str, dimension: int, threshold: float = 0.0,
                index_factory: str = "", exact_until: int = 0, search_breadth: int = 0,
                vector_storage: str = "", rerank_shortlist: int = 0) -> "GalleryConfig":
        """A config from a request, defaults filled in; InvalidArgument names the bad field."""
        if not NAME.fullmatch(name or ""):
            raise InvalidArgument(
                f"gallery: {name!r} is not 1-64 letters, digits, '_', '.', '-' (first a letter or digit)"
            )
        if not model:
            raise InvalidArgument("model: empty")
        if not 1 <= dimension <= MAX_DIMENSION:
            raise InvalidArgument(f"dimension: {dimension} is not in 1..{MAX_DIMENSION}")
        if threshold == 0:
            threshold = DEFAULT_MIN_SCORE
        if not (math.isfinite(threshold) and 0 < threshold <= 1):
            raise InvalidArgument(f"threshold: {threshold} is not a score in (0, 1]")
        index_factory = index_factory.strip()
        if index_factory:
            check_factory(index_factory, dimension)
        if search_breadth < 0:
            raise InvalidArgument(f"search_breadth: {search_breadth} is negative")
        vector_storage = vector_storage or VECTOR_STORAGE[0]
        if vector_storage not in VECTOR_STORAGE:
            raise InvalidArgument(f"vector_storage: {vector_storage!r} is not one of {', '.join(VECTOR_STORAGE)}")
        if not 0 <= rerank_shortlist <= MAX_RERANK_SHORTLIST:
            raise InvalidArgument(f"rerank_shortlist: {rerank_shortlist} is not in 0..{MAX_RERANK_SHORTLIST}")
        return cls(name, model, model_version, dimension, threshold, index_factory,
                   exact_until or DEFAULT_EXACT_UNTIL, search_breadth, vector_storage,
                   rerank_shortlist or DEFAULT_RERANK_SHORTLIST)

    def save(self, path: Path) -> None:
        """Written whole or not at all: to a temporary file, fsync'd, then renamed."""
        partial = path.with_suffix(".tmp")
        with open(partial, "w") as file:
            file.write(json.dumps(asdict(self), indent=2))
            file.flush()
            os.fsync(file.fileno())
        partial.rename(path)

    @classmethod
    def load(cls, path: Path) -> "GalleryConfig":
        return cls(**json.loads(path.read_text()))


def check_factory(factory: str, dimension: int) -> None:
    if "IDMap" in factory:
        raise InvalidArgument(f"index_factory: {factory!r}: the matcher adds its own id map")
    try:
        faiss.index_factory(dimension, factory)
    except RuntimeError as exc:
        reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else "rejected by FAISS"
        raise InvalidArgument(
            f"index_factory: {factory!r} is not a FAISS factory string for dimension {dimension}: {reason}"
        ) from None
