"""The officer desk end to end against a real central (TLS, its own database): the gate's checks shown
as each arrives, the officer's decisions recorded under the signed-in officer, a document without a
chip, manual MRZ entry, the refusal form, working offline, and the screen (Flask) refusing what it must.

Devices are fakes (tests/edge/test_gate.py's): the desk's own code and central are real."""
from __future__ import annotations

import base64
import datetime as dt
import re
import threading
import zlib

import numpy as np
import pytest

from central.access.audit import Caller
from central.access.roles import AccessPolicy, Kind, Role
from central.database.engine import Database
from central.database.models import utcnow
from central.rpc.server import serve
from central.web.accounts import set_password
from drivers.checks import Check
from drivers.mrz import generate_td3
from edge.desk.counter import Counter, DeskError
from edge.desk.remote import DeskCentral
from edge.desk.screen import create_screen
from edge.gate import Gate, GateStation, ReferencePhoto
from edge.messages import message
from edge.outbox import Backoff, Outbox
from edge.remote import RemoteCentral
from proto.clients import CentralClient, central_pb2
from tests.edge.test_gate import Capture, FakeMatcher

DESK = "FRA-T1-D01"
STATION = GateStation(DESK, "FRA-T1", "ENTRY")
PASSWORD = "correct horse battery"
ACCESS = AccessPolicy(bootstrap={(Kind.STATION, DESK): (Role.DESK,), (Kind.USER, "officer-17"): (Role.OFFICER,),
                                 (Kind.USER, "reader"): (Role.OFFICER,)})
EXPIRY = dt.date.today() + dt.timedelta(days=900)


def mrz(number="X4829A17", nationality="FRA", surname="MARTIN"):
    return generate_td3(issuing_state=nationality, surname=surname, given_names="CLAIRE", document_number=number,
                        nationality=nationality, birth_date=dt.date(1980, 3, 4), sex="F", expiry_date=EXPIRY)


class Post:
    """Central on a port it can be stopped and started on again, and a desk wired to it."""

    def __init__(self, tmp_path, dev_pki, photos, photo_source=None):
        self.url, self.pki = f"sqlite:///{tmp_path / 'central.sqlite'}", dev_pki
        self.server, self.port = serve("127.0.0.1:0", self.url, tls=dev_pki.server(), access=ACCESS)
        database = Database(self.url)
        database.run(lambda s: set_password(s, Caller("test", "test"), "officer-17", PASSWORD, utcnow()))
        database.dispose()
        self.client = CentralClient(f"127.0.0.1:{self.port}", tls=dev_pki.station(DESK), timeout=5)
        remote = RemoteCentral(self.client)
        self.outbox = Outbox(tmp_path / "edge.sqlite", remote.deliver, backoff=Backoff(first_s=0.05, most_s=0.2))
        reference, live, _ = photos
        chip_ok = ReferencePhoto(reference, [Check.passed("chip.read", "PACE, 2 files read")])
        gate = Gate(station=STATION, photo_source=photo_source or (lambda m: chip_ok),
                    capture_face=lambda: Capture(live), central=remote, matcher=FakeMatcher(), outbox=self.outbox)
        self.counter = Counter(gate, DeskCentral(remote), outbox=self.outbox)
        self.events: list[dict] = []
        self.counter.events.publish = self._heard(self.counter.events.publish)

    def _heard(self, publish):
        def heard(event, **options):
            self.events.append(event)
            publish(event, **options)
        return heard

    def officer_reads(self, method, request):
        reader = CentralClient(f"127.0.0.1:{self.port}", tls=self.pki.user("reader"), timeout=5)
        try:
            return reader.call(method, request)
        finally:
            reader.close()

    def stop_central(self):
        self.server.stop(0).wait()

    def start_central(self):
        self.server, _ = serve(f"127.0.0.1:{self.port}", self.url, tls=self.pki.server(), access=ACCESS)

    def close(self):
        self.counter.close()
        self.outbox.close()
        self.client.close()
        self.server.stop(0).wait()


@pytest.fixture
def post(tmp_path, dev_pki, photos):
    post = Post(tmp_path, dev_pki, photos)
    yield post
    post.close()


def checked(counter: Counter, text: str, **options):
    presented = counter.present(text, **options)
    assert presented.complete.wait(30), "the checks did not end"
    return presented


def test_results_arrive_one_by_one_then_the_admission_is_recorded_under_the_signed_in_officer(post):
    with pytest.raises(DeskError, match="sign in first"):
        post.counter.present(mrz())
    assert post.counter.sign_in("officer-17", PASSWORD) == "officer-17"
    presented = checked(post.counter, mrz())
    kinds = [e["type"] for e in post.events if e.get("id") == presented.transaction_id]
    assert kinds[0] == "started" and kinds[-1] == "complete"
    steps = [e["step"] for e in post.events if e["type"] == "step"]
    assert {"mrz", "chip", "face_capture", "face_verification", "watchlist", "document_alerts", "person_alerts",
            "stay", "traveller_file"} <= set(steps)
    assert kinds.index("document") < kinds.index("history") < kinds.index("complete")
    # What a gate would say to the traveller (in the traveller's language) is the officer's to say.
    said = [e["text"] for e in post.events if e["type"] == "traveller_prompt" and e["id"] == presented.transaction_id]
    assert said == [message("look_at_camera", "FRA")]
    complete = post.events[-1] if post.events[-1]["type"] == "complete" else next(
        e for e in reversed(post.events) if e["type"] == "complete")
    assert complete["offline"] is False and complete["no_chip"] is False
    assert complete["all_shown_ms"] > 0
    decided = post.counter.decide("admit")
    assert (decided["state"], decided["officer"]) == ("delivered", "officer-17")
    referral = post.officer_reads("GetReferral", central_pb2.GetReferralRequest(referral_id=presented.transaction_id))
    assert [(d.officer, d.decision) for d in referral.decisions] == [("officer-17", central_pb2.Referral.ADMITTED)]
    with pytest.raises(DeskError, match="decided already"):
        post.counter.decide("refuse", ground="A")
    # The next traveller's history shows this crossing.
    again = checked(post.counter, mrz())
    assert [c["crossing_id"] for c in again.history] == [presented.transaction_id]


def test_a_document_without_a_chip_is_shown_as_such_and_the_officer_decides(tmp_path, dev_pki, photos):
    no_chip = Post(tmp_path, dev_pki, photos, photo_source=lambda m: ReferencePhoto(
        None, [Check.not_done("chip.read", "no chip answered in the reader")]))
    try:
        no_chip.counter.sign_in("officer-17", PASSWORD)
        presented = checked(no_chip.counter, mrz("Y1234567"))
        summary = no_chip.counter.summary(presented)
        assert summary["no_chip"] is True
        assert "chip.read: no chip answered in the reader" in summary["not_checked"]
        assert no_chip.counter.decide("admit")["state"] == "delivered"
    finally:
        no_chip.close()


def test_a_typed_mrz_is_recorded_as_manual_entry_and_an_unreadable_one_cannot_be_decided(post):
    post.counter.sign_in("officer-17", PASSWORD)
    bad = checked(post.counter, "P<FRAMARTIN<<CLAIRE", manual_entry=True)
    assert post.counter.summary(bad)["mrz_valid"] is False
    with pytest.raises(DeskError, match="no valid MRZ"):
        post.counter.decide("admit")
    typed = checked(post.counter, mrz("Z7654321"), manual_entry=True)
    post.counter.decide("refer", note="visa page torn")
    queue = post.officer_reads("ListReferrals", central_pb2.ListReferralsRequest())
    [waiting] = [r for r in queue.referrals if r.referral_id == typed.transaction_id]
    assert "MRZ entered by hand by the officer" in waiting.reasons


def _pdf_text(pdf: bytes) -> bytes:
    """The page's drawing operators: reportlab's content streams are ASCII85, then Flate encoded."""
    streams = re.findall(rb"/Filter \[ /ASCII85Decode /FlateDecode \][^>]*>>\s*stream\r?\n(.*?)endstream", pdf, re.S)
    assert streams, "no content stream in the PDF"
    return b"".join(zlib.decompress(base64.a85decode(stream.strip(), adobe=True)) for stream in streams)


def test_a_refusal_needs_its_ground_and_produces_the_form_in_the_travellers_language(post):
    post.counter.sign_in("officer-17", PASSWORD)
    presented = checked(post.counter, mrz("M5555555", nationality="MEX", surname="LOPEZ"))
    with pytest.raises(DeskError, match="ground"):
        post.counter.decide("refuse")
    decided = post.counter.decide("refuse", ground="e", note="no return ticket")
    assert (decided["ground"], decided["form_language"]) == ("E", "es")
    assert presented.refusal_pdf.startswith(b"%PDF")
    text = _pdf_text(presented.refusal_pdf)
    assert b"Denegaci" in text and b"LOPEZ" in text and rb"[X] \(E\)" in text and rb"[X] \(A\)" not in text
    assert b"officer-17" in text
    referral = post.officer_reads("GetReferral", central_pb2.GetReferralRequest(referral_id=presented.transaction_id))
    assert referral.status == central_pb2.Referral.REFUSED and referral.decisions[0].reason.startswith("E: ")


def test_offline_the_desk_says_so_keeps_the_decision_and_central_gets_it_once_back(post):
    post.counter.sign_in("officer-17", PASSWORD)
    post.stop_central()
    presented = checked(post.counter, mrz("Q1112223"))
    summary = post.counter.summary(presented)
    assert summary["offline"] is True
    assert any(line.startswith("alerts.document:") for line in summary["not_checked"])
    assert any(line.startswith("history:") for line in summary["not_checked"])
    assert post.counter.decide("admit")["state"] == "pending"
    assert post.counter.status()["backlog"] == 1
    post.start_central()
    post.outbox.start()
    assert post.outbox.wait_until_delivered(timeout=60)
    history = post.officer_reads("GetTravellerHistory", central_pb2.GetTravellerHistoryRequest(
        document=central_pb2.TravelDocument(number="Q1112223", issuing_state="FRA")))
    assert [c.crossing_id for c in history.crossings] == [presented.transaction_id]


def test_the_screen_takes_the_officer_from_central_not_from_the_form(post):
    app = create_screen(post.counter)
    browser = app.test_client()
    page = browser.get("/").get_data(as_text=True)
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    assert browser.get("/events").status_code == 403
    assert browser.post("/sign-in", data={"user": "officer-17", "password": PASSWORD}).status_code == 403  # no token
    assert browser.post("/sign-in", data={"csrf": csrf, "user": "officer-17", "password": "wrong password!"},
                        headers={"Accept": "application/json"}).status_code == 403
    signed = browser.post("/sign-in", data={"csrf": csrf, "user": "officer-17", "password": PASSWORD},
                          headers={"Accept": "application/json"})
    assert signed.get_json() == {"officer": "officer-17"}
    page = browser.get("/?lang=fr").get_data(as_text=True)
    assert 'lang="fr"' in page and "Admettre" in page
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    typed = browser.post("/mrz", data={"csrf": csrf, "mrz": mrz("K9998887")}, headers={"Accept": "application/json"})
    assert post.counter.current.complete.wait(30)
    assert typed.get_json()["id"] == post.counter.current.transaction_id
    other_browser = app.test_client()  # the same machine, another page: not the signed-in screen
    assert other_browser.post("/decide", data={"csrf": csrf, "decision": "admit"}).status_code == 403
    decided = browser.post("/decide", data={"csrf": csrf, "decision": "refuse", "ground": "C",
                                            "officer": "someone-else", "form_language": "fr"},
                           headers={"Accept": "application/json"}).get_json()
    assert decided["officer"] == "officer-17"
    pdf = browser.get(f"/refusal/{decided['id']}.pdf")
    assert pdf.mimetype == "application/pdf" and b"Refus d" in _pdf_text(pdf.data)
    referral = post.officer_reads("GetReferral", central_pb2.GetReferralRequest(referral_id=decided["id"]))
    assert [d.officer for d in referral.decisions] == ["officer-17"]


def test_the_event_stream_replays_the_current_traveller_to_a_screen_that_connects_late(post):
    post.counter.sign_in("officer-17", PASSWORD)
    checked(post.counter, mrz("L4443332"))
    stop = threading.Event()
    stream = post.counter.events.listen(stop)
    first = [next(stream) for _ in range(3)]
    stop.set()
    assert first[0].startswith("event: started") and first[1].startswith("event: step")


def test_a_page_image_is_shown_and_an_unusable_one_leaves_the_officer_to_type_the_mrz(post):
    post.counter.sign_in("officer-17", PASSWORD)
    unread = checked(post.counter, "", page_image=b"\xff\xd8 not really a JPEG")
    shown = [e for e in post.events if e["type"] == "page_image" and e["id"] == unread.transaction_id]
    assert len(shown) == 1 and shown[0]["src"].startswith("data:image/jpeg;base64,")
    [page] = [c for c in unread.checks if c.name == "page.image"]
    assert page.status.value == "fail" and "unusable" in page.reason
    summary = post.counter.summary(unread)
    assert (summary["page_image"], summary["mrz_from_image"], summary["mrz_valid"]) == (True, False, False)
    with pytest.raises(DeskError, match="no valid MRZ"):
        post.counter.decide("admit")
    # The reader's MRZ stands beside a broken image: the checks run, the image's failure is shown.
    read = checked(post.counter, mrz("P3332221"), page_image=b"\x89PNG broken")
    assert read.mrz is not None and post.counter.decide("admit")["state"] == "delivered"


def test_an_intelligence_report_from_the_counter_is_the_signed_in_officers_and_linked_by_central(post):
    from sqlalchemy import select

    from central.database import models as m

    post.counter.sign_in("officer-17", PASSWORD)
    presented = checked(post.counter, mrz("K7776665", surname="BLANC"))
    with pytest.raises(DeskError, match="decide on the traveller first"):
        post.counter.file_report("Carried three other passports")
    post.counter.decide("refer")
    app = create_screen(post.counter)
    browser = app.test_client()
    with browser.session_transaction() as session:  # the screen the officer signed in on
        session["officer"], session["csrf"] = "officer-17", "token"
    filed = browser.post("/intel-report", data={
        "csrf": "token", "text": "Carried three other passports", "source_kind": "officer", "source_evaluation": "1",
        "assessment": "B", "handling_code": "C", "handling_conditions": "not to the carrier",
        "link_traveller": "yes", "officer": "someone-else"}, headers={"Accept": "application/json"}).get_json()
    assert (filed["state"], filed["officer"], filed["crossing_id"]) == ("delivered", "officer-17",
                                                                       presented.transaction_id)
    unlinked = post.counter.file_report("A van waits outside every Friday", source_kind="human",
                                        source_evaluation="2", assessment="C", link_traveller=False)
    assert unlinked["state"] == "delivered"
    database = Database(post.url)
    try:
        reports = database.run(lambda s: [
            (r.reference, r.originator, f"{r.source_evaluation}{r.assessment} {r.handling_code}",
             r.handling_conditions, [link.kind for link in r.links])
            for r in s.scalars(select(m.IntelReport).order_by(m.IntelReport.id))])
        audited = database.run(lambda s: [(a.station, a.user_name, a.purpose) for a in s.scalars(
            select(m.AuditEntry).where(m.AuditEntry.action == "FileIntelReport"))])
    finally:
        database.dispose()
    assert reports == [
        (filed["report_id"], "officer-17", "1B C", "not to the carrier",
         ["crossing", "referral", "person", "document"]),
        (unlinked["report_id"], "officer-17", "2C P", "", [])]
    assert audited == [(DESK, "officer-17", "intelligence report from the counter")] * 2
    # The outbox sending the same request again files nothing new; a caller that is no desk (an officer's own
    # certificate) may not file through the desk's service.
    request = post.counter.remote.report_request(
        token=post.counter.officer.token, report_id=unlinked["report_id"], source_kind="human", text="again",
        source_evaluation="2", assessment="C", handling_code="P", handling_conditions="", crossing_id="",
        written_at=utcnow())
    assert post.client.call("FileIntelligenceReport", request).reference == unlinked["report_id"]
    import grpc
    with pytest.raises(grpc.RpcError) as refused:
        post.officer_reads("FileIntelligenceReport", request)
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED


def test_the_officer_captures_the_face_again_and_the_record_says_so(post, photos):
    """A refused capture is shown at once; the officer has the face captured again (the face steps only),
    the new results replace the old, and the crossing central records says which capture and why."""
    _, live, _ = photos
    captures = iter([Capture(None, failure="poor quality: eyes_open", messages=["open your eyes"]), Capture(live)])
    post.counter.gate.capture_face = lambda: next(captures)
    with pytest.raises(DeskError, match="sign in first"):
        post.counter.capture_again()
    post.counter.sign_in("officer-17", PASSWORD)
    with pytest.raises(DeskError, match="no traveller"):
        post.counter.capture_again()
    presented = checked(post.counter, mrz("R2223334"))
    first = {c.name: c for c in presented.checks}
    assert first["face.capture"].status.value == "fail" and first["face.verification"].status.value == "not_done"
    kept = [c for c in presented.checks if c.name in ("mrz.valid", "chip.read", "alerts.document", "stay.days_left")]
    steps_before = len([e for e in post.events if e["type"] == "step"])

    answer = post.counter.capture_again()
    assert answer["capture"] == 2
    with pytest.raises(DeskError, match="no traveller whose checks are all shown"):
        post.counter.decide("admit")  # not while the face steps run again
    assert presented.complete.wait(30), "the second capture's checks did not end"

    again = [e for e in post.events if e["type"] == "step"][steps_before:]
    assert {e["step"] for e in again} == {"face_capture", "face_verification", "watchlist", "traveller_file"}
    [announced] = [e for e in post.events if e["type"] == "capture_again"]
    assert {"face.capture", "face.liveness", "face.verification", "watchlist.face", "traveller.file"} <= set(
        announced["replaces"])
    names = [c.name for c in presented.checks]
    assert names.count("face.capture") == 1 and names.count("face.verification") == 1
    now = {c.name: c for c in presented.checks}
    assert now["face.capture"].status.value == "pass"
    assert now["face.capture"].reason.startswith("capture 2, taken again by the officer: ")
    assert now["face.verification"].status.value == "pass"
    assert all(c in presented.checks for c in kept)  # the document's own checks stand as they were
    summary = post.counter.summary(presented)
    assert summary["captures"] == 2 and len(summary["capture_again_ms"]) == 1
    assert not any(line.startswith("face.") for line in summary["not_checked"])

    assert post.counter.decide("admit")["state"] == "delivered"
    with pytest.raises(DeskError, match="decided already"):
        post.counter.capture_again()
    history = post.officer_reads("GetTravellerHistory", central_pb2.GetTravellerHistoryRequest(
        document=central_pb2.TravelDocument(number="R2223334", issuing_state="FRA")))
    [crossing] = history.crossings
    recorded = {c.name: c.reason for c in crossing.checks}
    assert recorded["face.capture"].startswith("capture 2, taken again by the officer")


def test_the_screen_captures_again_for_the_signed_in_officer_only(post, photos):
    app = create_screen(post.counter)
    browser = app.test_client()
    browser.get("/")
    with browser.session_transaction() as session:
        csrf = session["csrf"]
    assert browser.post("/capture-again", data={"csrf": csrf}, headers={"Accept": "application/json"}
                        ).status_code == 403
    assert browser.post("/capture-again", data={"csrf": "forged"}).status_code == 403
    browser.post("/sign-in", data={"csrf": csrf, "user": "officer-17", "password": PASSWORD})
    with browser.session_transaction() as session:
        csrf = session["csrf"]
    page = browser.get("/?lang=fr").get_data(as_text=True)
    assert 'id="capture-again"' in page and "Reprendre le visage" in page and 'aria-keyshortcuts="Alt+C"' in page
    presented = checked(post.counter, mrz("S3334445"))
    answer = browser.post("/capture-again", data={"csrf": csrf}, headers={"Accept": "application/json"})
    assert answer.status_code == 200 and answer.get_json()["capture"] == 2
    assert presented.complete.wait(30)


@pytest.mark.slow
def test_the_printed_visual_zone_is_cross_checked_against_the_mrz(post):
    """A data page whose printed surname differs from its MRZ fails page.visual_zone naming the field; a page
    where OCR reads nothing leaves the check not done (never a pass on nothing compared). OCR runs: slow."""
    from hardware_sim.datapage import PrintedPage, encode_jpeg, render_page

    post.counter.sign_in("officer-17", PASSWORD)
    text = mrz("V5556667")
    altered = PrintedPage(surname="MARTINEZ", given_names="CLAIRE", nationality="FRA", sex="F",
                          birth_date=dt.date(1980, 3, 4), document_number="V5556667", expiry_date=EXPIRY,
                          issue_date=EXPIRY.replace(year=EXPIRY.year - 10), issuing_state="FRA", mrz=text)
    presented = checked(post.counter, text, page_image=encode_jpeg(render_page(altered), 90))
    [printed] = [c for c in presented.checks if c.name == "page.visual_zone"]
    assert printed.status.value == "fail" and "surname: printed 'MARTINEZ', MRZ 'MARTIN'" in printed.reason
    post.counter.decide("refer", note="printed surname differs from the MRZ")

    blank = checked(post.counter, mrz("V5556668"), page_image=encode_jpeg(np.full((600, 900, 3), 230, np.uint8), 90))
    [printed] = [c for c in blank.checks if c.name == "page.visual_zone"]
    assert printed.status.value == "not_done" and "none of the printed" in printed.reason


@pytest.mark.parametrize("screen", ["0.0.0.0:8090", "192.0.2.7:8090", "[::]:8090", "8090", "desk.example:8090"])
def test_the_screen_is_served_on_this_machine_only(screen):
    from edge.desk.station import start_desk

    with pytest.raises(ValueError, match="loopback"):  # refused before any device or service is started
        start_desk(None, screen)
