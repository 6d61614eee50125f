"""The desk's advance passenger data pages: flights, targeting lists with reasons, reconciliation; roles and audit."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from central.access.audit import Caller
from central.alerts.lists import NewDocumentAlert, add_document_alert
from central.database import models as m
from central.passengers.intake import import_message

from .conftest import NOW

MESSAGE = Path(__file__).parent.parent / "central" / "api_messages" / "paxlst_d02b_passengers.edi"
LH400 = "LH400/FRA/2026-12-07"


def with_manifest(desk) -> None:
    desk.database.run(lambda s: add_document_alert(s, Caller(user="admin"), NewDocumentAlert(
        "DA-77", "L898902C3", "P", "USA", m.DocumentAlertReason.STOLEN, "seize the passport", "", None, None)))
    import_message(desk.database, Caller(station="LH-API"), MESSAGE.read_bytes(), NOW)


def test_an_officer_sees_the_flight_and_its_targeting_list_with_reasons(desk):
    with_manifest(desk)
    client = desk.signed_in("officer")
    flights = client.get("/flights").get_data(as_text=True)
    assert "LH400" in flights and 'href="/flights/targets?flight=LH400/FRA/2026-12-07"' in flights
    page = client.get(f"/flights/targets?flight={LH400}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "DOE, JOHN WAYNE" in text and "document alert DA-77: STOLEN (exact) on P USA L898902C3" in text
    assert "MUSTERMANN" not in text  # cleared passengers only with everyone=1
    assert "MUSTERMANN" in client.get(f"/flights/targets?flight={LH400}&everyone=1").get_data(as_text=True)
    audited = desk.database.run(lambda s: s.execute(select(m.AuditEntry.user_name, m.AuditEntry.subject).where(
        m.AuditEntry.action == "ReadTargetingList")).all())
    assert ("olga.officer", f"flight {LH400}") in audited
    assert client.get("/flights/targets?flight=XX1/FRA/2026-12-07").status_code == 404


def test_roles_are_enforced_on_the_passenger_pages(desk):
    with_manifest(desk)
    analyst = desk.signed_in("analyst")
    assert analyst.get("/flights").status_code == 403
    assert analyst.get(f"/flights/targets?flight={LH400}").status_code == 403
    officer = desk.signed_in("officer")
    assert officer.get(f"/flights/reconciliation?flight={LH400}&border_point=FRA-T1").status_code == 403
    supervisor = desk.signed_in("supervisor")
    page = supervisor.get(f"/flights/reconciliation?flight={LH400}&border_point=FRA-T1")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "No-shows" in text and "ROSSI, MARIO" in text
    assert desk.client().get("/flights").status_code == 302  # to sign-in


def test_supervisors_see_the_values_pnrs_share_and_officers_do_not(desk):
    for name in ("pnrgov_11_1.edi", "pnrgov_13_1.edi"):
        import_message(desk.database, Caller(station="API"), (MESSAGE.parent / name).read_bytes(), NOW)
    supervisor = desk.signed_in("supervisor")
    text = supervisor.get("/flights/links?kind=payment").get_data(as_text=True)
    assert "KL8M2N" in text and "PQ4R5S" in text and "4111" not in text
    linked = supervisor.get("/flights/links?locator=QX7Y2Z").get_data(as_text=True)
    assert "AB12CD" in linked and "agency: 34567890" in linked
    assert supervisor.get("/flights/links?locator=NOPE00").status_code == 404
    assert desk.signed_in("officer").get("/flights/links").status_code == 403
