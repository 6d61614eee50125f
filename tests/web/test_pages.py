"""The web desk's pages and actions through Flask's test client: each role's work, audited."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from central.access.audit import Caller
from central.alerts import lists
from central.database import models as m
from central.records.evidence import ReferralEvidence
from central.statistics import tables as statistics
from tests.web.conftest import USERS, csrf_token, jpeg, notices, notices_after, seed_referral

ADMITTED = "Decision recorded: admitted. The crossing record and the gate have it."


def audit_actions(desk, user: str) -> list[str]:
    return desk.database.run(lambda s: list(s.scalars(
        select(m.AuditEntry.action).where(m.AuditEntry.user_name == user).order_by(m.AuditEntry.id))))


def test_each_role_lands_on_its_page_and_sees_only_its_menu(desk):
    homes = {"officer": "/queue", "supervisor": "/queue", "analyst": "/statistics", "administrator": "/watchlists",
             "intelligence": "/intel"}
    menus = {"officer": {"Referral queue", "Flights"},
             "supervisor": {"Referral queue", "Flights", "Watchlists", "Intelligence", "Audit"},
             "analyst": {"Statistics", "Trends"}, "administrator": {"Watchlists", "Sites"},
             "intelligence": {"Statistics", "Trends", "Intelligence", "Network", "Profiles"}}
    for role, home in homes.items():
        client = desk.signed_in(role)
        response = client.get("/")
        assert response.status_code == 302 and response.headers["Location"] == home
        page = client.get(home).get_data(as_text=True)
        nav = re.search(r'<nav aria-label="Main">(.*?)</nav>', page, re.S).group(1)
        assert set(re.findall(r">([A-Z][a-z]+(?: [a-z]+)?)</a>", nav)) == menus[role], role


def test_the_site_has_an_icon(desk):
    response = desk.client().get("/favicon.ico")
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    assert response.get_data(as_text=True).startswith("<svg")
    linked = desk.client().get(re.search(r'<link rel="icon" href="([^"]+)"', desk.client().get(
        "/sign-in").get_data(as_text=True)).group(1))
    assert linked.status_code == 200 and linked.mimetype == "image/svg+xml"


def test_queue_lists_the_referral_with_why_and_is_audited(desk):
    client = desk.signed_in("officer")
    page = client.get("/queue").get_data(as_text=True)
    assert "MUSTERMANN" in page and "face.verification" in page and "1 watchlist candidate" in page
    rows = client.get("/queue/rows", headers={"X-Limes-Poll": "1"}).get_data(as_text=True)
    assert desk.referral_id in rows and "<html" not in rows
    assert "ListReferrals" in audit_actions(desk, USERS["officer"])


def test_queue_is_newest_first_and_filters_by_border_point(desk):
    second = seed_referral(desk.database, surname="ROE", occurred_at=desk.clock())
    client = desk.signed_in("officer")
    page = client.get("/queue").get_data(as_text=True)
    assert page.index(second) < page.index(desk.referral_id)
    assert "No referrals open or escalated at BER-T1" in client.get("/queue?border_point=BER-T1").get_data(as_text=True)


def test_referral_page_shows_the_evidence_side_by_side_and_audits_each_view(desk):
    client = desk.signed_in("officer")
    page = client.get(f"/referrals/{desk.referral_id}").get_data(as_text=True)
    for text in ("Live capture at the gate", "Chip photo (DG2)", "31%", "no match", "PA-1", "82%",
                 "face.verification", "Crossing history", "(this crossing)",
                 "Stays", "2026-11-25 FRA-T1", "still inside", "no limit"):  # a German citizen: free movement
        assert text in page, text
    photos = re.findall(r'src="(/photos/[A-Za-z0-9_-]{43})"', page)
    assert len(photos) == 2  # live and chip; the candidate has no alert at central, so no photo
    for url in photos:
        response = client.get(url)
        assert response.status_code == 200 and response.mimetype == "image/jpeg"
        assert response.headers["Cache-Control"] == "private, no-store"
    actions = audit_actions(desk, USERS["officer"])
    for action in ("GetReferral", "CheckDocument", "CheckPerson", "GetWatchlistCandidates", "GetTravellerHistory"):
        assert action in actions
    assert actions.count("ViewPhoto") == 2


def decide(client, referral_id, **form):
    token = csrf_token(client, f"/referrals/{referral_id}")
    return client.post(f"/referrals/{referral_id}/decision", data={"csrf_token": token, **form})


def test_admit_reaches_the_crossing_record(desk):
    client = desk.signed_in("officer")
    response = decide(client, desk.referral_id, decision="admit", note="spoke to her; old photo")
    assert response.headers["Location"] == f"/referrals/{desk.referral_id}"
    assert notices_after(client, response) == [ADMITTED]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "old photo" in page and "Decision recorded" not in page  # the notice is shown once
    referral = desk.database.run(lambda s: s.scalar(select(m.Referral).where(
        m.Referral.referral_id == desk.referral_id)))
    assert referral.status is m.ReferralStatus.ADMITTED
    decision = desk.database.run(lambda s: s.scalar(select(m.OfficerDecision)))
    assert (decision.officer, decision.decision, decision.note) == (
        USERS["officer"], m.ReferralStatus.ADMITTED, "spoke to her; old photo")


def test_refusal_needs_a_ground_from_the_list(desk):
    client = desk.signed_in("officer")
    response = decide(client, desk.referral_id, decision="refuse", ground="because I say so")
    assert notices_after(client, response) == ["a refusal needs its ground: choose one from the list"]
    response = decide(client, desk.referral_id, decision="refuse", ground="B")
    assert notices_after(client, response) == [ADMITTED.replace("admitted", "refused")]
    decision = desk.database.run(lambda s: s.scalar(select(m.OfficerDecision)))
    assert decision.reason == "B: has a false, counterfeit or forged travel document"


def test_escalated_referral_waits_for_a_supervisor(desk):
    officer = desk.signed_in("officer")
    assert notices_after(officer, decide(officer, desk.referral_id, decision="escalate")) == [
        "say in the note why you escalate"]
    assert notices_after(officer, decide(officer, desk.referral_id, decision="escalate",
                                         note="documents look fine, face does not")) == [
        ADMITTED.replace("admitted", "escalated")]
    page = officer.get(f"/referrals/{desk.referral_id}").get_data(as_text=True)
    assert "Escalated: a supervisor decides." in page and 'value="admit"' not in page
    refused = decide(officer, desk.referral_id, decision="admit")
    assert "supervisor decides" in notices_after(officer, refused)[0]
    supervisor = desk.signed_in("supervisor")
    assert 'value="admit"' in supervisor.get(f"/referrals/{desk.referral_id}").get_data(as_text=True)
    assert notices_after(supervisor, decide(supervisor, desk.referral_id, decision="admit",
                                            note="checked with the issuing state")) == [ADMITTED]
    statuses = desk.database.run(lambda s: [d.decision for d in s.scalars(select(m.OfficerDecision))])
    assert statuses == [m.ReferralStatus.ESCALATED, m.ReferralStatus.ADMITTED]


def test_unknown_or_malformed_referral_is_not_found(desk):
    client = desk.signed_in("officer")
    assert client.get("/referrals/not-a-uuid").status_code == 404
    assert client.get("/referrals/00000000-0000-4000-8000-000000000000").status_code == 404


def test_statistics_page_and_csv_suppress_small_cells(desk):
    client = desk.signed_in("analyst")
    page = client.get("/statistics?by=nationality&period=day&from=2026-11-01&to=2026-11-30")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "&lt;5" in text and "MUSTERMANN" not in text
    csv = client.get("/statistics.csv?by=nationality&period=month&from=2026-11-01&to=2026-11-30")
    assert csv.mimetype == "text/csv" and "attachment" in csv.headers["Content-Disposition"]
    assert csv.get_data(as_text=True).splitlines() == [
        "period,nationality,count", "2026-11,DEU,<5", "2026-11,TOTAL,<5", "ALL,TOTAL,<5"]
    bad = client.get("/statistics?by=shoe_size&from=2026-11-01&to=2026-11-30")
    assert bad.status_code == 400 and "shoe_size" in bad.get_data(as_text=True)
    assert audit_actions(desk, USERS["analyst"]).count("Statistics") == 2


def test_the_statistics_page_counts_overstays_by_nationality_and_border_point(desk):
    import uuid

    from central.access.audit import Caller
    from central.records import gate_calls
    from central.risk.rules import RiskRules

    new = gate_calls.NewCrossing(
        crossing_id=str(uuid.uuid4()), station="FRA-T1-G03", border_point="FRA-T1", direction=m.Direction.ENTRY,
        occurred_at=dt.datetime(2026, 6, 1, 10, tzinfo=dt.timezone.utc),
        document=gate_calls.DocumentData("U1234567", "P", "UTO", None),
        traveller=gate_calls.TravellerData("STAYER", "ANA", "UTO", "F", dt.date(1980, 1, 1)),
        decision=m.GateDecision.OPEN, reasons=[], checks=[], face_score=None)
    desk.database.run(lambda s: gate_calls.record_crossing(s, Caller("FRA-T1-G03", ""), new, RiskRules.load(None)))
    client = desk.signed_in("analyst")
    page = client.get("/statistics?subject=overstays&by=nationality&by=border_point&period=month"
                      "&from=2026-08-01&to=2026-11-30")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "Overstay statistics" in text and "STAYER" not in text
    csv = client.get("/statistics.csv?subject=overstays&by=nationality&by=border_point&period=month"
                     "&from=2026-08-01&to=2026-11-30")
    # Stayed from 1 June: 90 days through 29 August, over from 30 August.
    assert csv.get_data(as_text=True).splitlines() == [
        "period,nationality,border_point,count", "2026-08,UTO,FRA-T1,<5", "2026-08,TOTAL,TOTAL,<5",
        "ALL,TOTAL,TOTAL,<5"]
    assert 'filename="overstays-' in csv.headers["Content-Disposition"]
    bad = client.get("/statistics?subject=overstays&by=sex&from=2026-08-01&to=2026-11-30")
    assert bad.status_code == 400 and "overstays break down by nationality and border_point" in bad.get_data(
        as_text=True)


@pytest.mark.parametrize("query", ["to=9999-12-31", "from=9999-12-31&to=9999-12-31", "from=0001-01-01&to=2026-11-30",
                                   "from=2026-11-01&to=2100-01-01"])
def test_statistics_outside_the_days_that_can_be_asked_are_a_clear_400(desk, query):
    client = desk.signed_in("analyst")
    page = client.get(f"/statistics?{query}")
    assert page.status_code == 400 and "is outside 2000-01-01 to 2099-12-31" in page.get_data(as_text=True)
    csv = client.get(f"/statistics.csv?{query}")
    assert csv.status_code == 400 and "is outside 2000-01-01 to 2099-12-31" in csv.get_data(as_text=True)


def test_statistics_up_to_the_last_representable_day_count_without_overflow(desk):
    table = desk.database.run(lambda s: statistics.statistics(s, (), "day", dt.date(2026, 11, 1), dt.date.max))
    assert [total.period for total in table.period_totals] == ["2026-11-25"]


def test_audit_view_filters_and_is_itself_audited(desk):
    desk.signed_in("officer").get(f"/referrals/{desk.referral_id}")
    client = desk.signed_in("supervisor")
    page = client.get(f"/audit?user={USERS['officer']}&action=GetReferral").get_data(as_text=True)
    assert page.count("<code>GetReferral</code>") == 1 and "<code>SignIn</code>" not in page
    assert "ReadAuditLog" in audit_actions(desk, USERS["supervisor"])


def test_administrator_issues_edits_and_expires_a_document_alert(desk):
    client = desk.signed_in("administrator")
    token = csrf_token(client, "/watchlists/new/document")
    created = client.post("/watchlists/new/document", data={
        "csrf_token": token, "document_number": "X1234567", "document_type": "P", "issuing_state": "FRA",
        "reason": "STOLEN", "handling_instruction": "Seize it", "issuing_agency": "FR police"})
    assert created.status_code == 302
    url = created.headers["Location"]
    alert_id = url.rsplit("/", 1)[1]
    assert notices(client, url) == ["Saved. Gates take the change with their next alert update."]
    page = client.get(url).get_data(as_text=True)
    assert 'value="X1234567"' in page and "Saved" not in page
    edited = client.post(url, data={"csrf_token": csrf_token(client, url), "kind": "document",
                                    "document_number": "X1234568", "reason": "LOST", "issuing_state": "FRA"})
    assert notices_after(client, edited) == ["Saved. Gates take the change with their next alert update."]
    assert "X1234568" in client.get("/watchlists?q=1234568").get_data(as_text=True)
    expired = client.post(f"{url}/expire", data={"csrf_token": csrf_token(client, url), "reason": "found"})
    assert notices_after(client, expired) == ["alert withdrawn"]
    assert "X1234568" not in client.get("/watchlists?q=1234568").get_data(as_text=True)
    assert "X1234568" in client.get("/watchlists?q=1234568&all=1").get_data(as_text=True)
    alert = desk.database.run(lambda s: s.scalar(select(m.DocumentAlert).where(m.DocumentAlert.alert_id == alert_id)))
    assert alert.withdrawn and alert.number_norm == "X1234568" and alert.reason is m.DocumentAlertReason.LOST
    actions = audit_actions(desk, USERS["administrator"])
    assert {"AddDocumentAlert", "UpdateAlert", "WithdrawAlert", "SearchAlerts", "GetAlert"} <= set(actions)


def test_bad_alert_form_says_which_field(desk):
    client = desk.signed_in("administrator")
    response = client.post("/watchlists/new/person", data={
        "csrf_token": csrf_token(client, "/watchlists/new/person"), "surname": "ROE", "reason": "ENTRY_BAN",
        "birth_date": "12/08/1964"})
    assert response.status_code == 400 and "birth_date: a date as YYYY-MM-DD" in response.get_data(as_text=True)


def test_face_enrolled_from_an_uploaded_photo(desk, faces_dir):
    client = desk.signed_in("administrator")
    created = client.post("/watchlists/new/person", data={
        "csrf_token": csrf_token(client, "/watchlists/new/person"), "surname": "KOVAC", "given_names": "ALEKSANDAR",
        "reason": "ARREST", "handling_instruction": "Detain"})
    url = created.headers["Location"].split("?")[0]
    photo = (faces_dir / "obama" / "01.jpg").read_bytes()
    response = client.post(f"{url}/face", data={"csrf_token": csrf_token(client, url),
                                                 "photo": (__import__("io").BytesIO(photo), "../../etc/passwd")},
                           content_type="multipart/form-data")
    assert notices_after(client, response) == ["face enrolled"]
    alert = desk.database.run(lambda s: s.scalar(select(m.PersonAlert)))
    assert alert.matcher_subject_id == f"PA-{alert.alert_id}"
    assert len(desk.enroller.subjects[alert.matcher_subject_id]) == 128
    page = client.get(url).get_data(as_text=True)
    photo_url = re.search(r'src="(/photos/[A-Za-z0-9_-]{43})"', page).group(1)
    assert client.get(photo_url).mimetype == "image/jpeg"
    not_a_face = client.post(f"{url}/face", data={"csrf_token": csrf_token(client, url),
                                                  "photo": (__import__("io").BytesIO(b"GIF89a..."), "x.gif")},
                             content_type="multipart/form-data")
    assert "not a readable JPEG or PNG" in notices_after(client, not_a_face)[0]
    client.post(f"{url}/expire", data={"csrf_token": csrf_token(client, url), "reason": "arrested"})
    assert alert.matcher_subject_id not in desk.enroller.subjects  # the face left the matcher with the alert


def test_the_queue_refresh_audits_what_it_shows_first_not_every_poll(desk):
    client = desk.signed_in("officer")
    poll = {"X-Limes-Poll": "1"}

    def rows_written() -> list[tuple[str, str]]:
        return desk.database.run(lambda s: [(e.subject, e.outcome) for e in s.scalars(
            select(m.AuditEntry).where(m.AuditEntry.user_name == USERS["officer"],
                                       m.AuditEntry.action == "ListReferrals").order_by(m.AuditEntry.id))])

    client.get("/queue")
    assert len(rows_written()) == 1  # the page view
    for _ in range(5):  # an idle screen: five refreshes, nothing new on them
        assert desk.referral_id in client.get("/queue/rows", headers=poll).get_data(as_text=True)
    assert len(rows_written()) == 1
    second = seed_referral(desk.database, surname="ROE", occurred_at=desk.clock())
    for _ in range(3):
        assert second in client.get("/queue/rows", headers=poll).get_data(as_text=True)
    assert rows_written()[1:] == [(f"referral {second}", "shown by the queue's refresh")]  # once, when it appeared
    client.get("/queue")  # a new page view is audited again, as one row
    client.get("/queue/rows", headers=poll)
    assert len(rows_written()) == 3
    # Another filter is another view: its first refresh shows referrals this view has not shown.
    client.get("/queue/rows?status=escalated", headers=poll)
    client.get("/queue/rows?border_point=FRA-T1", headers=poll)
    assert [subject for subject, _ in rows_written()[3:]] == [f"referral {second}", f"referral {desk.referral_id}"]


def alerts_section(page: str) -> str:
    return re.search(r'<section class="card alerts[^"]*" aria-labelledby="alerts-h">(.*?)</section>', page,
                     re.S).group(1)


def test_a_watchlist_candidate_with_an_alert_is_a_hit_at_the_top_never_an_all_clear(desk):
    client = desk.signed_in("officer")
    before = client.get(f"/referrals/{desk.referral_id}").get_data(as_text=True)
    # The candidate PA-1 has no alert at central: no hit, and no all-clear either (the gate's 1:N search found it).
    assert "No document, person or watchlist alert" not in alerts_section(before)
    assert "1 watchlist candidate(s) with no alert in force at central" in alerts_section(before)
    desk.database.run(lambda s: s.add(m.PersonAlert(
        alert_id="a-kovac", surname="KOVAC", given_names="ALEKSANDAR", reason=m.PersonAlertReason.ARREST,
        handling_instruction="European Arrest Warrant: detain discreetly, call the duty officer.",
        issuing_agency="Europol", matcher_subject_id="PA-1", version=1)))
    page = client.get(f"/referrals/{desk.referral_id}").get_data(as_text=True)
    top = alerts_section(page)
    assert page.index('aria-labelledby="alerts-h"') < page.index('aria-labelledby="face-h"')  # above the evidence
    assert "1 hit" in top and "Watchlist face: KOVAC, ALEKSANDAR" in top and "arrest" in top
    assert "European Arrest Warrant: detain discreetly, call the duty officer." in top  # the alert's own words
    assert "pass-text" not in top and "No document" not in top
    # Withdrawn, the alert is no longer in force: no hit, and still no all-clear.
    desk.database.run(lambda s: setattr(s.scalar(select(m.PersonAlert)), "withdrawn", True))
    top = alerts_section(client.get(f"/referrals/{desk.referral_id}").get_data(as_text=True))
    assert 'class="hit"' not in top and "pass-text" not in top
    assert "1 watchlist candidate(s) with no alert in force at central" in top


def test_the_all_clear_only_when_nothing_was_found_or_left_unchecked(desk):
    clean = seed_referral(desk.database, surname="ROE", evidence=ReferralEvidence(jpeg(), jpeg(), ()))
    top = alerts_section(desk.signed_in("officer").get(f"/referrals/{clean}").get_data(as_text=True))
    assert "No document, person or watchlist alert in force on this traveller." in top


def test_the_1_to_1_box_says_what_happened(desk):
    checks = [{"name": "face.capture", "status": "FAIL", "reason": "yaw 31 degrees (at most 25)"},
              {"name": "face.verification", "status": "NOT_DONE", "reason": "no live face"}]
    undone = seed_referral(desk.database, surname="ROE", checks=checks, face_score=None)
    client = desk.signed_in("officer")
    box = re.search(r'id="face-verdict">(.*?)</div>', client.get(f"/referrals/{undone}").get_data(as_text=True),
                    re.S).group(1)
    assert "not done" in box and "no live face; face.capture failed: yaw 31 degrees (at most 25)" in box
    box = re.search(r'id="face-verdict">(.*?)</div>', client.get(f"/referrals/{desk.referral_id}").get_data(
        as_text=True), re.S).group(1)
    assert "no match" in box and "score 0.31" in box and "31%" in box


def test_admitting_past_failed_checks_has_a_confirm_step_listing_them(desk):
    page = desk.signed_in("officer").get(f"/referrals/{desk.referral_id}").get_data(as_text=True)
    confirm = re.search(r'<div class="confirm" id="admit-confirm"[^>]*hidden>(.*?)</div>\s*</div>', page, re.S).group(1)
    assert "<code>face.verification</code> failed: score 0.31" in confirm and 'id="admit-anyway"' in confirm
    assert "mrz.valid" not in confirm  # it passed


def test_photos_open_at_full_size(desk):
    page = desk.signed_in("officer").get(f"/referrals/{desk.referral_id}").get_data(as_text=True)
    links = re.findall(r'<a href="(/photos/[^"]+)" class="photo-link"><img src="(/photos/[^"]+)"', page)
    assert len(links) == 2 and all(href == src for href, src in links)


def test_the_history_columns_say_what_they_show(desk):
    page = desk.signed_in("officer").get(f"/referrals/{desk.referral_id}").get_data(as_text=True)
    assert '<th scope="col">Gate\'s decision</th><th scope="col">Referral status</th>' in page.replace("&#39;", "'")


def test_a_person_alert_typed_in_cyrillic_with_a_notice_is_found_by_its_mrz_form(desk):
    client = desk.signed_in("administrator")
    created = client.post("/watchlists/new/person", data={
        "csrf_token": csrf_token(client, "/watchlists/new/person"), "surname": "Гагарин", "given_names": "Юрий",
        "reason": "DISCREET_CHECK", "notice": "GREEN", "notice_kind": "DIFFUSION"})
    assert created.status_code == 302
    page = client.get("/watchlists?q=GAGARIN IURII").get_data(as_text=True)
    assert "Гагарин" in page and "green diffusion" in page
    url = created.headers["Location"].split("?")[0]
    form = client.get(url).get_data(as_text=True)
    assert '<option value="GREEN" selected>' in form and '<option value="DIFFUSION" selected>' in form


def test_a_notice_colour_not_on_the_list_is_refused_by_name(desk):
    client = desk.signed_in("administrator")
    response = client.post("/watchlists/new/person", data={
        "csrf_token": csrf_token(client, "/watchlists/new/person"), "surname": "ROE", "reason": "ARREST",
        "notice": "PINK"})
    assert response.status_code == 400 and "notice: one of RED, YELLOW" in response.get_data(as_text=True)


def test_a_stolen_blank_document_shows_its_category(desk):
    client = desk.signed_in("administrator")
    client.post("/watchlists/new/document", data={
        "csrf_token": csrf_token(client, "/watchlists/new/document"), "document_number": "B7000001",
        "reason": "STOLEN", "category": "STOLEN_BLANK"})
    assert "stolen blank" in client.get("/watchlists?q=B7000001").get_data(as_text=True)


def test_the_referral_shows_a_cyrillic_alerts_notice_beside_the_mrz_name(desk):
    referral = desk.referral_id  # the traveller MUSTERMANN, ERIKA, born 1964-08-12
    desk.database.run(lambda s: lists.add_person_alert(s, Caller("web-desk", "ivo"), lists.NewPersonAlert(
        "", "Мустерманн", "Эрика", dt.date(1964, 8, 12), "DEU", m.PersonAlertReason.ARREST, "Detain", "UTO-NCB",
        None, None, "", notice=m.PersonNotice.RED, notice_kind=m.NoticeKind.DIFFUSION)))
    top = alerts_section(desk.signed_in("officer").get(f"/referrals/{referral}").get_data(as_text=True))
    assert "Мустерманн" in top and "red diffusion" in top and "arrest" in top
