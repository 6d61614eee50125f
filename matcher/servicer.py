"""The limes.v1.Matcher gRPC service over a Registry of galleries."""
from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable

import grpc
import numpy as np

from drivers.face_score import score
from matcher import metrics
from matcher.config import GalleryConfig
from matcher.errors import AlreadyExists, InvalidArgument, MatcherError, NotFound, NotLoaded
from matcher.fingerprints import (
    MAX_SHORTLIST,
    FingerCandidate,
    FingerGalleries,
    default_shortlist,
    fused_threshold,
    parse_fingers,
    search_threshold,
)
from matcher.gallery import Gallery, Hit
from matcher.registry import Registry
from proto.limes.v1 import common_pb2, matcher_pb2, matcher_pb2_grpc

MAX_ENROL_BATCH = 10_000
MAX_SEARCH_BATCH = 1_000
MAX_TOP_K = 100

STATUS = {InvalidArgument: grpc.StatusCode.INVALID_ARGUMENT, NotFound: grpc.StatusCode.NOT_FOUND,
          AlreadyExists: grpc.StatusCode.ALREADY_EXISTS, NotLoaded: grpc.StatusCode.UNAVAILABLE}


def refusals_as_status(method):
    """A MatcherError becomes its gRPC status with the error's message."""
    @functools.wraps(method)
    def wrapper(self, request, context):
        try:
            return method(self, request, context)
        except MatcherError as exc:
            context.abort(STATUS[type(exc)], str(exc))
        except OSError as exc:  # the log could not be written: nothing was acknowledged or applied
            context.abort(grpc.StatusCode.INTERNAL, f"storage: {exc}")
    return wrapper


def stats_message(gallery: Gallery) -> matcher_pb2.GalleryStatsResponse:
    c = gallery.config
    stats = gallery.stats()
    return matcher_pb2.GalleryStatsResponse(
        gallery=c.name, size=stats.size, model=c.model, model_version=c.model_version, dimension=c.dimension,
        threshold=c.threshold, index_factory=c.index_factory, index_kind=stats.index_kind,
        exact_until=c.exact_until, tombstones=stats.tombstones, search_breadth=c.search_breadth,
        vector_storage=c.vector_storage, rerank_shortlist=c.rerank_shortlist)


def checked_threshold(requested: float, gallery: Gallery) -> float:
    if requested == 0:
        return gallery.config.threshold
    if not (math.isfinite(requested) and 0 < requested <= 1):
        raise InvalidArgument(f"threshold: {requested} is not a score in (0, 1]")
    return requested


def checked_top_k(requested: int) -> int:
    if requested > MAX_TOP_K:
        raise InvalidArgument(f"top_k: {requested} is more than {MAX_TOP_K}")
    return requested or 1


def checked_finger_threshold(requested: float, fingers: int, default: Callable[[int], float]) -> float:
    """The request's threshold, or `default` for this many fingers (1:1 and 1:N differ) when it gives none."""
    if requested == 0:
        return default(fingers)
    if not (math.isfinite(requested) and 0 < requested <= 100 * fingers):
        raise InvalidArgument(f"threshold: {requested} is not a fused score in (0, {100 * fingers}]")
    return requested


def finger_scores(candidate: FingerCandidate) -> list[matcher_pb2.FingerScore]:
    return [matcher_pb2.FingerScore(position=f.position, score=f.score) for f in candidate.fingers]


def candidates(hits: list[Hit], top_k: int, threshold: float) -> list[matcher_pb2.Candidate]:
    chosen = []
    for hit in hits[:top_k]:
        s = score(hit.distance)
        if s < threshold:
            break  # hits are nearest first, so no later one scores higher
        chosen.append(matcher_pb2.Candidate(subject_id=hit.subject_id, score=s, distance=hit.distance))
    return chosen


class MatcherServicer(matcher_pb2_grpc.MatcherServicer):
    def __init__(self, registry: Registry):
        self.registry = registry
        self.fingers = FingerGalleries(registry)
        for gallery in registry.all():
            metrics.GALLERY_SIZE.labels(gallery.config.name).set(gallery.size)

    @refusals_as_status
    def CreateGallery(self, request, context):
        config = GalleryConfig.checked(request.gallery, request.model, request.model_version, request.dimension,
                                       request.threshold, request.index_factory, request.exact_until,
                                       request.search_breadth, request.vector_storage, request.rerank_shortlist)
        gallery, _ = self.registry.create(config)
        metrics.GALLERY_SIZE.labels(config.name).set(gallery.size)
        return stats_message(gallery)

    @refusals_as_status
    def ListGalleries(self, request, context):
        return matcher_pb2.ListGalleriesResponse(galleries=[stats_message(g) for g in self.registry.all()])

    @refusals_as_status
    def GalleryStats(self, request, context):
        return stats_message(self.registry.get(request.gallery))

    @refusals_as_status
    def Enrol(self, request, context):
        gallery = self.registry.get(request.gallery)
        vector = self._template(gallery, request.template, "template")
        (replaced,) = gallery.enrol([(request.subject_id, vector)])
        self._enrolled(gallery, 1)
        return matcher_pb2.EnrolResponse(subject_id=request.subject_id, replaced=replaced)

    @refusals_as_status
    def EnrolBatch(self, request, context):
        gallery = self.registry.get(request.gallery)
        if not request.items:
            raise InvalidArgument("items: empty")
        if len(request.items) > MAX_ENROL_BATCH:
            raise InvalidArgument(f"items: {len(request.items)} is more than {MAX_ENROL_BATCH} per batch")
        items, seen = [], set()
        for i, item in enumerate(request.items):
            if item.gallery not in ("", request.gallery):
                raise InvalidArgument(f"items[{i}].gallery: {item.gallery!r} in a batch for {request.gallery!r}")
            if item.subject_id in seen:
                raise InvalidArgument(f"items[{i}].subject_id: {item.subject_id!r} twice in one batch")
            seen.add(item.subject_id)
            items.append((item.subject_id, self._template(gallery, item.template, f"items[{i}].template")))
        replaced = gallery.enrol(items)
        self._enrolled(gallery, len(items))
        return matcher_pb2.EnrolBatchResponse(results=[
            matcher_pb2.EnrolResponse(subject_id=s, replaced=r) for (s, _), r in zip(items, replaced)])

    @refusals_as_status
    def Remove(self, request, context):
        gallery = self.registry.get(request.gallery)
        gallery.remove(request.subject_id)
        metrics.GALLERY_SIZE.labels(gallery.config.name).set(gallery.size)
        return matcher_pb2.RemoveResponse()

    @refusals_as_status
    def Get(self, request, context):
        gallery = self.registry.get(request.gallery)
        vector = gallery.get(request.subject_id)
        c = gallery.config
        return matcher_pb2.GetResponse(subject_id=request.subject_id, template=common_pb2.FaceTemplate(
            vector=vector.tolist(), model=c.model, model_version=c.model_version))

    @refusals_as_status
    def Verify(self, request, context):
        gallery = self.registry.get(request.gallery)
        vector = self._template(gallery, request.template, "template")
        threshold = checked_threshold(request.threshold, gallery)
        distance = gallery.distance_to(request.subject_id, vector)
        s = score(distance)
        return matcher_pb2.VerifyResponse(score=s, distance=distance, match=s >= threshold)

    @refusals_as_status
    def Search(self, request, context):
        started = time.perf_counter()
        gallery = self.registry.get(request.gallery)
        vector = self._template(gallery, request.template, "template")
        threshold = checked_threshold(request.threshold, gallery)
        top_k = checked_top_k(request.top_k)
        (hits,) = gallery.search(vector[None, :], top_k)
        elapsed = time.perf_counter() - started
        metrics.SEARCHES.labels(gallery.config.name).inc()
        metrics.SEARCH_SECONDS.labels(gallery.config.name).observe(elapsed)
        return matcher_pb2.SearchResponse(candidates=candidates(hits, top_k, threshold), search_ms=elapsed * 1000)

    @refusals_as_status
    def SearchBatch(self, request, context):
        started = time.perf_counter()
        if not request.queries:
            raise InvalidArgument("queries: empty")
        if len(request.queries) > MAX_SEARCH_BATCH:
            raise InvalidArgument(f"queries: {len(request.queries)} is more than {MAX_SEARCH_BATCH} per batch")
        name = request.queries[0].gallery
        gallery = self.registry.get(name)
        vectors, limits = [], []
        for i, query in enumerate(request.queries):
            if query.gallery != name:
                raise InvalidArgument(f"queries[{i}].gallery: {query.gallery!r}, but the batch is for {name!r}")
            vectors.append(self._template(gallery, query.template, f"queries[{i}].template"))
            limits.append((checked_top_k(query.top_k), checked_threshold(query.threshold, gallery)))
        results = gallery.search(np.stack(vectors), max(k for k, _ in limits))
        elapsed = time.perf_counter() - started
        metrics.SEARCHES.labels(name).inc(len(vectors))
        metrics.SEARCH_SECONDS.labels(name).observe(elapsed)
        return matcher_pb2.SearchBatchResponse(results=[
            matcher_pb2.SearchResponse(candidates=candidates(hits, k, t), search_ms=elapsed * 1000)
            for hits, (k, t) in zip(results, limits)])

    # ---- fingerprints (matcher.fingerprints)

    @refusals_as_status
    def CreateFingerGallery(self, request, context):
        _, shortlist = self.fingers.create(request.gallery, request.index_factory, request.exact_until,
                                           request.search_breadth)
        return stats_message(shortlist)

    @refusals_as_status
    def FingerEnrol(self, request, context):
        count = self.fingers.enrol(request.gallery, request.subject_id, parse_fingers(request.fingers))
        self._enrolled(self.fingers.pair(request.gallery)[0], count)
        return matcher_pb2.FingerEnrolResponse(subject_id=request.subject_id, fingers=count)

    @refusals_as_status
    def FingerRemove(self, request, context):
        count = self.fingers.remove(request.gallery, request.subject_id)
        shortlist = self.fingers.pair(request.gallery)[0]
        metrics.GALLERY_SIZE.labels(shortlist.config.name).set(shortlist.size)
        return matcher_pb2.FingerRemoveResponse(fingers=count)

    @refusals_as_status
    def FingerVerify(self, request, context):
        fingers = parse_fingers(request.fingers)
        threshold = checked_finger_threshold(request.threshold, len(fingers), fused_threshold)
        candidate = self.fingers.verify(request.gallery, request.subject_id, fingers)
        return matcher_pb2.FingerVerifyResponse(score=candidate.score, match=candidate.score >= threshold,
                                                threshold=threshold, fingers=finger_scores(candidate))

    @refusals_as_status
    def FingerSearch(self, request, context):
        started = time.perf_counter()
        fingers = parse_fingers(request.fingers)
        threshold = checked_finger_threshold(request.threshold, len(fingers), search_threshold)
        top_k = checked_top_k(request.top_k)
        if request.shortlist > MAX_SHORTLIST:
            raise InvalidArgument(f"shortlist: {request.shortlist} is more than {MAX_SHORTLIST}")
        ranked, reranked = self.fingers.search(request.gallery, fingers, top_k,
                                               request.shortlist or default_shortlist(len(fingers)))
        elapsed = time.perf_counter() - started
        metrics.SEARCHES.labels(request.gallery).inc()
        metrics.SEARCH_SECONDS.labels(request.gallery).observe(elapsed)
        return matcher_pb2.FingerSearchResponse(
            candidates=[matcher_pb2.FingerCandidate(subject_id=c.subject_id, score=c.score,
                                                    fingers=finger_scores(c))
                        for c in ranked if c.score >= threshold],
            threshold=threshold, reranked=reranked, search_ms=elapsed * 1000)

    @staticmethod
    def _template(gallery: Gallery, template: common_pb2.FaceTemplate, field: str) -> np.ndarray:
        try:
            return gallery.check_template(template.model, template.model_version, template.vector)
        except InvalidArgument as exc:
            raise InvalidArgument(str(exc).replace("template.", field + ".", 1)) from None

    @staticmethod
    def _enrolled(gallery: Gallery, count: int) -> None:
        metrics.ENROLMENTS.labels(gallery.config.name).inc(count)
        metrics.GALLERY_SIZE.labels(gallery.config.name).set(gallery.size)
