"""The Matcher API over a cluster: writes go to the gallery stream, reads to one replica per vshard set.

* CreateGallery puts the configuration in the table (`gallery.<name>`); members pick it up.
* Enrol, EnrolBatch, Remove publish to the stream (matcher.stream) under a fresh change id
  each, and answer once JetStream has acknowledged (a quorum of its 3 copies). Members apply
  the change a few milliseconds later: a search right after an enrolment may not see it yet.
  `replaced` and Remove's NOT_FOUND are read from the subject's set just before publishing.
* Search and SearchBatch go to every set that serves vshards: one replica each, the best by
  matcher.hedging, another if it is slow or fails. A set none of whose replicas answered is
  named in `missing_shards` and the answer is `partial`. Answers are merged by subject, so a
  vshard held by two sets during a rebalance counts once.
* Get and Verify go to a replica of the subject's set.

The table (assignment, members, galleries) is re-read every TABLE_REFRESH seconds in the background.
"""
from __future__ import annotations

import logging
import threading
import time
import uuid

import grpc
import numpy as np

from matcher import handover, hedging
from matcher.config import GalleryConfig
from matcher.errors import InvalidArgument
from matcher.router import UNREACHABLE, merged_stats, template_problem
from matcher.server import MESSAGE_OPTIONS
from matcher.servicer import MAX_ENROL_BATCH
from matcher.stream import ENROL, REMOVE, TABLE_REFRESH, NatsLink, StreamUnavailable
from matcher.vshards import Assignment, vshard_of
from proto.limes.v1 import matcher_pb2, matcher_pb2_grpc
from proto.tls import TlsFiles, open_channel

log = logging.getLogger(__name__)

# Seconds without a heartbeat before a member is no longer asked. A dead one is found sooner by its
# failed calls (the next replica is asked at once); this only drops members gone for good.
MEMBER_SILENT_AFTER = 15.0
FRESH_REPORT = 3.0  # seconds: a member that reported within this is reading the stream now
PUBLISH_DEADLINE = 20.0  # seconds a change may wait for JetStream (an election takes a few)


class ClusterRouter(matcher_pb2_grpc.MatcherServicer):
    def __init__(self, link: NatsLink, *, timeout: float = 2.0, hedge_after: float | None = None,
                 tls: TlsFiles | None = None, plaintext: bool = False):
        """`tls`: the router's own CA, certificate and key, presented to the members (or plaintext=True).
        `hedge_after`: seconds before a second replica is asked; None: adaptive (hedging.HedgeDelay)."""
        self.link = link
        self._tls, self._plaintext = tls, plaintext
        self.timeout = timeout
        self.hedge_delay = hedging.HedgeDelay()
        self.hedge_after = hedge_after
        self.health = hedging.ReplicaHealth()
        self._stubs: dict[str, matcher_pb2_grpc.MatcherStub] = {}
        self._channels: list[grpc.Channel] = []
        # (assignment, set -> serving members' addresses in tiers: askable), swapped whole by refresh; a call
        # takes it once, so it never pairs one reading's assignment with another's members
        self.table: tuple[Assignment | None, dict[str, list[list[str]]]] = (None, {})
        self.galleries: dict[str, GalleryConfig] = {}
        self._stop = threading.Event()
        link.call(link.ensure())
        self.refresh()
        self._thread = threading.Thread(target=self._refresh_forever, name="cluster router table", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        for channel in self._channels:
            channel.close()

    # ---- the table

    @property
    def assignment(self) -> Assignment | None:
        return self.table[0]

    def refresh(self) -> None:
        """Read the table. The assignment is read before the members: a rebalance flips it only once the
        new owners report serving, so members read after it include them. Both are then swapped in at
        once: searches went on meanwhile with the new assignment and the old members (a set just flipped
        to, with no replica to ask yet: `partial`, 3 of 1518 searches during a rebalance at 50k)."""
        assignment = self.link.call(self.link.assignment(), timeout=5)
        # galleries are never deleted: one known stays known if a reading misses it
        self.galleries = {**self.galleries, **self.link.call(self.link.galleries(), timeout=5)}
        replicas = askable(self.link.call(self.link.members(), timeout=5), time.time())
        self.table = (assignment, replicas)

    def _refresh_forever(self) -> None:
        while not self._stop.wait(TABLE_REFRESH):
            try:
                self.refresh()
            except Exception as exc:  # NATS away for a moment: keep the last table
                log.warning("cluster router: table not re-read (%r)", exc)

    def _stub(self, address: str) -> matcher_pb2_grpc.MatcherStub:
        stub = self._stubs.get(address)
        if stub is None:
            channel = open_channel(address, self._tls, plaintext=self._plaintext, options=MESSAGE_OPTIONS)
            self._channels.append(channel)
            stub = self._stubs[address] = matcher_pb2_grpc.MatcherStub(channel)
        return stub

    @staticmethod
    def _holding_sets(assignment: Assignment | None) -> list[str]:
        """Sets that serve or load vshards. A set still loading is asked too: if the table flips before
        this router re-reads it, the new owner's answer is already here (merged by subject)."""
        if assignment is None:
            return []
        return sorted(n for n in set(assignment.serving) | set(assignment.warming) if assignment.held_by(n))

    def _config(self, name: str, context) -> GalleryConfig:
        config = self.galleries.get(name)
        if config is None:
            config = self.link.call(self.link.galleries(), timeout=5).get(name)
        if config is None:
            context.abort(grpc.StatusCode.NOT_FOUND, f"gallery: {name!r} does not exist")
        return config

    def _deadline(self, context) -> float:
        remaining = context.time_remaining() if context is not None else None
        budget = self.timeout if remaining is None else max(0.0, min(self.timeout, remaining * 0.9 - 0.005))
        return time.monotonic() + budget

    # ---- asking replicas

    def _ask_sets(self, sets: list[str], replicas: dict[str, list[list[str]]], method: str, request,
                  deadline: float) -> tuple[dict[str, object], list[str]]:
        """One answer per set (hedged, failing over); the sets with no answer. A refusal is the caller's."""
        condition = threading.Condition()
        state = {name: {"order": [a for tier in replicas.get(name, []) for a in self.health.order(tier)],
                        "asked": 0, "pending": {},
                        "started": time.monotonic(), "answer": None, "done": False, "why": []}
                 for name in sets}
        refusal: list[grpc.RpcError] = []
        hedge_after = self.hedge_after if self.hedge_after is not None else self.hedge_delay.current()

        def ask(name: str) -> None:
            s = state[name]
            address = s["order"][s["asked"]]
            s["asked"] += 1
            sent = time.monotonic()
            call = getattr(self._stub(address), method).future(request, timeout=max(0.001, deadline - sent))
            s["pending"][address] = call

            def finished(call, address=address, sent=sent):
                with condition:
                    s["pending"].pop(address, None)
                    if call.cancelled():  # cancelled here: another replica answered first, or the deadline
                        return
                    try:
                        answer = call.result()
                    except grpc.RpcError as exc:
                        if exc.code() in UNREACHABLE or exc.code() == grpc.StatusCode.CANCELLED:
                            self.health.failed(address)
                            s["why"].append(f"{address}: {exc.code().name} {exc.details()}")
                        else:
                            refusal.append(exc)
                    else:
                        self.health.answered(address, time.monotonic() - sent)
                        self.hedge_delay.observe(time.monotonic() - sent)
                        if not s["done"]:
                            s["answer"], s["done"] = answer, True
                    condition.notify_all()
            call.add_done_callback(finished)

        with condition:
            while not refusal:
                now = time.monotonic()
                undecided = [n for n in sets if not state[n]["done"]]
                if not undecided:
                    break
                for name in undecided:
                    s = state[name]
                    action = hedging.next_action(s["started"], now, s["asked"], len(s["pending"]), len(s["order"]),
                                                 hedge_after, deadline)
                    if action == "ask":
                        ask(name)
                    elif action == "give_up":
                        s["done"] = True
                condition.wait(timeout=min(hedge_after / 2, max(0.0, deadline - now)) or 0.001)
            for s in state.values():
                for call in list(s["pending"].values()):
                    call.cancel()
        if refusal:
            raise refusal[0]
        answers = {n: state[n]["answer"] for n in sets if state[n]["answer"] is not None}
        missing = [n for n in sets if state[n]["answer"] is None]
        for name in missing:
            log.warning("%s: vshard set %s missing (replicas %s): %s", method, name, state[name]["order"] or "none",
                        "; ".join(state[name]["why"]) or "no answer before the deadline")
        return answers, missing

    def _ask_owner(self, subject_id: str, method: str, request, context):
        if not subject_id:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "subject_id: empty")
        assignment, replicas = self.table
        if assignment is None:
            context.abort(grpc.StatusCode.UNAVAILABLE, "the cluster has no assignment yet (limes matcher rebalance)")
        owner = assignment.owner(vshard_of(subject_id))
        try:
            answers, missing = self._ask_sets([owner], replicas, method, request, self._deadline(context))
        except grpc.RpcError as exc:
            context.abort(exc.code(), exc.details() or "")
        if missing:
            context.abort(grpc.StatusCode.UNAVAILABLE, f"no replica of vshard set {owner!r} answered")
        return answers[owner]

    # ---- galleries

    def CreateGallery(self, request, context):
        try:
            config = GalleryConfig.checked(request.gallery, request.model, request.model_version, request.dimension,
                                           request.threshold, request.index_factory, request.exact_until,
                                           request.search_breadth, request.vector_storage, request.rerank_shortlist)
        except InvalidArgument as exc:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        existing = self.link.call(self.link.galleries(), timeout=5).get(config.name)
        if existing is not None and existing != config:
            context.abort(grpc.StatusCode.ALREADY_EXISTS,
                          f"gallery: {config.name!r} exists with another configuration ({existing})")
        if existing is None:
            self.link.call(self.link.put_gallery(config), timeout=10)
            self.galleries[config.name] = config
        return stats_of(config)

    def GalleryStats(self, request, context):
        config = self._config(request.gallery, context)
        answers, missing = self._all("GalleryStats", request, context)
        return merged_stats(answers, missing) if answers else stats_of(config, missing)

    def ListGalleries(self, request, context):
        answers, missing = self._all("ListGalleries", request, context)
        by_name: dict[str, list] = {}
        for answer in answers:
            for stats in answer.galleries:
                by_name.setdefault(stats.gallery, []).append(stats)
        return matcher_pb2.ListGalleriesResponse(galleries=[
            merged_stats(by_name[n], missing) if n in by_name else stats_of(self.galleries[n], missing)
            for n in sorted(set(by_name) | set(self.galleries))])

    def _all(self, method: str, request, context) -> tuple[list, list[str]]:
        assignment, replicas = self.table
        try:
            answers, missing = self._ask_sets(self._holding_sets(assignment), replicas, method, request,
                                              self._deadline(context))
        except grpc.RpcError as exc:
            context.abort(exc.code(), exc.details() or "")
        # a set that is only loading serves nothing yet: its absence leaves nothing out
        return [answers[n] for n in sorted(answers)], [n for n in missing if assignment.serving.get(n)]

    # ---- writes: to the stream

    def _checked(self, config: GalleryConfig, template, field: str, context) -> np.ndarray:
        problem = template_problem(template, stats_of(config))
        if problem:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, problem.replace("template.", field + ".", 1))
        return np.asarray(template.vector, dtype=np.float32)

    def _publish(self, gallery: str, op: str, subject_id: str, vector, context) -> int:
        try:
            return self.link.call(self.link.publish(gallery, vshard_of(subject_id), op, subject_id, vector,
                                                    uuid.uuid4().hex, time.monotonic() + PUBLISH_DEADLINE),
                                  timeout=PUBLISH_DEADLINE + 5)
        except StreamUnavailable as exc:
            context.abort(grpc.StatusCode.UNAVAILABLE, f"{exc} (retry: re-enrolling replaces)")

    def _replaced(self, gallery: str, subject_id: str, context) -> bool:
        """Whether the subject is enrolled now, as its set sees it (False if no replica answered)."""
        assignment, replicas = self.table
        if assignment is None:
            context.abort(grpc.StatusCode.UNAVAILABLE, "the cluster has no assignment yet (limes matcher rebalance)")
        owner = assignment.owner(vshard_of(subject_id))
        try:
            answers, _ = self._ask_sets([owner], replicas, "Get",
                                        matcher_pb2.GetRequest(gallery=gallery, subject_id=subject_id),
                                        self._deadline(context))
        except grpc.RpcError as exc:
            if exc.code() == grpc.StatusCode.NOT_FOUND:
                return False
            raise
        return bool(answers)

    def Enrol(self, request, context):
        config = self._config(request.gallery, context)
        if not request.subject_id:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "subject_id: empty")
        vector = self._checked(config, request.template, "template", context)
        replaced = self._replaced(request.gallery, request.subject_id, context)
        self._publish(request.gallery, ENROL, request.subject_id, vector, context)
        return matcher_pb2.EnrolResponse(subject_id=request.subject_id, replaced=replaced)

    def EnrolBatch(self, request, context):
        """Not atomic across the stream: each item is its own change; sending the batch again is safe."""
        config = self._config(request.gallery, context)
        if not request.items:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "items: empty")
        if len(request.items) > MAX_ENROL_BATCH:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT,
                          f"items: {len(request.items)} is more than {MAX_ENROL_BATCH} per batch")
        seen, vectors = set(), []
        for i, item in enumerate(request.items):
            if not item.subject_id:
                context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"items[{i}].subject_id: empty")
            if item.subject_id in seen:
                context.abort(grpc.StatusCode.INVALID_ARGUMENT,
                              f"items[{i}].subject_id: {item.subject_id!r} twice in one batch")
            seen.add(item.subject_id)
            vectors.append(self._checked(config, item.template, f"items[{i}].template", context))
        changes = [(request.gallery, vshard_of(item.subject_id), ENROL, item.subject_id, vector)
                   for item, vector in zip(request.items, vectors)]
        try:
            self.link.call(self.link.publish_many(changes, PUBLISH_DEADLINE), timeout=None)
        except StreamUnavailable as exc:
            context.abort(grpc.StatusCode.UNAVAILABLE, f"{exc} (retry the batch: re-enrolling replaces)")
        return matcher_pb2.EnrolBatchResponse(results=[
            matcher_pb2.EnrolResponse(subject_id=item.subject_id, replaced=False) for item in request.items])

    def Remove(self, request, context):
        self._config(request.gallery, context)
        self._ask_owner(request.subject_id, "Get",
                        matcher_pb2.GetRequest(gallery=request.gallery, subject_id=request.subject_id), context)
        self._publish(request.gallery, REMOVE, request.subject_id, None, context)
        return matcher_pb2.RemoveResponse()

    # ---- reads

    def Get(self, request, context):
        self._config(request.gallery, context)
        return self._ask_owner(request.subject_id, "Get", request, context)

    def Verify(self, request, context):
        self._config(request.gallery, context)
        return self._ask_owner(request.subject_id, "Verify", request, context)

    def Search(self, request, context):
        started = time.perf_counter()
        self._config(request.gallery, context)
        answers, missing = self._all("Search", request, context)
        return merged_search(answers, request.top_k or 1, missing, started)

    def SearchBatch(self, request, context):
        started = time.perf_counter()
        if request.queries:
            self._config(request.queries[0].gallery, context)
        answers, missing = self._all("SearchBatch", request, context)
        return matcher_pb2.SearchBatchResponse(results=[
            merged_search([a.results[i] for a in answers], query.top_k or 1, missing, started)
            for i, query in enumerate(request.queries)])


def askable(members: list[dict], now: float) -> dict[str, list[list[str]]]:
    """Set -> the addresses of the members to ask, in tiers: serving ones that reported lately, those
    taking a new table (`moving`, matcher.handover) in the last tier. A member whose reports stopped
    may have lost its NATS server and be reading nothing new: while a replica of its set reports on
    time, only those are asked; after MEMBER_SILENT_AFTER it is not asked at all."""
    by_set: dict[str, list[dict]] = {}
    for member in members:
        if member["serving"] and now - member["at"] < MEMBER_SILENT_AFTER:
            by_set.setdefault(member["set"], []).append(member)
    chosen = {}
    for name, candidates in by_set.items():
        fresh = [m for m in candidates if now - m["at"] < FRESH_REPORT]
        tiers = handover.answer_order(fresh or candidates)
        chosen[name] = [sorted(m["address"] for m in tier) for tier in tiers if tier]
    return chosen


def merged_search(responses: list, top_k: int, missing: list[str], started: float) -> matcher_pb2.SearchResponse:
    """The best k of the sets' lists, each subject once (two sets hold a vshard while it moves)."""
    best: dict[str, object] = {}
    for candidate in (c for r in responses for c in r.candidates):
        if candidate.subject_id not in best or candidate.distance < best[candidate.subject_id].distance:
            best[candidate.subject_id] = candidate
    candidates = sorted(best.values(), key=lambda c: (c.distance, c.subject_id))
    return matcher_pb2.SearchResponse(candidates=candidates[:top_k], partial=bool(missing), missing_shards=missing,
                                      search_ms=(time.perf_counter() - started) * 1000)


def stats_of(config: GalleryConfig, missing: list[str] = ()) -> matcher_pb2.GalleryStatsResponse:
    c = config
    return matcher_pb2.GalleryStatsResponse(
        gallery=c.name, size=0, model=c.model, model_version=c.model_version, dimension=c.dimension,
        threshold=c.threshold, index_factory=c.index_factory, index_kind="exact", exact_until=c.exact_until,
        search_breadth=c.search_breadth, vector_storage=c.vector_storage, rerank_shortlist=c.rerank_shortlist,
        missing_shards=list(missing))
