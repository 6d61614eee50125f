"""The router: the Matcher API over a gallery spread across several shard servers.

Each subject lives on one shard, chosen by a hash of its subject id, so enrol,
remove, get and verify go to exactly one shard. Searches go to every shard at
once with a deadline, and the router merges their top-k lists. A shard that
does not answer in time makes the result `partial` with its address in
`missing_shards`: the caller learns that absence of a hit proves nothing,
instead of getting a silent miss. Gallery creation goes to every shard and
must succeed on each.

The shard list is positional: shard i of N must keep its data when the router
restarts, so the list is given in the same order every time.
"""
from __future__ import annotations

import hashlib
import math
import time
from concurrent import futures

import grpc

from matcher.server import MESSAGE_OPTIONS
from matcher.servicer import MAX_ENROL_BATCH
from proto.limes.v1 import matcher_pb2, matcher_pb2_grpc
from proto.tls import TlsFiles, open_channel

UNREACHABLE = {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.CANCELLED}


def shard_of(subject_id: str, shards: int) -> int:
    """Stable across processes and versions (Python's hash() is salted per process)."""
    digest = hashlib.blake2b(subject_id.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % shards


class Router(matcher_pb2_grpc.MatcherServicer):
    """`tls`: the router's own CA, certificate and key, presented to the shards (or plaintext=True)."""

    def __init__(self, shard_addresses: list[str], timeout: float = 2.0, *, tls: TlsFiles | None = None,
                 plaintext: bool = False):
        if not shard_addresses:
            raise ValueError("shard_addresses: empty")
        self.addresses = list(shard_addresses)
        self.timeout = timeout  # seconds each shard gets for one call
        self._channels = [open_channel(a, tls, plaintext=plaintext, options=MESSAGE_OPTIONS) for a in self.addresses]
        self._stubs = [matcher_pb2_grpc.MatcherStub(c) for c in self._channels]
        self._pool = futures.ThreadPoolExecutor(max_workers=4 * len(self.addresses))

    def close(self) -> None:
        self._pool.shutdown(wait=False)
        for channel in self._channels:
            channel.close()

    # ---- helpers

    def _deadline(self, context) -> float:
        """The shard timeout, cut to what is left of the caller's own deadline less a margin
        to merge in, so a slow shard yields a partial answer rather than the caller's timeout."""
        remaining = context.time_remaining() if context is not None else None
        if remaining is None:
            return self.timeout
        return max(0.0, min(self.timeout, remaining * 0.9 - 0.005))

    def _one(self, subject_id: str, method: str, request, context):
        """Forward to the subject's shard; its refusal or absence becomes the caller's status."""
        if not subject_id:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "subject_id: empty")
        index = shard_of(subject_id, len(self._stubs))
        try:
            return getattr(self._stubs[index], method)(request, timeout=self._deadline(context))
        except grpc.RpcError as exc:
            details = exc.details() or ""
            if exc.code() in UNREACHABLE:
                details = f"shard {self.addresses[index]} unreachable: {details}"
            context.abort(exc.code(), details)

    def _all(self, method: str, request, context) -> tuple[list[tuple[int, object]], list[str]]:
        """Call every shard at once: (index, answer) of those that answered, and the missing addresses.

        A shard's refusal (not its absence) is the caller's: they share one configuration.
        """
        timeout = self._deadline(context)
        calls = [getattr(stub, method).future(request, timeout=timeout) for stub in self._stubs]
        answers, missing = [], []
        for index, call in enumerate(calls):
            try:
                answers.append((index, call.result()))
            except grpc.RpcError as exc:
                if exc.code() in UNREACHABLE:
                    missing.append(self.addresses[index])
                else:
                    for other in calls:
                        other.cancel()
                    context.abort(exc.code(), exc.details() or "")
        if not answers:
            context.abort(grpc.StatusCode.UNAVAILABLE, "no shard answered: " + ", ".join(missing))
        return answers, missing

    # ---- galleries

    def CreateGallery(self, request, context):
        answers, missing = self._all("CreateGallery", request, context)
        if missing:
            # Creating on some shards only would leave a gallery that searches cannot trust.
            context.abort(grpc.StatusCode.UNAVAILABLE,
                          "gallery not created on every shard (retry: creation is idempotent); missing: "
                          + ", ".join(missing))
        return merged_stats([a for _, a in answers], missing)

    def GalleryStats(self, request, context):
        answers, missing = self._all("GalleryStats", request, context)
        return merged_stats([a for _, a in answers], missing)

    def ListGalleries(self, request, context):
        answers, missing = self._all("ListGalleries", request, context)
        by_name: dict[str, list] = {}
        for _, answer in answers:
            for stats in answer.galleries:
                by_name.setdefault(stats.gallery, []).append(stats)
        return matcher_pb2.ListGalleriesResponse(
            galleries=[merged_stats(by_name[name], missing) for name in sorted(by_name)])

    # ---- one subject

    def Enrol(self, request, context):
        return self._one(request.subject_id, "Enrol", request, context)

    def Remove(self, request, context):
        return self._one(request.subject_id, "Remove", request, context)

    def Get(self, request, context):
        return self._one(request.subject_id, "Get", request, context)

    def Verify(self, request, context):
        return self._one(request.subject_id, "Verify", request, context)

    def EnrolBatch(self, request, context):
        """Checked whole against the gallery first, so bad input is refused before any shard enrols.

        Across shards the batch is not atomic: if a shard is down, the others keep their
        part and the call fails UNAVAILABLE; sending the batch again is safe (re-enrol replaces).
        """
        if not request.items:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "items: empty")
        if len(request.items) > MAX_ENROL_BATCH:  # the same limit as one server's, whatever the split
            context.abort(grpc.StatusCode.INVALID_ARGUMENT,
                          f"items: {len(request.items)} is more than {MAX_ENROL_BATCH} per batch")
        stats = self.GalleryStats(matcher_pb2.GalleryStatsRequest(gallery=request.gallery), context)
        parts: dict[int, list] = {}
        seen = set()
        for i, item in enumerate(request.items):
            problem = template_problem(item.template, stats)
            if not item.subject_id:
                problem = "subject_id: empty"
            elif item.subject_id in seen:
                problem = f"subject_id: {item.subject_id!r} twice in one batch"
            seen.add(item.subject_id)
            if problem:
                context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"items[{i}].{problem}")
            parts.setdefault(shard_of(item.subject_id, len(self._stubs)), []).append(item)
        timeout = self._deadline(context)
        calls = {index: self._stubs[index].EnrolBatch.future(
            matcher_pb2.EnrolBatchRequest(gallery=request.gallery, items=items), timeout=timeout)
            for index, items in parts.items()}
        replaced: dict[str, bool] = {}
        for index, call in calls.items():
            try:
                for result in call.result().results:
                    replaced[result.subject_id] = result.replaced
            except grpc.RpcError as exc:
                context.abort(exc.code(), f"shard {self.addresses[index]}: {exc.details()}")
        return matcher_pb2.EnrolBatchResponse(results=[
            matcher_pb2.EnrolResponse(subject_id=item.subject_id, replaced=replaced[item.subject_id])
            for item in request.items])

    # ---- searching

    def Search(self, request, context):
        started = time.perf_counter()
        answers, missing = self._all("Search", request, context)
        return merged_search([a for _, a in answers], request.top_k or 1, missing, started)

    def SearchBatch(self, request, context):
        started = time.perf_counter()
        answers, missing = self._all("SearchBatch", request, context)
        return matcher_pb2.SearchBatchResponse(results=[
            merged_search([a.results[i] for _, a in answers], query.top_k or 1, missing, started)
            for i, query in enumerate(request.queries)])


def merged_search(responses: list, top_k: int, missing: list[str], started: float) -> matcher_pb2.SearchResponse:
    """Each shard's list is its top-k, so the best k of their union is the gallery's top-k."""
    candidates = sorted((c for r in responses for c in r.candidates), key=lambda c: (c.distance, c.subject_id))
    return matcher_pb2.SearchResponse(candidates=candidates[:top_k], partial=bool(missing), missing_shards=missing,
                                      search_ms=(time.perf_counter() - started) * 1000)


def merged_stats(answers: list, missing: list[str]) -> matcher_pb2.GalleryStatsResponse:
    merged = matcher_pb2.GalleryStatsResponse()
    merged.CopyFrom(answers[0])
    merged.size = sum(a.size for a in answers)
    merged.tombstones = sum(a.tombstones for a in answers)
    kinds = sorted({a.index_kind for a in answers})
    merged.index_kind = "/".join(kinds)  # shards switch to the approximate index at their own sizes
    del merged.missing_shards[:]
    merged.missing_shards.extend(missing)
    return merged


def template_problem(template, stats: matcher_pb2.GalleryStatsResponse) -> str | None:
    if (template.model, template.model_version) != (stats.model, stats.model_version):
        return (f"template.model: {template.model!r} version {template.model_version!r}, but gallery "
                f"{stats.gallery!r} holds {stats.model!r} version {stats.model_version!r}")
    if len(template.vector) != stats.dimension:
        return (
            f"template.vector: {len(template.vector)} values, gallery {stats.gallery!r} has dimension {stats.dimension}"
        )
    if not all(math.isfinite(v) for v in template.vector):
        return "template.vector: NaN or infinite value"
    return None
