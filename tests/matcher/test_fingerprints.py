"""Fingerprints in the matcher: finger galleries over gRPC (enrol, 1:N search with fusion, verify, remove),
durability through the galleries' logs, least privilege, and bad input as clear gRPC errors.

The templates are made at the minutiae level (no images: those take a second a finger): a finger is a
random set of well-spread minutiae, a second impression of it the same set moved, rotated, jittered, with
a share of minutiae lost and spurious ones added, as impressions differ."""
from __future__ import annotations

import math

import grpc
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drivers.fingerprint import compare, iso19794_2
from drivers.fingerprint.template import ENDING, Minutia, Template
from matcher import fingerprints
from matcher.access import AUDIT_FILE, read_audit
from matcher.errors import InvalidArgument
from matcher.registry import Registry
from matcher.server import MESSAGE_LIMIT, serve
from proto.limes.v1 import matcher_pb2, matcher_pb2_grpc
from proto.tls import open_channel

from .conftest import create

WIDTH, HEIGHT = 300, 400


def finger(seed: int, count: int = 45) -> np.ndarray:
    """(x, y, angle) rows of well-spread minutiae (at least 14 px apart, as ridges are)."""
    rng = np.random.default_rng(seed)
    points: list[tuple[float, float, float]] = []
    while len(points) < count:
        x, y = rng.uniform(30, WIDTH - 30), rng.uniform(30, HEIGHT - 30)
        if all(math.hypot(x - p[0], y - p[1]) >= 14 for p in points):
            points.append((x, y, rng.uniform(0, 2 * math.pi)))
    return np.array(points)


def impression(points: np.ndarray, seed: int, position: int = 0) -> Template:
    """A touch of the finger: rotation, shift, jitter, 15 % of minutiae lost and 5 spurious ones."""
    rng = np.random.default_rng([seed, 99])
    turn = rng.normal(0, math.radians(8))
    centre = np.array([WIDTH / 2, HEIGHT / 2])
    offset = points[:, :2] - centre
    cos, sin = math.cos(turn), math.sin(turn)
    moved = centre + offset @ np.array([[cos, sin], [-sin, cos]]) + rng.normal(0, 8, 2) + rng.normal(0, 2, offset.shape)
    angles = points[:, 2] - turn + rng.normal(0, 0.08, len(points))  # y down: the image turn flips the sign
    keep = rng.random(len(points)) > 0.15
    minutiae = [Minutia(int(np.clip(x, 0, WIDTH - 1)), int(np.clip(y, 0, HEIGHT - 1)), float(a % (2 * math.pi)),
                        ENDING, 60) for (x, y), a, k in zip(moved, angles, keep) if k]
    for x, y, a in finger(seed + 10_000, 5):
        minutiae.append(Minutia(int(x), int(y), float(a), ENDING, 40))
    return Template(WIDTH, HEIGHT, tuple(minutiae), position)


def record(template: Template) -> bytes:
    return iso19794_2.encode(template)


def fingers_message(templates: dict[int, Template]) -> list[matcher_pb2.FingerTemplate]:
    return [matcher_pb2.FingerTemplate(position=p, iso19794_2=record(t)) for p, t in templates.items()]


SUBJECTS = 20
POSITIONS = (2, 3, 4, 5)


@pytest.fixture
def enrolled(stub):
    stub.CreateFingerGallery(matcher_pb2.CreateFingerGalleryRequest(gallery="prints"))
    for subject in range(SUBJECTS):
        templates = {p: impression(finger(100 * subject + p), 1, p) for p in POSITIONS}
        reply = stub.FingerEnrol(matcher_pb2.FingerEnrolRequest(gallery="prints", subject_id=f"s{subject}",
                                                                fingers=fingers_message(templates)))
        assert reply.fingers == len(POSITIONS)
    return stub


def test_a_second_impression_finds_its_subject_and_a_stranger_finds_no_one(enrolled):
    mate = enrolled.FingerSearch(matcher_pb2.FingerSearchRequest(
        gallery="prints", fingers=fingers_message({3: impression(finger(100 * 7 + 3), 2, 3)}), top_k=3))
    assert [c.subject_id for c in mate.candidates] == ["s7"]
    # a search decides at the 1:N threshold for one finger, never below the 1:1 one
    assert mate.candidates[0].score >= mate.threshold == fingerprints.search_threshold(1) >= compare.THRESHOLD
    assert [f.position for f in mate.candidates[0].fingers] == [3]

    stranger = enrolled.FingerSearch(matcher_pb2.FingerSearchRequest(
        gallery="prints", fingers=fingers_message({3: impression(finger(999_999), 2, 3)}), top_k=3))
    assert list(stranger.candidates) == []
    assert stranger.reranked > 0


def test_four_fingers_are_fused_by_summing_their_scores(enrolled):
    query = {p: impression(finger(100 * 12 + p), 3, p) for p in POSITIONS}
    reply = enrolled.FingerSearch(matcher_pb2.FingerSearchRequest(gallery="prints", fingers=fingers_message(query)))
    (best,) = reply.candidates
    assert best.subject_id == "s12"
    assert [f.position for f in best.fingers] == list(POSITIONS)
    assert best.score == pytest.approx(sum(f.score for f in best.fingers))
    assert reply.threshold == fingerprints.search_threshold(4) >= fingerprints.fused_threshold(4)
    # no shortlist asked: four fingers' votes re-rank fewer subjects than one finger's
    assert reply.reranked == fingerprints.default_shortlist(4) == fingerprints.MIN_SHORTLIST < SUBJECTS


def test_a_count_without_its_own_search_margin_takes_the_nearest_measured_below_it(monkeypatch):
    monkeypatch.setattr(fingerprints, "SEARCH_MARGINS", {1: 3.0, 2: 1.0, 4: 0.5})
    assert fingerprints.search_threshold(1) == round(fingerprints.fused_threshold(1) + 3.0, 1)
    assert fingerprints.search_threshold(3) == round(fingerprints.fused_threshold(3) + 1.0, 1)
    assert fingerprints.search_threshold(10) == round(fingerprints.fused_threshold(10) + 0.5, 1)


def test_the_default_shortlist_is_a_budget_of_comparisons_with_a_floor_of_subjects():
    assert [fingerprints.default_shortlist(n) for n in (1, 2, 3, 4, 10)] == [32, 16, 10, 8, 8]


def test_verify_accepts_the_subject_and_refuses_another(enrolled):
    query = fingers_message({2: impression(finger(100 * 4 + 2), 5, 2)})
    same = enrolled.FingerVerify(matcher_pb2.FingerVerifyRequest(gallery="prints", subject_id="s4", fingers=query))
    other = enrolled.FingerVerify(matcher_pb2.FingerVerifyRequest(gallery="prints", subject_id="s5", fingers=query))
    assert same.match and not other.match
    assert same.score > other.score
    assert same.threshold == compare.THRESHOLD          # 1:1 decides at the 1:1 threshold, not the search's
    with pytest.raises(grpc.RpcError) as error:
        enrolled.FingerVerify(matcher_pb2.FingerVerifyRequest(gallery="prints", subject_id="nobody", fingers=query))
    assert error.value.code() == grpc.StatusCode.NOT_FOUND


def test_a_removed_subject_is_no_longer_found(enrolled):
    assert enrolled.FingerRemove(matcher_pb2.FingerRemoveRequest(gallery="prints", subject_id="s9")).fingers == 4
    reply = enrolled.FingerSearch(matcher_pb2.FingerSearchRequest(
        gallery="prints", fingers=fingers_message({2: impression(finger(100 * 9 + 2), 2, 2)})))
    assert list(reply.candidates) == []
    with pytest.raises(grpc.RpcError) as error:
        enrolled.FingerRemove(matcher_pb2.FingerRemoveRequest(gallery="prints", subject_id="s9"))
    assert error.value.code() == grpc.StatusCode.NOT_FOUND


def test_enrolled_fingers_survive_a_restart_through_the_log(tmp_path):
    registry = Registry(tmp_path, background=False)
    galleries = fingerprints.FingerGalleries(registry)
    galleries.create("prints")
    for subject in range(5):
        galleries.enrol("prints", f"s{subject}", [(2, impression(finger(subject), 1, 2))])
    registry.close()  # no snapshot was taken: the enrolments come back from the logs alone

    reopened = fingerprints.FingerGalleries(Registry(tmp_path, background=False))
    ranked, _ = reopened.search("prints", [(2, impression(finger(3), 2, 2))], 1, 8)
    assert ranked[0].subject_id == "s3" and ranked[0].score >= compare.THRESHOLD
    reopened.registry.close()


def test_enrolments_prepared_in_other_processes_store_as_enrol_would(tmp_path):
    """A bulk load prepares enrolments in worker processes (the cylinders are most of the CPU) and stores
    them in turn: a prepared enrolment crosses a process boundary and stores the same rows as enrol."""
    import multiprocessing
    jobs = [(f"s{subject}", [(2, impression(finger(subject), 1, 2))]) for subject in range(4)]
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        prepared = pool.starmap(fingerprints.prepare, jobs)
    stored = fingerprints.FingerGalleries(Registry(tmp_path / "stored", background=False))
    enrolled = fingerprints.FingerGalleries(Registry(tmp_path / "enrolled", background=False))
    for galleries in (stored, enrolled):
        galleries.create("prints")
    for enrolment in prepared:
        stored.store("prints", enrolment)
    for subject_id, fingers in jobs:
        enrolled.enrol("prints", subject_id, fingers)
    query = [(2, impression(finger(2), 2, 2))]
    assert stored.search("prints", query, 4, 4) == enrolled.search("prints", query, 4, 4)
    assert stored.search("prints", query, 1, 4)[0][0].subject_id == "s2"
    assert stored.pair("prints")[0].size == enrolled.pair("prints")[0].size > 4 * 10
    for galleries in (stored, enrolled):
        galleries.registry.close()


def test_packed_minutiae_come_back_as_they_went_in():
    template = impression(finger(5), 1, 7)
    back = fingerprints.unpack(fingerprints.pack(template), 7)
    assert sorted((m.x, m.y, round(m.angle, 4), m.quality) for m in back.minutiae) == \
        sorted((m.x, m.y, round(m.angle, 4), m.quality) for m in template.minutiae)


def bad(call, request, code=grpc.StatusCode.INVALID_ARGUMENT) -> str:
    with pytest.raises(grpc.RpcError) as error:
        call(request, timeout=30)
    assert error.value.code() == code, error.value.details()
    return error.value.details()


def test_bad_finger_requests_end_in_clear_grpc_errors(enrolled):
    good = record(impression(finger(1), 1, 2))
    search = enrolled.FingerSearch

    def query(*fingers, **fields):
        return matcher_pb2.FingerSearchRequest(gallery=fields.pop("gallery", "prints"), fingers=list(fingers), **fields)

    def one(data: bytes, position: int = 2) -> matcher_pb2.FingerTemplate:
        return matcher_pb2.FingerTemplate(position=position, iso19794_2=data)

    assert "not an ISO/IEC 19794-2" in bad(search, query(one(b"x" * 40)))
    assert "record length field says" in bad(search, query(one(good[:30])))
    assert "fingers: empty" in bad(search, query())
    eleven = [matcher_pb2.FingerTemplate(position=1 + i % 10, iso19794_2=good) for i in range(11)]
    assert "at most 10" in bad(search, query(*eleven))
    twice = [matcher_pb2.FingerTemplate(position=2, iso19794_2=good)] * 2
    assert "given twice" in bad(search, query(*twice))
    assert "bytes, at most" in bad(search, query(matcher_pb2.FingerTemplate(position=2, iso19794_2=b"F" * 70_000)))
    assert "shortlist" in bad(search, query(matcher_pb2.FingerTemplate(position=2, iso19794_2=good), shortlist=5000))
    assert "not a finger position" in bad(search, query(matcher_pb2.FingerTemplate(position=11, iso19794_2=good)))
    assert "does not exist" in bad(search, query(matcher_pb2.FingerTemplate(position=2, iso19794_2=good),
                                                gallery="nowhere"), grpc.StatusCode.NOT_FOUND)
    huge = matcher_pb2.FingerTemplate(position=2, iso19794_2=b"F" * (MESSAGE_LIMIT + 1))
    bad(search, query(huge), grpc.StatusCode.RESOURCE_EXHAUSTED)
    enrol = matcher_pb2.FingerEnrolRequest(gallery="prints", subject_id="a#b",
                                           fingers=[matcher_pb2.FingerTemplate(position=2, iso19794_2=good)])
    assert "reserved" in bad(enrolled.FingerEnrol, enrol)


def test_finger_calls_on_a_face_gallery_are_refused(stub):
    create(stub, "faces")
    good = record(impression(finger(1), 1, 2))
    details = bad(stub.FingerSearch, matcher_pb2.FingerSearchRequest(
        gallery="faces", fingers=[matcher_pb2.FingerTemplate(position=2, iso19794_2=good)]))
    assert "not a finger gallery" in details


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=400), position=st.integers(0, 12))
def test_any_template_bytes_are_parsed_or_refused_as_invalid_argument(data, position):
    try:
        parsed = fingerprints.parse_fingers([matcher_pb2.FingerTemplate(position=position, iso19794_2=data)])
    except InvalidArgument:
        return
    assert len(parsed) == 1 and 1 <= parsed[0][0] <= 10


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_mutated_records_are_parsed_or_refused_as_invalid_argument(data):
    original = bytearray(record(impression(finger(2), 1, 2)))
    for _ in range(data.draw(st.integers(1, 6))):
        original[data.draw(st.integers(0, len(original) - 1))] = data.draw(st.integers(0, 255))
    try:
        parsed = fingerprints.parse_fingers([matcher_pb2.FingerTemplate(position=0, iso19794_2=bytes(original))])
    except InvalidArgument:
        return
    assert all(1 <= p <= 10 and len(t.minutiae) >= compare.MIN_MINUTIAE for p, t in parsed)


def test_a_gate_may_search_and_verify_fingers_but_not_enrol_or_remove_them(tmp_path, dev_pki):
    server, port = serve("127.0.0.1:0", tmp_path / "data", tls=dev_pki.server(), background=False)
    central_channel = open_channel(f"127.0.0.1:{port}", dev_pki.server())
    gate_channel = open_channel(f"127.0.0.1:{port}", dev_pki.station("DEMO-EGATE-01"))
    try:
        central, gate = matcher_pb2_grpc.MatcherStub(central_channel), matcher_pb2_grpc.MatcherStub(gate_channel)
        central.CreateFingerGallery(matcher_pb2.CreateFingerGalleryRequest(gallery="prints"))
        fingers = fingers_message({2: impression(finger(1), 1, 2)})
        central.FingerEnrol(matcher_pb2.FingerEnrolRequest(gallery="prints", subject_id="s1", fingers=fingers))
        probe = fingers_message({2: impression(finger(1), 2, 2)})
        assert gate.FingerSearch(matcher_pb2.FingerSearchRequest(gallery="prints", fingers=probe)).candidates
        assert gate.FingerVerify(matcher_pb2.FingerVerifyRequest(gallery="prints", subject_id="s1",
                                                                 fingers=probe)).match
        for call, request in ((gate.FingerEnrol, matcher_pb2.FingerEnrolRequest(gallery="prints", subject_id="s2",
                                                                                fingers=fingers)),
                              (gate.FingerRemove, matcher_pb2.FingerRemoveRequest(gallery="prints", subject_id="s1")),
                              (gate.CreateFingerGallery, matcher_pb2.CreateFingerGalleryRequest(gallery="x"))):
            bad(call, request, grpc.StatusCode.PERMISSION_DENIED)
        audit = read_audit(tmp_path / "data" / AUDIT_FILE)
        assert [(e["method"], e["outcome"][:17]) for e in audit if e["caller"].startswith("station")] == [
            ("FingerEnrol", "PERMISSION_DENIED"), ("FingerRemove", "PERMISSION_DENIED"),
            ("CreateFingerGallery", "PERMISSION_DENIED")]
    finally:
        central_channel.close()
        gate_channel.close()
        server.stop(0).wait()
        server.registry.close()


def test_the_shortlist_holds_a_row_a_cylinder_and_leaves_none_behind(tmp_path):
    registry = Registry(tmp_path, background=False)
    galleries = fingerprints.FingerGalleries(registry)
    minutiae, shortlist = galleries.create("prints")  # (minutiae, shortlist): created in that order
    full, sparse = impression(finger(1), 1, 2), impression(finger(2, count=12), 1, 2)
    cylinders = len(fingerprints.encoding.encode(fingerprints.unpack(fingerprints.pack(full), 2)))
    galleries.enrol("prints", "s1", [(2, full)])
    assert cylinders >= 20 and shortlist.size == cylinders and minutiae.size == 1
    galleries.enrol("prints", "s1", [(2, sparse)])  # enrolled again with fewer cylinders: no stale one stays
    assert shortlist.size == len(fingerprints.encoding.encode(fingerprints.unpack(fingerprints.pack(sparse), 2)))
    assert shortlist.size < cylinders
    assert galleries.remove("prints", "s1") == 1
    assert shortlist.size == 0 and minutiae.size == 0
    registry.close()


def test_a_gallery_of_another_encoding_is_refused_after_a_restart(tmp_path):
    """A finger gallery written by the earlier encoding (one minutia-pair histogram a finger, 'pairs-1')
    keeps its version in its config and snapshot: it is refused, never searched with cylinders."""
    from matcher.config import GalleryConfig

    registry = Registry(tmp_path, background=False)
    old, _ = registry.create(GalleryConfig.checked("prints", fingerprints.MODEL, "pairs-1", 1280))
    registry.create(GalleryConfig.checked("prints.minutiae", fingerprints.MINUTIAE_MODEL, "packed-1",
                                          fingerprints.PACKED_MINUTIAE * 4))
    vector = np.zeros(1280, np.float32)
    vector[0] = 1
    old.enrol([("s1#02", vector)])
    old.snapshot()
    registry.close()

    reopened = fingerprints.FingerGalleries(Registry(tmp_path, background=False))
    with pytest.raises(InvalidArgument, match="holds encoding 'pairs-1'"):
        reopened.search("prints", [(2, impression(finger(1), 2, 2))], 1, 8)
    with pytest.raises(InvalidArgument, match="holds encoding 'pairs-1'"):
        reopened.enrol("prints", "s2", [(2, impression(finger(2), 1, 2))])
    reopened.registry.close()


def test_a_finger_gallery_gets_the_approximate_default_unless_its_creator_names_an_index(tmp_path):
    registry = Registry(tmp_path, background=False)
    galleries = fingerprints.FingerGalleries(registry)
    _, default = galleries.create("prints")
    _, exact = galleries.create("exact", index_factory="Flat")
    _, own = galleries.create("own", index_factory="IVF64,Flat", search_breadth=8)
    assert (default.config.index_factory, default.config.search_breadth) == (
        fingerprints.DEFAULT_INDEX_FACTORY, fingerprints.DEFAULT_SEARCH_BREADTH)
    assert (own.config.index_factory, own.config.search_breadth) == ("IVF64,Flat", 8)
    assert exact.config.index_factory == "Flat"
    registry.close()


def test_projected_inverted_lists_find_what_exact_search_finds(tmp_path):
    """The default's kind (principal axes, inverted lists, 8-bit codes; here small enough to train on forty
    fingers) searched through its lists: the same subjects come first as with exact search."""
    registry = Registry(tmp_path, background=False)
    galleries = fingerprints.FingerGalleries(registry)
    galleries.create("exact", index_factory="Flat")
    _, projected = galleries.create("projected", index_factory="PCA16,IVF16,SQ8", exact_until=1,
                                    search_breadth=16)
    for subject in range(40):
        fingers = [(2, impression(finger(subject), 1, 2))]
        galleries.enrol("exact", f"s{subject}", fingers)
        galleries.enrol("projected", f"s{subject}", fingers)
    registry.get("projected").wait_for_maintenance()
    assert projected.index_kind == "PCA16,IVF16,SQ8"
    for subject in (0, 17, 39):
        query = [(2, impression(finger(subject), 2, 2))]
        found, _ = galleries.search("projected", query, 1, 4)
        assert found[0].subject_id == f"s{subject}"
        assert found == galleries.search("exact", query, 1, 4)[0]
    registry.close()
