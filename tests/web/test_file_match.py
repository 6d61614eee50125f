"""The referral page of a possible multiple identity: this traveller beside the other identity's file."""
from __future__ import annotations

import datetime as dt
import re
import uuid

from sqlalchemy import select

from central.access import audit as audit_log
from central.alerts.face_matcher import FaceQuery
from central.database import models as m
from central.records import gate_calls
from central.records.evidence import ReferralCandidate, ReferralEvidence
from central.risk.rules import RiskRules
from central.stays.regime import StayRules
from central.travellers import files
from tests.web.conftest import NOW, USERS, jpeg, seed_referral


class Gallery:
    def __init__(self):
        self.subjects = {}

    def search(self, face):
        return []

    def enrol(self, subject_id, face):
        self.subjects[subject_id] = face


def seed_file(database) -> str:
    """SOUZA's traveller file, opened at an entry of hers; its file id."""
    crossing_id = str(uuid.uuid4())
    new = gate_calls.NewCrossing(
        crossing_id=crossing_id, station="FRA-T1-G03", border_point="FRA-T1", direction=m.Direction.ENTRY,
        occurred_at=NOW - dt.timedelta(days=40),
        document=gate_calls.DocumentData("BR123456", "P", "BRA", dt.date(2031, 8, 1)),
        traveller=gate_calls.TravellerData("SOUZA", "ANA PAULA", "BRA", "F", dt.date(1974, 2, 7)),
        decision=m.GateDecision.OPEN, reasons=[], checks=[], face_score=0.95)
    gate = audit_log.Caller("FRA-T1-G03", "")

    def work(session):
        gate_calls.record_crossing(session, gate, new, RiskRules.load(None))
        return files.enrol(session, gate, crossing_id, FaceQuery((0.1,) * 128, "dlib-resnet-v1", "1.0-68pt"),
                           jpeg((10, 200, 10)), Gallery(), StayRules()).file_id
    return database.run(work)


def test_the_other_identitys_file_is_shown_beside_the_traveller_and_its_read_audited(desk):
    file_id = seed_file(desk.database)
    referral_id = seed_referral(desk.database, evidence=ReferralEvidence(
        jpeg(), jpeg((200, 180, 170)), (ReferralCandidate(files.TRAVELLERS_GALLERY, file_id, 0.95),)),
        note_reasons=[f"traveller.file: possible multiple identity: the live face matches file {file_id}"])
    client = desk.signed_in("officer")
    page = client.get(f"/referrals/{referral_id}").get_data(as_text=True)
    matches = page[page.index('id="file-matches"'):page.index('id="why-h"')]
    for text in ("Possible multiple identity", "MUSTERMANN", "C01X00T47", f"Traveller file {file_id}", "SOUZA",
                 "ANA PAULA", "P BRA BR123456", "by FRA-T1-G03", "95%"):
        assert text in matches, text
    # Not a watchlist candidate: the file is no "subject without an alert".
    assert "no alert at central names this subject" not in page
    file_photo = re.search(r'src="(/photos/[A-Za-z0-9_-]{43})" alt="Face enrolled in traveller file', matches)
    response = client.get(file_photo.group(1))
    assert response.status_code == 200 and response.mimetype == "image/jpeg"
    entries = desk.database.run(lambda s: [(e.action, e.subject, e.purpose) for e in s.scalars(
        select(m.AuditEntry).where(m.AuditEntry.user_name == USERS["officer"]))])
    assert ("GetTravellerFile", "person SOUZA, ANA PAULA 1974-02-07", "secondary inspection") in entries
    assert ("ViewPhoto", f"traveller file {file_id} live photo", "secondary inspection") in entries

    analyst = desk.signed_in("analyst")
    assert analyst.get(file_photo.group(1)).status_code == 403
