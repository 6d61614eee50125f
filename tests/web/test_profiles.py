"""The risk profiles page: a profile put in force (versioned), one on nationality alone refused and audited."""
from __future__ import annotations

from sqlalchemy import select

from central.database import models as m
from tests.web.conftest import USERS, csrf_token, notices_after


def post(client, **form):
    return client.post("/profiles", data={"csrf_token": csrf_token(client, "/profiles"), "weight": "0.6", **form})


def test_a_profile_is_put_in_force_and_its_next_version_replaces_it(desk):
    client = desk.signed_in("intelligence")
    first = post(client, name="ring", route="FRA-T1 ENTRY", age_from="18", age_to="35", min_crossings="2",
                 within_days="60")
    assert notices_after(client, first) == [
        "Profile ring v1 is in force: the gates apply it from their next traveller."]
    post(client, name="ring", route="FRA-T1 ENTRY", document_type="P")
    page = client.get("/profiles").get_data(as_text=True)
    assert "<b>ring</b> v2" in page and "route FRA-T1 ENTRY; document type P" in page and "v1" not in page
    assert desk.database.run(lambda s: list(s.scalars(select(m.RiskProfile.author)))) == [USERS["intelligence"]] * 2


def test_a_profile_on_nationality_alone_is_refused_with_the_reason_and_audited(desk):
    client = desk.signed_in("intelligence")
    refused = post(client, name="by passport colour", nationality="XXA")
    page = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "discrimination risk" in page
    assert desk.database.run(lambda s: s.scalar(select(m.RiskProfile))) is None
    outcome = desk.database.run(lambda s: s.scalar(select(m.AuditEntry.outcome).where(
        m.AuditEntry.action == "RiskProfiles")))
    assert outcome.startswith("NOT WRITTEN: a profile on nationality alone is refused")


def test_a_retired_profile_leaves_the_gates_and_only_the_intelligence_role_writes_them(desk):
    client = desk.signed_in("intelligence")
    post(client, name="ring", route="FRA-T1")
    retired = client.post("/profiles/ring/retire", data={"csrf_token": csrf_token(client, "/profiles")})
    assert notices_after(client, retired) == ["Profile ring retired: the gates no longer apply it."]
    assert "No profile in force." in client.get("/profiles").get_data(as_text=True)
    for role in ("officer", "supervisor", "analyst", "administrator"):
        assert desk.signed_in(role).get("/profiles").status_code == 403, role
