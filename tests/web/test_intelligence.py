"""The intelligence pages: a report filed from the referral page, read on need to know, the cycle."""
from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import select

from central.access.audit import Caller
from central.database import models as m
from central.intelligence import clearance
from tests.web.conftest import NOW, USERS, csrf_token, notices_after


def clear(desk, role: str, unit: str, level: str) -> None:
    desk.database.run(lambda s: clearance.set_clearance(s, Caller("test", "test"), USERS[role], unit, level))


def file_from_referral(desk, client, **form):
    path = f"/intel/new?referral={desk.referral_id}"
    page = client.get(path).get_data(as_text=True)
    links = re.search(r'<textarea name="links"[^>]*>(.*?)</textarea>', page, re.S).group(1)
    fields = {"text": "Travelling with two men who paid cash", "source_kind": "officer", "source_evaluation": "1",
              "assessment": "A", "handling_code": "P", "classification": "OFFICIAL", "review_by": "2027-06-01",
              "links": links, "referral": desk.referral_id, "originator": "someone.else",
              "csrf_token": csrf_token(client, path)}
    fields.update(form)
    return client.post("/intel/new", data=fields)


def test_an_officer_files_from_the_referral_page_as_themselves_linked_to_the_referral(desk):
    client = desk.signed_in("officer")
    page = client.get(f"/referrals/{desk.referral_id}").get_data(as_text=True)
    assert f'href="/intel/new?referral={desk.referral_id}" id="file-intel"' in page
    response = file_from_referral(desk, client)
    assert response.headers["Location"] == f"/referrals/{desk.referral_id}"
    assert any(n.startswith("Intelligence report filed") and "1A P" in n for n in notices_after(client, response))
    report = desk.database.run(lambda s: s.scalar(select(m.IntelReport)))
    assert report.originator == USERS["officer"] and report.unit == clearance.DEFAULT_UNIT
    kinds = desk.database.run(lambda s: sorted(s.scalars(select(m.IntelLink.kind))))
    assert kinds == ["crossing", "document", "person", "referral"]
    assert client.get("/intel").status_code == 403  # officers file; they do not read the unit's reports


def short_form(page: str) -> dict:
    """The fields the referral page's short report form sends as it stands (its defaults, its ticked links)."""
    form = page.split('id="intel-form"', 1)[1].split("</form>", 1)[0]
    fields: dict[str, list[str]] = {}
    for name, value in re.findall(r'<input type="(?:hidden|checkbox)" name="(\w+)" value="([^"]*)"', form):
        fields.setdefault(name, []).append(value)
    for name, options in re.findall(r'<select name="(\w+)"[^>]*>(.*?)</select>', form, re.S):
        fields[name] = re.findall(r'<option value="([^"]*)" selected>', options)
    return fields


def test_the_short_form_on_the_referral_page_files_with_its_defaults_and_links(desk):
    client = desk.signed_in("officer")
    page = client.get(f"/referrals/{desk.referral_id}").get_data(as_text=True)
    fields = short_form(page)
    assert {k: v for k, v in fields.items() if k not in ("csrf_token", "link", "referral")} == {
        "source_kind": ["officer"], "source_evaluation": ["1"], "assessment": ["A"], "handling_code": ["P"],
        "classification": ["OFFICIAL"]}
    assert [link.split(":")[0] for link in fields["link"]] == ["referral", "crossing", "person", "document"]
    response = client.post("/intel/new", data=fields | {"text": ["Paid the fare of two others in cash"],
                                                         "originator": ["someone.else"]})
    assert response.status_code == 302 and response.headers["Location"] == f"/referrals/{desk.referral_id}"
    report = desk.database.run(lambda s: s.scalar(select(m.IntelReport)))
    assert (report.originator, report.source_kind, report.classification) == (USERS["officer"], "officer", "OFFICIAL")
    assert report.review_by == NOW.date() + dt.timedelta(days=365)  # the web desk's clock, a year on
    kinds = desk.database.run(lambda s: sorted(s.scalars(select(m.IntelLink.kind))))
    assert kinds == ["crossing", "document", "person", "referral"]
    audited = desk.database.run(lambda s: list(s.scalars(select(m.AuditEntry.purpose).where(
        m.AuditEntry.action == "GetReferral", m.AuditEntry.user_name == USERS["officer"]))))
    assert "intelligence report" in audited  # the referral read, on need to know, to file from it


def test_a_referral_outside_the_officers_need_to_know_cannot_be_reported_on(desk):
    from central.access import scope
    from central.access.roles import Kind

    client = desk.signed_in("officer")
    fields = short_form(client.get(f"/referrals/{desk.referral_id}").get_data(as_text=True))
    desk.database.run(lambda s: scope.set_scope(s, Caller("test", "admin"), Kind.USER, USERS["officer"], "BPOL",
                                                ("BER-T1",)))
    response = client.post("/intel/new", data=fields | {"text": ["Seen before"]})
    assert response.status_code == 403
    assert desk.database.run(lambda s: s.scalar(select(m.IntelReport))) is None
    refused = desk.database.run(lambda s: s.scalar(select(m.AuditEntry.outcome).where(
        m.AuditEntry.user_name == USERS["officer"], m.AuditEntry.outcome.like("%PERMISSION_DENIED%"))))
    assert refused and "FRA-T1" in refused


def test_a_bad_grading_is_shown_and_the_text_kept(desk):
    client = desk.signed_in("officer")
    response = file_from_referral(desk, client, handling_code="C", handling_conditions="")
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "needs its conditions recorded" in page
    assert "Travelling with two men who paid cash" in page
    assert desk.database.run(lambda s: s.scalar(select(m.IntelReport))) is None


def test_a_legacy_grading_is_mapped(desk):
    clear(desk, "intelligence", "RAU", "SECRET")
    client = desk.signed_in("intelligence")
    response = file_from_referral(desk, client, legacy="B24", referral="")
    reference = response.headers["Location"].rsplit("/", 1)[1]
    page = client.get(f"/intel/{reference}").get_data(as_text=True)
    assert '<code id="grading">2A C</code>' in page and "B24 (5x5x5)" in page
    assert "within the originating agency only" in page


def test_need_to_know_decides_what_the_unit_reads_and_every_view_is_audited(desk):
    clear(desk, "intelligence", "RAU", "CONFIDENTIAL")
    clear(desk, "supervisor", "AIRPORT-FRA", "SECRET")
    analyst = desk.signed_in("intelligence")
    response = file_from_referral(desk, analyst, classification="CONFIDENTIAL", referral="",
                                  sanitised_text="A traveller was seen with two men.")
    reference = response.headers["Location"].rsplit("/", 1)[1]
    full = analyst.get(f"/intel/{reference}").get_data(as_text=True)
    assert "Travelling with two men who paid cash" in full and "MUSTERMANN" in full
    supervisor = desk.signed_in("supervisor")
    sanitised = supervisor.get(f"/intel/{reference}").get_data(as_text=True)
    assert "A traveller was seen with two men." in sanitised and "paid cash" not in sanitised
    assert "MUSTERMANN" not in sanitised and "not disseminated to unit AIRPORT-FRA" in sanitised
    listing = analyst.get("/intel").get_data(as_text=True)
    assert reference in listing
    actions = desk.database.run(lambda s: list(s.execute(select(m.AuditEntry.user_name, m.AuditEntry.action).where(
        m.AuditEntry.action.in_(("ReadIntelReport", "ListIntelReports")))).all()))
    assert (USERS["supervisor"], "ReadIntelReport") in actions
    assert (USERS["intelligence"], "ListIntelReports") in actions


def test_a_report_above_clearance_without_a_sanitised_version_is_refused(desk):
    clear(desk, "intelligence", "RAU", "SECRET")
    clear(desk, "supervisor", "RAU", "OFFICIAL")
    response = file_from_referral(desk, desk.signed_in("intelligence"), classification="SECRET", referral="")
    reference = response.headers["Location"].rsplit("/", 1)[1]
    assert desk.signed_in("supervisor").get(f"/intel/{reference}").status_code == 403
    denied = desk.database.run(lambda s: s.scalar(select(m.AuditEntry.outcome).where(
        m.AuditEntry.action == "ReadIntelReport", m.AuditEntry.user_name == USERS["supervisor"])))
    assert denied == "PERMISSION_DENIED: classified SECRET, above your clearance OFFICIAL"


def test_the_cycle_page_records_a_tasking_and_a_step(desk):
    clear(desk, "supervisor", "RAU", "SECRET")
    clear(desk, "intelligence", "RAU", "SECRET")
    supervisor = desk.signed_in("supervisor")
    form = {"stage": "tasking", "title": "Who organises the Tuesday groups?", "owner": USERS["intelligence"],
            "due": "2026-12-10", "csrf_token": csrf_token(supervisor, "/intel/cycle")}
    assert supervisor.post("/intel/cycle", data=form).status_code == 302
    analyst = desk.signed_in("intelligence")
    page = analyst.get("/intel/cycle").get_data(as_text=True)
    assert '<option value="tasking"' not in page  # only supervisors issue taskings
    tasking = re.search(r'<option value="(\d+)">#\d+ Who organises', page).group(1)
    step = {"stage": "analysis", "parent": tasking, "title": "Co-travel at FRA-T1",
            "csrf_token": csrf_token(analyst, "/intel/cycle")}
    assert analyst.post("/intel/cycle", data=step).status_code == 302
    page = analyst.get("/intel/cycle").get_data(as_text=True)
    assert "Co-travel at FRA-T1" in page and f"owner {USERS['intelligence']}" in page
    refused = analyst.post("/intel/cycle", data={**step, "stage": "tasking", "parent": ""})
    assert refused.status_code == 400 and "only supervisors issue taskings" in refused.get_data(as_text=True)


def test_the_report_page_exports_stix_for_partners_or_says_why_not(desk):
    import json

    clear(desk, "intelligence", "RAU", "SECRET")
    analyst = desk.signed_in("intelligence")
    shared = file_from_referral(desk, analyst, referral="", sanitised_text="A traveller paid cash for two others.")
    reference = shared.headers["Location"].rsplit("/", 1)[1]
    assert f'href="/intel/{reference}/stix"' in analyst.get(f"/intel/{reference}").get_data(as_text=True)
    response = analyst.get(f"/intel/{reference}/stix")
    assert response.mimetype == "application/json" and "attachment" in response.headers["Content-Disposition"]
    objects = json.loads(response.get_data(as_text=True))["objects"]
    assert [o["name"] for o in objects if o["type"] == "marking-definition"] == ["TLP:GREEN"]
    assert "MUSTERMANN" not in response.get_data(as_text=True)
    secret = file_from_referral(desk, analyst, referral="", classification="SECRET", sanitised_text="x")
    refused = analyst.get(f"/intel/{secret.headers['Location'].rsplit('/', 1)[1]}/stix")
    assert notices_after(analyst, refused)[-1] == "Not exported: a SECRET report is not exported."
    assert desk.signed_in("supervisor").get(f"/intel/{reference}/stix").status_code == 403
