"""The gate with its outbox and alert cache, central replaced by a fake gRPC
client behind the real edge.remote.RemoteCentral: records are kept before
the gate opens, sent when central answers, and offline decisions follow the policy."""
from __future__ import annotations

import datetime as dt

import grpc
import pytest

from drivers.checks import Check
from drivers.face import encode_face, load_image
from drivers.mrz import generate_td3
from edge.alert_cache import AlertCache
from edge.gate import Gate, GateStation, ReferencePhoto
from edge.outbox import Backoff, Outbox
from edge.policy import Decision, Policy
from edge.remote import RemoteCentral
from proto.clients import central_pb2
from tests.edge.test_gate import Capture, FakeMatcher, framed

TODAY = dt.date(2026, 11, 25)


def mrz(number="X4829A17"):
    return generate_td3(issuing_state="USA", surname="HOLLAND", given_names="JAMES", document_number=number,
                        nationality="USA", birth_date=dt.date(1961, 8, 4), sex="M", expiry_date=dt.date(2030, 1, 1))


class RpcError(grpc.RpcError):
    def __init__(self, code, details):
        self._code, self._details = code, details

    def code(self):
        return self._code

    def details(self):
        return self._details

    def __str__(self):
        return f"<RpcError {self._code.name}: {self._details}>"


class FakeClient:
    """central's answers over the CentralClient.call interface, idempotent on crossing_id/referral_id."""

    def __init__(self):
        self.up = True
        self.refuse: RpcError | None = None
        self.alerts: list[central_pb2.DocumentAlert] = []
        self.persons: list[central_pb2.PersonAlert] = []
        self.crossings: dict[str, central_pb2.RecordCrossingRequest] = {}
        self.referrals: dict[str, central_pb2.OpenReferralRequest] = {}
        self.record_calls = 0
        self.file_status = central_pb2.TravellerFileCheck.EXEMPT
        self.enrolments: list[central_pb2.EnrolTravellerRequest] = []
        self.counter_cases: dict[str, object] = {}

    def call(self, method, request):
        if not self.up:
            raise RpcError(grpc.StatusCode.UNAVAILABLE, "failed to connect to all addresses")
        if self.refuse:
            raise self.refuse
        if method == "CheckDocument":
            return central_pb2.CheckDocumentResponse(hits=[
                central_pb2.DocumentHit(alert_id=a.alert_id, reason=a.reason, match="exact")
                for a in self.alerts if a.document_number == request.document_number])
        if method == "CheckPerson":
            return central_pb2.CheckPersonResponse(hits=[
                central_pb2.PersonHit(alert_id=a.alert_id, reason=a.reason, score=1.0, explanation="names exact")
                for a in self.persons if a.surname == request.surname])
        if method == "CheckStay":
            return central_pb2.CheckStayResponse(regime=central_pb2.CheckStayResponse.VISA_EXEMPT,
                                                 latest_exit="2027-02-22", days_used=1, on="2026-11-25")
        if method == "CheckTravellerFile":
            return central_pb2.TravellerFileCheck(status=self.file_status, reason="test: file status")
        if method == "EnrolTraveller":
            assert request.crossing_id in self.crossings, "a file before its crossing"
            self.enrolments.append(request)
            return central_pb2.EnrolTravellerResponse(file_id="file-1")
        if method == "AlertDelta":
            since = request.since_version
            return central_pb2.AlertDeltaResponse(
                current_version=self.version, document_alerts=[a for a in self.alerts if a.version > since],
                person_alerts=[a for a in self.persons if a.version > since])
        if method == "RecordCrossing":
            self.record_calls += 1
            if not request.document.number:
                raise RpcError(grpc.StatusCode.INVALID_ARGUMENT, "document.number: is required")
            already = request.crossing_id in self.crossings
            self.crossings.setdefault(request.crossing_id, request)
            return central_pb2.RecordCrossingResponse(crossing_id=request.crossing_id, already_recorded=already)
        if method == "OpenReferral":
            assert request.crossing_id in self.crossings, "a referral before its crossing"
            self.referrals.setdefault(request.referral_id, request)
            return central_pb2.Referral(referral_id=request.referral_id)
        if method == "HandToCounter":
            self.counter_cases.setdefault(request.case_id, request)
            return request
        raise AssertionError(method)

    @property
    def version(self):
        return len(self.alerts) + len(self.persons)

    def add_alert(self, number):
        self.alerts.append(central_pb2.DocumentAlert(
            alert_id=f"alert-{len(self.alerts) + 1}", document_number=number, document_type="P",
            issuing_state="USA", reason=central_pb2.DocumentAlert.STOLEN, version=self.version + 1))

    def add_person(self, surname, given_names, birth_date):
        self.persons.append(central_pb2.PersonAlert(
            alert_id=f"person-{len(self.persons) + 1}", surname=surname, given_names=given_names,
            birth_date=birth_date, reason=central_pb2.PersonAlert.ENTRY_BAN, version=self.version + 1))


# The traveller's file has no offline copy: a border authority that lets offline answers open the gate
# must also let the file go unchecked (docs/OFFLINE.md).
NO_FILE_OFFLINE = frozenset({"traveller.file"})


@pytest.fixture(scope="module")
def photos(faces_dir):
    return load_image(faces_dir / "obama" / "01.jpg"), encode_face(load_image(faces_dir / "obama" / "03.jpg"))


@pytest.fixture
def client():
    return FakeClient()


@pytest.fixture
def local(tmp_path, client):
    service = RemoteCentral(client)
    outbox = Outbox(tmp_path / "edge.sqlite", service.deliver, backoff=Backoff(first_s=0.01, most_s=0.05))
    now = dt.datetime(2026, 11, 25, 8, 0, tzinfo=dt.timezone.utc)
    alerts = AlertCache(tmp_path / "edge.sqlite", service.alert_delta, clock=lambda: now)
    yield service, outbox, alerts
    outbox.close()
    alerts.close()


def gate(photos, local, policy=Policy()):
    reference, live = photos
    service, outbox, alerts = local
    chip = ReferencePhoto(reference, [Check.passed("chip.read", "read")])
    return Gate(station=GateStation(), photo_source=lambda m: chip, capture_face=lambda: Capture(live),
                central=service, matcher=FakeMatcher(), policy=policy, today=lambda: TODAY,
                outbox=outbox, alerts=alerts)


def test_online_crossing_is_kept_then_recorded_before_the_gate_opens(photos, local, client):
    outcome = gate(photos, local).process(mrz())
    assert outcome.decision is Decision.OPEN and outcome.recorded and not outcome.offline, outcome.reasons
    assert list(client.crossings) == [outcome.crossing_id]
    _, outbox, _ = local
    assert [(e.method, e.state) for e in outbox.entries()] == [("RecordCrossing", "delivered")]


def test_a_new_travellers_file_is_opened_through_the_outbox_after_the_crossing(photos, local, client):
    client.file_status = central_pb2.TravellerFileCheck.NEW
    service, outbox, alerts = local
    reference, live = photos
    the_gate = Gate(station=GateStation(), photo_source=lambda m: ReferencePhoto(reference, [
        Check.passed("chip.read", "read")]), capture_face=framed((reference, live)), central=service,
        matcher=FakeMatcher(), today=lambda: TODAY, outbox=outbox, alerts=alerts)
    outcome = the_gate.process(mrz())
    assert outcome.decision is Decision.OPEN and outcome.recorded, outcome.reasons
    assert [(e.method, e.state) for e in outbox.entries()] == [("RecordCrossing", "delivered"),
                                                                ("EnrolTraveller", "delivered")]
    [request] = client.enrolments
    assert request.crossing_id == outcome.crossing_id and list(request.face.vector) == pytest.approx(live.vector)
    assert request.live_capture_jpeg.startswith(b"\xff\xd8")


def test_an_unreadable_document_reaches_the_counter_once_central_is_back(photos, local, client):
    """The gate's unidentified traveller is never recorded nowhere: kept in the outbox while central is
    down, then a counter case at the gate's border point (central.desk.counter)."""
    client.up = False
    outcome = gate(photos, local).process("P<USAHOLLAND<<JAMES")
    assert outcome.decision is Decision.REFER
    assert "handed to the counter, an officer desk registers the crossing (kept in the gate's outbox" \
        in "; ".join(outcome.reasons)
    _, outbox, _ = local
    assert [(e.method, e.state) for e in outbox.entries()] == [("HandToCounter", "pending")]
    client.up = True
    outbox.deliver()
    assert [(e.method, e.state) for e in outbox.entries()] == [("HandToCounter", "delivered")]
    [case] = client.counter_cases.values()
    assert (case.case_id, case.border_point) == (outcome.crossing_id, GateStation().border_point)
    assert case.reasons[0].startswith("mrz.valid:")


def test_referral_follows_its_crossing(photos, local, client):
    client.add_alert("X4829A17")
    outcome = gate(photos, local).process(mrz())
    assert outcome.decision is Decision.REFER and outcome.referral_id == outcome.crossing_id
    assert client.referrals[outcome.crossing_id].reasons == outcome.reasons


def test_offline_with_a_clean_cached_list_refers_by_default(photos, local, client):
    _, outbox, alerts = local
    alerts.refresh()
    client.up = False
    the_gate = gate(photos, local)
    outcome = the_gate.process(mrz())
    assert outcome.decision is Decision.REFER and outcome.offline and not outcome.recorded
    check = next(c for c in outcome.checks if c.name == "alerts.document")
    assert check.ok and check.reason == "offline: cached alert list version 0, 0 minutes old"
    # The authorised stay has no offline copy: not done, and required by default.
    assert outcome.reasons[0] == ("stay.days_left: could not be checked (central unreachable: UNAVAILABLE: "
                                  "failed to connect to all addresses)")
    assert ("alerts.document: offline: cached alert list version 0, 0 minutes old "
            "(central unreachable; offline answers do not open the gate)") in outcome.reasons
    # Nor can the traveller's file be checked without central: that refers whatever the policy says of offline.
    assert any(r.startswith("traveller.file: could not be checked (central unavailable") for r in outcome.reasons)
    assert outcome.reasons[-1] == ("crossing not recorded yet: kept in the gate's outbox (2 record(s) waiting), "
                                   "sent when central answers")
    assert not the_gate.online and the_gate.backlog == 2


def test_offline_may_open_when_the_policy_says_so(photos, local, client):
    local[2].refresh()
    client.up = False
    outcome = gate(photos, local, Policy(optional=NO_FILE_OFFLINE, offline_may_open=True)).process(mrz())
    assert outcome.decision is Decision.OPEN and outcome.offline and outcome.reasons[-1].startswith(
        "crossing not recorded yet")
    stay = next(c for c in outcome.checks if c.name == "stay.days_left")  # advisory under this policy
    assert stay.status.value == "not_done" and stay.reason.startswith("central unreachable:")


def test_an_offline_answer_older_than_the_policy_trusts_is_no_answer(photos, local, client, tmp_path):
    service, outbox, _ = local
    now = [dt.datetime(2026, 11, 25, 8, 0, tzinfo=dt.timezone.utc)]
    alerts = AlertCache(tmp_path / "stale.sqlite", service.alert_delta, clock=lambda: now[0])
    alerts.refresh()
    now[0] += dt.timedelta(hours=25)
    client.up = False
    try:
        trusting_now = Policy(optional=NO_FILE_OFFLINE, offline_may_open=True)
        stale = gate(photos, (service, outbox, alerts), trusting_now).process(mrz())
        assert stale.decision is Decision.REFER and stale.offline
        assert ("alerts.document: could not be checked (offline: cached alert list version 0, 1500 minutes old, "
                "older than the 1440 minutes the policy trusts)") in stale.reasons
        trusting = Policy(optional=NO_FILE_OFFLINE, offline_may_open=True, offline_max_age_s=2 * 86400.0)
        assert gate(photos, (service, outbox, alerts), trusting).process(mrz()).decision is Decision.OPEN
    finally:
        alerts.close()


def test_offline_cache_still_catches_a_stolen_document(photos, local, client):
    client.add_alert("X4829A17")
    local[2].refresh()
    client.up = False
    outcome = gate(photos, local, Policy(optional=NO_FILE_OFFLINE, offline_may_open=True)).process(mrz())
    assert outcome.decision is Decision.REFER and outcome.offline
    assert outcome.reasons[0] == "alerts.document: offline: cached alert list version 1, 0 minutes old: " \
                                 "stolen (exact, alert alert-1)"


def test_offline_cache_still_catches_a_person_alert(photos, local, client):
    holder = mrz()
    client.add_person("HOLLAND", "JAMES", "1961-08-04")
    online = gate(photos, local).process(holder)
    assert online.decision is Decision.REFER and not online.offline
    assert any(r.startswith("alerts.person: entry_ban (score 1.00, alert person-1") for r in online.reasons)
    local[2].refresh()
    client.up = False
    offline = gate(photos, local, Policy(optional=NO_FILE_OFFLINE, offline_may_open=True)).process(holder)
    assert offline.decision is Decision.REFER and offline.offline
    assert [r for r in offline.reasons if r.startswith("alerts.person")] == [
        "alerts.person: offline: cached alert list version 1, 0 minutes old: entry_ban (score 1.00, alert "
        "person-1: names 1.00; birth date exact)"]


def test_offline_without_a_loaded_cache_is_not_an_answer(photos, local, client):
    client.up = False
    outcome = gate(photos, local, Policy(optional=NO_FILE_OFFLINE, offline_may_open=True)).process(mrz())
    assert outcome.decision is Decision.REFER and not outcome.offline
    assert ("alerts.document: could not be checked (central unavailable: UNAVAILABLE: failed to connect to all "
            "addresses; the alert cache was never loaded from central)") in outcome.reasons


def test_an_error_central_reports_is_not_an_outage(photos, local, client):
    local[2].refresh()
    client.refuse = RpcError(grpc.StatusCode.PERMISSION_DENIED, "station not registered")
    the_gate = gate(photos, local, Policy(optional=NO_FILE_OFFLINE, offline_may_open=True))
    outcome = the_gate.process(mrz())
    assert outcome.decision is Decision.REFER and not outcome.offline
    assert outcome.reasons[0] == ("alerts.document: could not be checked (central unavailable: <RpcError "
                                  "PERMISSION_DENIED: station not registered>)")
    # Refused for a reason central may fix: kept and retried, never dropped.
    assert local[1].pending()[0].error == "PERMISSION_DENIED: station not registered"


def test_backlog_is_sent_in_order_once_central_is_back(photos, local, client):
    _, outbox, alerts = local
    alerts.refresh()
    the_gate = gate(photos, local)
    client.up = False
    offline = [the_gate.process(mrz(f"X48{n}9A17")) for n in range(3)]
    assert client.crossings == {} and the_gate.backlog == 6
    client.up = True
    outbox.start()
    assert outbox.wait_until_delivered(timeout=30)
    assert list(client.crossings) == [o.crossing_id for o in offline]
    assert list(client.referrals) == [o.crossing_id for o in offline]
    assert client.record_calls == 3 and the_gate.online and the_gate.backlog == 0
    # Recorded as decided at the gate, offline reasons included, not as of the time of sending.
    assert any("offline" in r for r in client.crossings[offline[0].crossing_id].reasons)


def test_first_traveller_after_the_outage_waits_behind_the_backlog(photos, local, client):
    _, outbox, alerts = local
    alerts.refresh()
    the_gate = gate(photos, local)
    client.up = False
    first = the_gate.process(mrz())
    client.up = True
    second = the_gate.process(mrz())  # central answers again: the outbox is woken to drain in order
    assert second.decision is Decision.OPEN and not second.offline
    outbox.start()
    assert outbox.wait_until_delivered(timeout=30)
    assert list(client.crossings) == [first.crossing_id, second.crossing_id]


def test_a_record_central_refuses_is_parked_not_retried(photos, local, client):
    service, outbox, _ = local
    request = service.crossing_request  # a gate bug that loses the document number

    def broken(outcome, mrz, station):
        built = request(outcome, mrz, station)
        built.document.number = ""
        return built

    service.crossing_request = broken
    client.add_alert("X4829A17")
    outcome = gate(photos, local).process(mrz())
    assert not outcome.recorded and outcome.reasons[-1] == \
        "crossing not recorded: central refused it, kept in the outbox for an officer"
    assert [(e.method, e.error) for e in outbox.rejected()] == [
        ("RecordCrossing", "INVALID_ARGUMENT: document.number: is required"),
        ("OpenReferral", "RecordCrossing of this crossing was rejected: INVALID_ARGUMENT: document.number: "
                         "is required")]
    assert outbox.deliver() == 0 and client.record_calls == 1


def test_outbox_failure_refers(photos, local, client):
    _, outbox, _ = local
    outbox.close()  # the disk is gone
    outcome = gate(photos, local).process(mrz())
    assert outcome.decision is Decision.REFER and not outcome.recorded
    assert outcome.reasons[-1].startswith("crossing not recorded: the gate's outbox failed")
    assert client.crossings == {}


def test_metrics_show_offline_outcomes_and_the_backlog(photos, local, client):
    from prometheus_client import REGISTRY

    def offline_refers():
        return REGISTRY.get_sample_value("limes_edge_outcomes_total", {"decision": "refer", "offline": "true"}) or 0

    local[2].refresh()
    client.up = False
    before = offline_refers()
    the_gate = gate(photos, local)
    the_gate.process(mrz())
    assert offline_refers() == before + 1
    assert REGISTRY.get_sample_value("limes_edge_outbox_backlog") == the_gate.backlog == 2


def test_remote_central_reads_the_file_answer_and_names_a_failure_plainly(photos, client):
    from drivers.mrz import parse as parse_mrz
    from edge.remote import CentralUnreachable

    service = RemoteCentral(client)
    client.file_status = central_pb2.TravellerFileCheck.NEW
    holder = parse_mrz(mrz())
    answer = service.check_traveller_file(holder, photos[1])
    assert answer.status == "NEW" and answer.reason == "test: file status" and answer.candidates == []
    client.up = False
    with pytest.raises(CentralUnreachable, match="^UNAVAILABLE: failed to connect to all addresses$"):
        service.check_traveller_file(holder, photos[1])
    client.up, client.refuse = True, RpcError(grpc.StatusCode.INVALID_ARGUMENT, "face.vector: is required")
    with pytest.raises(RuntimeError, match="^INVALID_ARGUMENT: face.vector: is required$"):
        service.check_traveller_file(holder, photos[1])
