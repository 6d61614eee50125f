"""Fingerprints as a matcher modality: 1:N search and 1:1 verification over enrolled fingers.

A finger gallery NAME is two ordinary galleries (matcher.gallery), so enrolments go through the same
fsync'd log, snapshots, sealing and FAISS indexes as faces:

* NAME holds each finger's Minutia Cylinder-Code cylinders (drivers.fingerprint.encoding), one row a
  cylinder with id "SUBJECT#PP#NNN": the FAISS shortlist;
* NAME.minutiae holds each finger's minutiae packed into a fixed-size row (PACKED_MINUTIAE x 4 values:
  x, y, angle, quality; unused slots -1): what re-ranking compares. Its own index is never searched.

A finger's id is "SUBJECT#PP", PP the ISO/IEC 19794-2 finger position. An enrolment writes the minutiae
row first, then the cylinder rows: a crash between them leaves minutiae no search can reach, never a
cylinder without minutiae. A removal takes the cylinders first, then the minutiae.

Search: every cylinder of every query finger looks up its VOTE_NEIGHBOURS nearest enrolled cylinders, and
each finger among them (any position: a finger given at the wrong position is still found) gets the
cylinders' similarity as a vote, once a query cylinder; subjects are ranked by their fingers' summed votes
and the best `shortlist` subjects re-ranked: each query finger compared 1:1 (drivers.fingerprint.compare)
with the subject's finger at the same position. Fusion is score-level, the sum rule: a subject's score is
the sum of its fingers' 1:1 scores (a finger it has not enrolled counts 0), decided against the threshold
calibrated for that many fingers (FUSED_THRESHOLDS).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from drivers.fingerprint import compare, encoding, iso19794_2
from drivers.fingerprint.errors import FingerprintError
from drivers.fingerprint.template import BIFURCATION, ENDING, Minutia, Template
from matcher.config import GalleryConfig
from matcher.errors import InvalidArgument, NotFound
from matcher.gallery import Gallery
from matcher.registry import Registry

MODEL = "limes-finger"                      # the shortlist gallery's model name
MINUTIAE_MODEL = "limes-finger-minutiae"    # the minutiae gallery's
MINUTIAE_SUFFIX = ".minutiae"
PACKED_MINUTIAE = 128                       # more are cut to the 128 of best quality
MAX_FINGERS = 10
MAX_RECORD_BYTES = 64 << 10                 # an ISO/IEC 19794-2 record of 255 minutiae is under 2 kB
MAX_SHORTLIST = 1000
DEFAULT_SHORTLIST = 32                      # finger comparisons a search re-ranks when the caller names no number
MIN_SHORTLIST = 8                           # subjects, however many fingers
VOTE_NEIGHBOURS = 24                        # enrolled cylinders each query cylinder asks for
# The cylinder index a finger gallery gets when its creator names none: exact search grows with the gallery
# (1.3 s of CPU a single-finger search at 25,000 fingers), so once there are enough rows to train it (39 a list,
# about 9,400 fingers) cylinders are projected on 64 principal axes and searched in 64 of 16,384 inverted lists,
# their neighbours then re-ranked on the stored full rows. Measured at 100,000 fingers: docs/BENCHMARKS.md.
DEFAULT_INDEX_FACTORY = "PCA64,IVF16384,SQ8"
DEFAULT_SEARCH_BREADTH = 64
MAX_CYLINDERS = PACKED_MINUTIAE             # one a minutia at most: ids NNN run 000-127
# The sum-rule threshold for n query fingers: the 1 - 1e-4 quantile of sums of n non-mated 1:1 scores
# (each drawn from the 9,900 non-mated scores of the calibration set, seeds 1000-1099, difficulty 1.0,
# assumed independent; a million sums drawn for each n, seed 0). See docs/FINGERPRINTS.md.
FUSED_THRESHOLDS = {1: compare.THRESHOLD, 2: 36.6, 3: 48.6, 4: 58.9, 5: 69.7, 6: 79.5, 7: 89.9, 8: 99.6, 9: 109.0,
                    10: 118.8}


@dataclass(frozen=True)
class FingerScore:
    position: int
    score: float


@dataclass(frozen=True)
class FingerCandidate:
    subject_id: str
    score: float
    fingers: tuple[FingerScore, ...]


# FingerSearch's default threshold sits above the 1:1 one: a search's best score is the highest of its
# shortlist's comparisons with the subjects most like the query, so many more non-mated searches than 1e-4 reach
# the 1:1 threshold. SEARCH_MARGINS[n]: how far above FUSED_THRESHOLDS[n] the threshold had to be for no more than
# 1 % of non-mated n-finger searches to return someone, over 100,000 enrolled fingers (25,000 subjects of four,
# the default index and shortlist; 1,000, 500 and 250 non-mated searches; 2026-12-07, docs/BENCHMARKS.md): one
# finger at 26 let 1.2 % through, 26.8 lets 0.9 %; two and four fingers stayed under 1 % at the 1:1 thresholds.
# A count not measured takes the margin of the largest measured count below it.
SEARCH_MARGINS = {1: 0.8, 2: 0.0, 4: 0.0}


def fused_threshold(fingers: int) -> float:
    return FUSED_THRESHOLDS.get(fingers, FUSED_THRESHOLDS[max(FUSED_THRESHOLDS)])


def search_threshold(fingers: int) -> float:
    """FingerSearch's default decision threshold for a search of this many fingers (see SEARCH_MARGINS)."""
    measured = max(n for n in SEARCH_MARGINS if n <= max(fingers, 1))
    return round(fused_threshold(fingers) + SEARCH_MARGINS[measured], 1)


def default_shortlist(fingers: int) -> int:
    """Subjects re-ranked when the caller names no number: DEFAULT_SHORTLIST comparisons' worth, at least
    MIN_SHORTLIST subjects. The summed votes of several fingers rank a mate far higher than one finger's do
    (at 12,000 fingers, every four-finger mate came first of the voted; docs/BENCHMARKS.md), so a search of
    more fingers re-ranks fewer subjects, each costing a comparison a finger."""
    return max(MIN_SHORTLIST, DEFAULT_SHORTLIST // max(fingers, 1))


def row_id(subject_id: str, position: int) -> str:
    return f"{subject_id}#{position:02d}"


def cylinder_id(finger: str, index: int) -> str:
    return f"{finger}#{index:03d}"


def check_subject(subject_id: str) -> None:
    if not subject_id:
        raise InvalidArgument("subject_id: empty")
    if "#" in subject_id:
        raise InvalidArgument("subject_id: '#' is reserved in finger galleries (it separates the finger position)")


def parse_fingers(fingers, field: str = "fingers") -> list[tuple[int, Template]]:
    """(position, template) of each FingerTemplate message; InvalidArgument names the bad one."""
    if not fingers:
        raise InvalidArgument(f"{field}: empty")
    if len(fingers) > MAX_FINGERS:
        raise InvalidArgument(f"{field}: {len(fingers)} fingers, at most {MAX_FINGERS}")
    parsed, seen = [], set()
    for i, finger in enumerate(fingers):
        if len(finger.iso19794_2) > MAX_RECORD_BYTES:
            raise InvalidArgument(f"{field}[{i}].iso19794_2: {len(finger.iso19794_2)} bytes, at most "
                                  f"{MAX_RECORD_BYTES}")
        try:
            records = iso19794_2.decode(finger.iso19794_2)
        except FingerprintError as exc:
            raise InvalidArgument(f"{field}[{i}].iso19794_2: {exc}") from None
        if len(records) != 1:
            raise InvalidArgument(f"{field}[{i}].iso19794_2: {len(records)} finger views, expected one")
        template = records[0]
        position = finger.position or template.position
        if not 1 <= position <= 10:
            raise InvalidArgument(f"{field}[{i}].position: {position} is not a finger position 1-10")
        if position in seen:
            raise InvalidArgument(f"{field}[{i}].position: finger {position} given twice")
        if len(template.minutiae) < compare.MIN_MINUTIAE:
            raise InvalidArgument(f"{field}[{i}]: {len(template.minutiae)} minutiae, at least "
                                  f"{compare.MIN_MINUTIAE} are needed")
        seen.add(position)
        parsed.append((position, template))
    return parsed


def pack(template: Template) -> np.ndarray:
    """The minutiae as one fixed-size float32 row (kind kept in the sign of the quality slot)."""
    row = np.full((PACKED_MINUTIAE, 4), -1.0, np.float32)
    best = sorted(template.minutiae, key=lambda m: -m.quality)[:PACKED_MINUTIAE]
    for i, m in enumerate(best):
        row[i] = (m.x, m.y, m.angle, m.quality + (1000 if m.kind == BIFURCATION else 0))
    return row.ravel()


def unpack(row: np.ndarray, position: int) -> Template:
    cells = row.reshape(PACKED_MINUTIAE, 4)
    minutiae = tuple(Minutia(int(x), int(y), float(angle) % (2 * math.pi),
                             BIFURCATION if quality >= 1000 else ENDING, int(quality) % 1000)
                     for x, y, angle, quality in cells if x >= 0)
    return Template(0, 0, minutiae, position)


@dataclass(frozen=True)
class Enrolment:
    """A subject's fingers as the galleries will hold them. Preparing is most of an enrolment's CPU (the
    cylinders) and touches no gallery, so a bulk load prepares many in parallel and stores them in turn."""
    minutiae: list[tuple[str, np.ndarray]]                 # (finger id, packed minutiae row)
    cylinders: list[tuple[str, np.ndarray]]                # (finger id, its cylinder vectors)


def prepare(subject_id: str, fingers: list[tuple[int, Template]]) -> Enrolment:
    check_subject(subject_id)
    packed = [(row_id(subject_id, p), pack(t)) for p, t in fingers]
    # encoded from the packed minutiae, as a re-encoding from the minutiae gallery would see them
    return Enrolment(packed, [(finger, encoding.encode(unpack(row, 0))) for finger, row in packed])


class FingerGalleries:
    """The finger galleries of one registry (a gallery pair each, see the module's docstring)."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry

    def create(self, name: str, index_factory: str = "", exact_until: int = 0,
               search_breadth: int = 0) -> tuple[Gallery, Gallery]:
        """A finger gallery pair; its cylinder index DEFAULT_INDEX_FACTORY (searched DEFAULT_SEARCH_BREADTH
        lists wide) unless `index_factory` names another ("Flat": exact at every size)."""
        if not index_factory.strip():
            index_factory, search_breadth = DEFAULT_INDEX_FACTORY, search_breadth or DEFAULT_SEARCH_BREADTH
        shortlist = GalleryConfig.checked(name, MODEL, encoding.VERSION, encoding.DIMENSION,
                                          index_factory=index_factory, exact_until=exact_until,
                                          search_breadth=search_breadth, vector_storage="float16")
        minutiae = GalleryConfig.checked(name + MINUTIAE_SUFFIX, MINUTIAE_MODEL, "packed-1", PACKED_MINUTIAE * 4)
        return self.registry.create(minutiae)[0], self.registry.create(shortlist)[0]

    def pair(self, name: str) -> tuple[Gallery, Gallery]:
        """(shortlist, minutiae) galleries of finger gallery `name`."""
        shortlist = self.registry.get(name)
        if shortlist.config.model != MODEL:
            raise InvalidArgument(f"gallery: {name!r} is not a finger gallery (model {shortlist.config.model!r})")
        if shortlist.config.model_version != encoding.VERSION:
            raise InvalidArgument(f"gallery: {name!r} holds encoding {shortlist.config.model_version!r}, this "
                                  f"matcher computes {encoding.VERSION!r}")
        return shortlist, self.registry.get(name + MINUTIAE_SUFFIX)

    def enrol(self, name: str, subject_id: str, fingers: list[tuple[int, Template]]) -> int:
        check_subject(subject_id)
        self.pair(name)                 # refused before the CPU of preparing is spent
        return self.store(name, prepare(subject_id, fingers))

    def store(self, name: str, enrolment: Enrolment) -> int:
        """Writes a prepared enrolment: the minutiae rows first, then the cylinder rows."""
        shortlist, minutiae = self.pair(name)
        minutiae.enrol(enrolment.minutiae)
        for finger, vectors in enrolment.cylinders:
            self._remove_cylinders(shortlist, finger, start=len(vectors))   # a re-enrolment's surplus
        shortlist.enrol([(cylinder_id(finger, i), vector) for finger, vectors in enrolment.cylinders
                         for i, vector in enumerate(vectors)])
        return len(enrolment.minutiae)

    def remove(self, name: str, subject_id: str) -> int:
        """Removes every enrolled finger of the subject; NotFound when it has none."""
        check_subject(subject_id)
        shortlist, minutiae = self.pair(name)
        removed = 0
        for position in range(1, 11):
            finger = row_id(subject_id, position)
            try:
                minutiae.get(finger)
            except NotFound:
                continue
            self._remove_cylinders(shortlist, finger)
            minutiae.remove(finger)
            removed += 1
        if not removed:
            raise NotFound(f"subject_id: {subject_id!r} has no finger in gallery {name!r}")
        return removed

    @staticmethod
    def _remove_cylinders(shortlist: Gallery, finger: str, start: int = 0) -> None:
        """Removes the finger's cylinder rows from `start` on (they are numbered without gaps)."""
        for index in range(start, MAX_CYLINDERS):
            try:
                shortlist.remove(cylinder_id(finger, index))
            except NotFound:
                return

    def enrolled(self, minutiae: Gallery, subject_id: str, position: int) -> Template | None:
        try:
            return unpack(minutiae.get(row_id(subject_id, position)), position)
        except NotFound:
            return None

    def verify(self, name: str, subject_id: str, fingers: list[tuple[int, Template]]) -> FingerCandidate:
        check_subject(subject_id)
        _, minutiae = self.pair(name)
        candidate = self._rerank(minutiae, subject_id, _prepared(fingers))
        if not any(self.enrolled(minutiae, subject_id, p) for p, _ in fingers):
            raise NotFound(f"subject_id: {subject_id!r} has none of these fingers in gallery {name!r}")
        return candidate

    def search(self, name: str, fingers: list[tuple[int, Template]], top_k: int,
               shortlist_size: int) -> tuple[list[FingerCandidate], int]:
        """The best top_k subjects by fused score (above no threshold: the caller decides), and how many
        subjects were re-ranked."""
        shortlist, _ = self.pair(name)
        return self.rerank(name, self.candidates(shortlist, fingers)[:shortlist_size], fingers, top_k)

    def rerank(self, name: str, subjects: list[str], fingers: list[tuple[int, Template]],
               top_k: int) -> tuple[list[FingerCandidate], int]:
        """The search's second step: the subjects compared 1:1 and fused, the best top_k first."""
        _, minutiae = self.pair(name)
        query = _prepared(fingers)      # compared with every subject: its alignment-free parts made once
        ranked = sorted((self._rerank(minutiae, s, query) for s in subjects), key=lambda c: -c.score)
        return ranked[:top_k], len(subjects)

    @staticmethod
    def candidates(shortlist: Gallery, fingers: list[tuple[int, Template]]) -> list[str]:
        """Every subject a query cylinder's neighbours proposed, best voted first."""
        encoded = [encoding.encode(t) for _, t in fingers]
        queries = np.concatenate(encoded) if encoded else np.zeros((0, encoding.DIMENSION), np.float32)
        votes: dict[str, float] = {}
        for hits in shortlist.search(queries, VOTE_NEIGHBOURS) if len(queries) else []:
            voted = set()
            for hit in hits:
                subject = hit.subject_id.split("#", 1)[0]
                finger = hit.subject_id.rsplit("#", 1)[0]
                if finger not in voted:       # one vote a query cylinder and enrolled finger: its nearest
                    voted.add(finger)
                    # unit vectors: 1 - d^2/2 is the cosine similarity
                    votes[subject] = votes.get(subject, 0.0) + 1.0 - hit.distance ** 2 / 2
        return sorted(votes, key=lambda s: -votes[s])

    def _rerank(self, minutiae: Gallery, subject_id: str,
                fingers: list[tuple[int, compare.Prepared]]) -> FingerCandidate:
        scores = []
        for position, query in fingers:
            enrolled = self.enrolled(minutiae, subject_id, position)
            score = 0.0
            if enrolled is not None and len(enrolled.minutiae) >= compare.MIN_MINUTIAE:
                score = compare.compare_prepared(query, compare.prepare(enrolled)).score
            scores.append(FingerScore(position, score))
        return FingerCandidate(subject_id, sum(s.score for s in scores), tuple(scores))


def _prepared(fingers: list[tuple[int, Template]]) -> list[tuple[int, compare.Prepared]]:
    """Query fingers (parse_fingers made sure each has enough minutiae) ready for many comparisons."""
    return [(position, compare.prepare(template)) for position, template in fingers]
