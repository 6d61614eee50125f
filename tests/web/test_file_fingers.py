"""The referral page shows what the traveller's own file holds of fingers (positions, quality, who enrolled),
never a template or an image, and the read is audited under the officer."""
from __future__ import annotations

import uuid

from sqlalchemy import select

from central.database import models as m
from tests.web.conftest import USERS, seed_referral


def give_file_fingers(database, referral_id: str) -> str:
    """A traveller file for the referral's traveller, with two fingers a desk officer enrolled; its id."""
    file_id = str(uuid.uuid4())

    def work(session):
        crossing = session.scalar(select(m.Crossing).where(m.Crossing.crossing_id == referral_id))
        file = m.TravellerFile(file_id=file_id, traveller_id=crossing.traveller_id, template=b"\0" * 512,
                               template_model="dlib-resnet-v1", template_model_version="1.0-68pt",
                               border_point_id=crossing.border_point_id, created_by_station="FRA-T1-D01",
                               created_by_user="officer-9")
        session.add(file)
        session.flush()
        for position, quality in ((2, 71), (7, 64)):
            session.add(m.TravellerFinger(traveller_file_id=file.id, position=position, iso19794_2=b"FMR\0",
                                          wsq=b"\xff\xa0", quality=quality, minutiae=38,
                                          enrolled_by_station="FRA-T1-D01", enrolled_by_user="officer-9"))
    database.run(work)
    return file_id


def test_the_files_fingers_are_listed_on_the_referral_and_the_read_audited(desk):
    referral_id = seed_referral(desk.database, note_reasons=["finger.file_verification: live finger does not match"])
    client = desk.signed_in("officer")
    assert 'id="file-fingers"' not in client.get(f"/referrals/{referral_id}").get_data(as_text=True)
    file_id = give_file_fingers(desk.database, referral_id)
    page = client.get(f"/referrals/{referral_id}").get_data(as_text=True)
    section = page[page.index('id="file-fingers"'):page.index('id="why-h"')]
    for text in (f"Fingerprints in traveller file {file_id}", "right index", "left index", "71", "64",
                 "by officer-9 at FRA-T1-D01"):
        assert text in section, text
    entries = desk.database.run(lambda s: [(e.action, e.outcome, e.purpose) for e in s.scalars(
        select(m.AuditEntry).where(m.AuditEntry.user_name == USERS["officer"]))])
    assert ("GetFileFingerprints", f"file {file_id}: 2 finger(s)", "secondary inspection") in entries
