"""The face matcher as central sees it: a small interface that may be left unset.

Person alerts can carry the subject id of a face enrolled in the matcher's
gallery. When a FaceMatcher is configured, CheckPerson also searches the
traveller's face there and reports the alerts of the subjects found. The
gRPC client for limes.v1.Matcher implements it (matcher_client.py); tests use
an in-memory one. A search that cannot be completed raises errors.Unavailable.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class FaceQuery:
    vector: tuple[float, ...]
    model: str
    model_version: str


@dataclass(frozen=True)
class FaceCandidate:
    subject_id: str
    # 0..1, higher is more alike (the matcher's calibrated similarity).
    score: float


class FaceMatcher(Protocol):
    def search(self, face: FaceQuery) -> list[FaceCandidate]:
        """Candidates of the alert gallery for one face, best first."""
        ...


class FaceEnroller(Protocol):
    """Puts faces into (and takes them out of) the gallery that gates and CheckPerson search."""

    def enrol(self, subject_id: str, face: FaceQuery) -> None:
        """Enrol (or replace) one subject's template; errors.Unavailable when the matcher fails."""
        ...

    def remove(self, subject_id: str) -> None:
        """Take a subject out; errors.Unavailable when the matcher fails."""
        ...
