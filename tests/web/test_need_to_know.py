"""Need to know on the web desk (central.access.scope): another agency's alert and a referral outside the
user's border points are refused (403, audited); searches show only what the user may see."""
from __future__ import annotations

from sqlalchemy import select

from central.access import scope
from central.access.audit import Caller
from central.access.roles import Kind
from central.alerts import lists as alert_lists
from central.database import models as m

from .conftest import USERS


def customs_alert(desk, number: str) -> str:
    """A C alert issued by a customs administrator."""
    cli = Caller("cli", "test")
    desk.database.run(lambda s: scope.set_scope(s, cli, Kind.USER, "customs-admin", "CUSTOMS"))
    new = alert_lists.NewDocumentAlert("", number, "P", "", m.DocumentAlertReason.STOLEN, "call customs", "",
                                       None, None, handling_code="C", handling_conditions="customs only")
    return desk.database.run(lambda s: alert_lists.add_document_alert(s, Caller("web-desk", "customs-admin"),
                                                                     new).alert_id)


def put_in(desk, role: str, agency: str, *border_points: str) -> None:
    cli = Caller("cli", "test")
    desk.database.run(lambda s: scope.set_scope(s, cli, Kind.USER, USERS[role], agency, border_points))


def last_audit(desk) -> m.AuditEntry:
    return desk.database.run(lambda s: s.scalars(select(m.AuditEntry).order_by(m.AuditEntry.id.desc())).first())


def test_another_agencys_alert_is_refused_and_audited(desk):
    alert_id = customs_alert(desk, "W1000001")
    put_in(desk, "administrator", "BPOL")
    client = desk.signed_in("administrator")
    assert client.get(f"/watchlists/{alert_id}").status_code == 403
    row = last_audit(desk)
    assert (row.user_name, row.action) == (USERS["administrator"], "GetAlert")
    assert row.outcome.startswith("PERMISSION_DENIED") and "handling C of CUSTOMS" in row.outcome
    page = client.get("/watchlists?q=W1000001").get_data(as_text=True)
    assert alert_id not in page and "call customs" not in page
    assert "1 withheld (need to know)" in last_audit(desk).outcome


def test_the_owning_agency_sees_its_alert(desk):
    alert_id = customs_alert(desk, "W1000002")
    put_in(desk, "administrator", "CUSTOMS")
    client = desk.signed_in("administrator")
    response = client.get(f"/watchlists/{alert_id}")
    assert response.status_code == 200 and "W1000002" in response.get_data(as_text=True)


def test_a_referral_outside_the_officers_border_points_is_refused(desk):
    put_in(desk, "officer", "BPOL", "MUC-T2")
    client = desk.signed_in("officer")
    assert client.get(f"/referrals/{desk.referral_id}").status_code == 403
    row = last_audit(desk)
    assert (row.user_name, row.action) == (USERS["officer"], "GetReferral")
    assert "outside the principal's border points" in row.outcome
    put_in(desk, "officer", "BPOL", "FRA-T1")
    assert client.get(f"/referrals/{desk.referral_id}").status_code == 200


def test_an_alert_issued_on_the_desk_keeps_its_handling_through_an_edit(desk):
    from .conftest import csrf_token

    cli = Caller("cli", "test")
    desk.database.run(lambda s: scope.set_scope(s, cli, Kind.USER, USERS["administrator"], "BPOL", (),
                                                "RESTRICTED"))
    client = desk.signed_in("administrator")
    form = {"document_number": "W1000003", "reason": "STOLEN", "handling_code": "C",
            "handling_conditions": "police only", "classification": "RESTRICTED", "handling_instruction": "seize"}
    response = client.post("/watchlists/new/document", data={**form, "csrf_token": csrf_token(
        client, "/watchlists/new/document")})
    assert response.status_code == 302, response.get_data(as_text=True)[:400]
    alert_id = response.headers["Location"].rsplit("/", 1)[1]
    edited = client.post(f"/watchlists/{alert_id}", data={
        **form, "kind": "document", "handling_instruction": "seize it",
        "csrf_token": csrf_token(client, f"/watchlists/{alert_id}")})
    assert edited.status_code == 302, edited.get_data(as_text=True)[-1500:]
    alert = desk.database.run(lambda s: s.scalars(select(m.DocumentAlert).where(
        m.DocumentAlert.alert_id == alert_id)).one())
    assert (alert.owning_agency, alert.handling_code, alert.handling_conditions, alert.classification,
            alert.handling_instruction) == ("BPOL", "C", "police only", "RESTRICTED", "seize it")
