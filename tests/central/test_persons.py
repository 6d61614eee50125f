"""CheckPerson: fuzzy hits (order, transliteration, middle names, typos), non-hits, face search."""
from __future__ import annotations

import grpc
import pytest

from central.alerts.face_matcher import FaceCandidate, FaceQuery
from central.errors import Unavailable
from proto.limes.v1 import central_pb2 as pb
from proto.limes.v1 import common_pb2

from .conftest import TEST_ACCESS, serve_central


def add(stub, surname: str, given_names: str, birth_date: str = "1980-03-04", nationality: str = "DEU",
        **fields) -> pb.PersonAlert:
    return stub.AddPersonAlert(pb.AddPersonAlertRequest(
        surname=surname, given_names=given_names, birth_date=birth_date, nationality=nationality,
        reason=pb.PersonAlert.ENTRY_BAN, handling_instruction="Refuse entry, inform the SIRENE bureau",
        issuing_agency="BPOL", **fields))


def check(stub, surname: str, given_names: str, birth_date: str = "1980-03-04", nationality: str = "DEU",
          **fields) -> pb.CheckPersonResponse:
    return stub.CheckPerson(pb.CheckPersonRequest(surname=surname, given_names=given_names, birth_date=birth_date,
                                                  nationality=nationality, **fields))


@pytest.mark.parametrize("surname, given_names", [
    ("MÜLLER", "HANS PETER"),  # as in the alert
    ("MUELLER", "HANS PETER"),  # ICAO transliteration of Ü
    ("MULLER", "HANS PETER"),  # umlaut dropped instead
    ("MUELLER", "HANS"),  # middle name missing at the gate
    ("HANS PETER", "MUELLER"),  # surname and given names swapped
    ("MUELLER HANS PETER", ""),  # all in one field
    ("MUELER", "HANS PETER"),  # a typo
])
def test_fuzzy_variants_hit(stub, surname, given_names):
    alert = add(stub, "Müller", "Hans Peter")
    response = check(stub, surname, given_names)
    [hit] = response.hits
    assert hit.alert_id == alert.alert_id
    assert response.threshold <= hit.score <= 1.0
    assert (hit.reason, hit.issuing_agency) == (pb.PersonAlert.ENTRY_BAN, "BPOL")
    assert hit.handling_instruction.startswith("Refuse entry")
    assert (hit.surname, hit.birth_date) == ("Müller", "1980-03-04")
    assert "birth date exact" in hit.explanation


def test_transliteration_of_all_umlauts(stub):
    add(stub, "Größenwahn-Übel", "Jürgen Åsa", nationality="")
    [hit] = check(stub, "GROESSENWAHN UEBEL", "JUERGEN AASA", nationality="").hits
    assert hit.score == 1.0


def test_middle_name_only_in_the_gate_read(stub):
    add(stub, "SMITH", "JOHN")
    [hit] = check(stub, "SMITH", "JOHN PAUL").hits
    assert hit.score < 1.0


def test_an_exact_identity_outranks_a_fuzzy_one(stub):
    fuzzy = add(stub, "MILLER", "HANS PETER")
    exact = add(stub, "MUELLER", "HANS PETER")
    hits = check(stub, "MUELLER", "HANS PETER").hits
    assert [h.alert_id for h in hits] == [exact.alert_id, fuzzy.alert_id]
    assert hits[0].score > hits[1].score


@pytest.mark.parametrize("surname, given_names, birth_date", [
    ("SCHMIDT", "HANS PETER", "1980-03-04"),  # another surname
    ("MUELLER", "HANS PETER", "1981-03-04"),  # another birth date
    ("MUELLER", "ANNA", "1980-03-04"),  # another person of the family
    ("HANS", "PETER", "1980-03-04"),  # given names only
])
def test_non_hits(stub, surname, given_names, birth_date):
    add(stub, "MÜLLER", "HANS PETER")
    assert list(check(stub, surname, given_names, birth_date).hits) == []


def test_swapped_day_and_month_hit_at_a_lower_score(stub):
    add(stub, "MUELLER", "HANS PETER", birth_date="1980-03-04")
    [hit] = check(stub, "MUELLER", "HANS PETER", birth_date="1980-04-03").hits
    assert hit.score < 1.0 and "swapped" in hit.explanation


def test_alert_without_birth_date_matches_on_names_at_a_lower_score(stub):
    add(stub, "MUELLER", "HANS PETER", birth_date="")
    [hit] = check(stub, "MUELLER", "HANS PETER").hits
    assert hit.score < 1.0 and "no birth date in alert" in hit.explanation


def test_withdrawn_and_expired_person_alerts_do_not_hit(stub):
    alert = add(stub, "MUELLER", "HANS PETER")
    add(stub, "MUELLER", "HANS PETER", valid_to="2001-01-01")
    stub.WithdrawAlert(pb.WithdrawAlertRequest(alert_id=alert.alert_id))
    assert list(check(stub, "MUELLER", "HANS PETER").hits) == []


@pytest.mark.parametrize("fields, field", [
    ({"surname": "", "birth_date": "1980-03-04"}, "surname"),
    ({"surname": "X", "birth_date": ""}, "birth_date"),
    ({"surname": "X", "birth_date": "04.03.1980"}, "birth_date"),
])
def test_malformed_checks_are_invalid(stub, fields, field):
    with pytest.raises(grpc.RpcError) as error:
        stub.CheckPerson(pb.CheckPersonRequest(**fields))
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error.value.details().startswith(field)


class FakeMatcher:
    """The matcher's alert gallery, in memory: a face that is one enrolled subject."""

    def __init__(self, subject_id: str, score: float, fail: bool = False) -> None:
        self.subject_id, self.score, self.fail = subject_id, score, fail
        self.queries: list[FaceQuery] = []

    def search(self, face: FaceQuery) -> list[FaceCandidate]:
        self.queries.append(face)
        if self.fail:
            raise Unavailable("matcher answered without shards s2")
        return [FaceCandidate(self.subject_id, self.score)]


@pytest.fixture
def face_stub(database_url, dev_pki):
    matchers = []

    def start(matcher: FakeMatcher):
        server, central = serve_central(database_url, dev_pki, face_matcher=matcher, access=TEST_ACCESS)
        matchers.append((server, central))
        return central.stub()
    yield start
    for server, central in matchers:
        central.close()
        server.stop(None)


FACE = common_pb2.FaceTemplate(vector=[0.1] * 128, model="dlib-resnet-v1", model_version="1")


def test_face_search_finds_an_alert_under_another_name(face_stub):
    # 0.62 is under the name threshold but above the matcher's own (0.5): the matcher decides.
    matcher = FakeMatcher("subject-7", 0.62)
    stub = face_stub(matcher)
    alert = add(stub, "IVANOV", "PETR", matcher_subject_id="subject-7")
    [hit] = check(stub, "SMIRNOV", "ALEKSEI", birth_date="1975-01-01", face=FACE).hits
    assert (hit.alert_id, hit.score) == (alert.alert_id, pytest.approx(0.62))
    assert "face" in hit.explanation
    assert matcher.queries[0].model == "dlib-resnet-v1" and len(matcher.queries[0].vector) == 128


def test_without_a_face_the_matcher_is_not_asked(face_stub):
    matcher = FakeMatcher("subject-7", 0.91)
    stub = face_stub(matcher)
    check(stub, "SMIRNOV", "ALEKSEI")
    assert matcher.queries == []


def test_a_failed_face_search_is_unavailable_not_no_hit(face_stub):
    stub = face_stub(FakeMatcher("subject-7", 0.91, fail=True))
    with pytest.raises(grpc.RpcError) as error:
        check(stub, "SMIRNOV", "ALEKSEI", face=FACE)
    assert error.value.code() == grpc.StatusCode.UNAVAILABLE


class FixedMatcherServer:
    """A limes.v1.Matcher that answers Search with fixed candidates, to test the gRPC FaceMatcher."""

    def __init__(self, response):
        self.response = response
        self.requests = []

    def Search(self, request, context):
        self.requests.append(request)
        return self.response


@pytest.fixture
def matcher_address(dev_pki):
    from concurrent import futures

    from proto.limes.v1 import matcher_pb2_grpc
    from proto.tls import add_port

    servers = []

    def start(service: FixedMatcherServer) -> str:
        handler = type("Handler", (matcher_pb2_grpc.MatcherServicer,), {"Search": service.Search})()
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
        matcher_pb2_grpc.add_MatcherServicer_to_server(handler, server)
        port = add_port(server, "127.0.0.1:0", dev_pki.server())
        server.start()
        servers.append(server)
        return f"127.0.0.1:{port}"
    yield start
    for server in servers:
        server.stop(None)


def test_grpc_face_matcher_searches_the_alert_gallery(matcher_address, dev_pki):
    from central.alerts.matcher_client import GrpcFaceMatcher
    from proto.limes.v1 import matcher_pb2

    service = FixedMatcherServer(matcher_pb2.SearchResponse(candidates=[
        matcher_pb2.Candidate(subject_id="subject-7", score=0.93, distance=0.31)]))
    # Central presents its own (the services') certificate to the matcher.
    matcher = GrpcFaceMatcher(matcher_address(service), "alerts", tls=dev_pki.server(), top_k=3)
    found = matcher.search(FaceQuery(tuple(FACE.vector), FACE.model, FACE.model_version))
    matcher.close()
    assert found == [FaceCandidate("subject-7", 0.93)]
    [request] = service.requests
    assert (request.gallery, request.top_k, request.template.model) == ("alerts", 3, "dlib-resnet-v1")


def test_grpc_face_matcher_refuses_a_partial_answer(matcher_address, dev_pki):
    from central.alerts.matcher_client import GrpcFaceMatcher
    from proto.limes.v1 import matcher_pb2

    service = FixedMatcherServer(matcher_pb2.SearchResponse(partial=True, missing_shards=["shard-2"]))
    matcher = GrpcFaceMatcher(matcher_address(service), "alerts", tls=dev_pki.server())
    with pytest.raises(Unavailable, match="shard-2"):
        matcher.search(FaceQuery(tuple(FACE.vector), FACE.model, FACE.model_version))
    matcher.close()


def test_grpc_face_matcher_unreachable_is_unavailable(dev_pki):
    from central.alerts.matcher_client import GrpcFaceMatcher

    matcher = GrpcFaceMatcher("127.0.0.1:1", "alerts", tls=dev_pki.server(), timeout=0.5)
    with pytest.raises(Unavailable):
        matcher.search(FaceQuery(tuple(FACE.vector), FACE.model, FACE.model_version))
    matcher.close()
