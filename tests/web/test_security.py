"""Attacks on the web desk: forged requests, stolen or stale sessions, guessing, roles beyond one's own,
hostile names and notes, photo paths."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from central.access import roles as access
from central.database import models as m
from central.records.evidence import ReferralEvidence
from central.web import accounts
from tests.web.conftest import PASSWORD, USERS, csrf_token, notices, notices_after, seed_referral, sign_in


def audit_outcomes(desk, action: str) -> list[str]:
    return desk.database.run(lambda s: list(s.scalars(
        select(m.AuditEntry.outcome).where(m.AuditEntry.action == action).order_by(m.AuditEntry.id))))


# ---------------------------------------------------------------- CSRF

def test_a_post_without_the_csrf_token_is_refused(desk):
    client = desk.signed_in("officer")
    response = client.post(f"/referrals/{desk.referral_id}/decision", data={"decision": "admit"})
    assert response.status_code == 400 and "Form expired" in response.get_data(as_text=True)
    assert desk.database.run(lambda s: s.scalar(select(m.OfficerDecision))) is None


def test_a_csrf_token_from_another_browser_is_refused(desk):
    attacker = desk.client()
    foreign = csrf_token(attacker)  # valid for the attacker's own browser only
    victim = desk.signed_in("officer")
    response = victim.post(f"/referrals/{desk.referral_id}/decision",
                           data={"decision": "admit", "csrf_token": foreign})
    assert response.status_code == 400
    assert desk.database.run(lambda s: s.scalar(select(m.OfficerDecision))) is None


def test_sign_in_itself_needs_the_token(desk):
    response = desk.client().post("/sign-in", data={"user": USERS["officer"], "password": PASSWORD})
    assert response.status_code == 400


@pytest.mark.parametrize("body, content_type", [
    (b"user=\xff\xfeolga&password=x&csrf_token=", "application/x-www-form-urlencoded"),
    (b"--b\r\nContent-Disposition: form-data; name=\"user\"\r\n\r\nolga\r\n--b\r", "multipart/form-data; boundary=b"),
])
def test_a_form_that_cannot_be_read_is_told_so(desk, body, content_type):
    client = desk.client()
    token = csrf_token(client).encode()
    response = client.post("/sign-in", data=body + token, content_type=content_type)
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "The form could not be read" in page and "Form expired" not in page


def test_cookies_are_http_only_and_same_site_strict(desk):
    client = desk.client()
    response = sign_in(client, USERS["officer"])
    cookies = response.headers.getlist("Set-Cookie")
    session = next(c for c in cookies if c.startswith("limes_session="))
    assert "HttpOnly" in session and "SameSite=Strict" in session


# ---------------------------------------------------------------- sessions

def test_an_idle_session_expires(desk):
    client = desk.signed_in("officer")
    desk.clock.advance(minutes=14)
    assert client.get("/queue").status_code == 200
    desk.clock.advance(minutes=14)  # 14 minutes since the last use: still alive
    assert client.get("/queue").status_code == 200
    desk.clock.advance(minutes=16)
    response = client.get("/queue")
    assert response.status_code == 302 and response.headers["Location"].startswith("/sign-in")


def test_the_live_queue_poll_does_not_keep_a_session_alive(desk):
    client = desk.signed_in("officer")
    for _ in range(4):
        desk.clock.advance(minutes=5)
        assert client.get("/queue/rows", headers={"X-Limes-Poll": "1"}).status_code in (200, 401)
    assert client.get("/queue/rows", headers={"X-Limes-Poll": "1"}).status_code == 401


def test_a_session_ends_after_a_shift_however_busy(desk):
    client = desk.signed_in("officer")
    for _ in range(59):
        desk.clock.advance(minutes=10)
        assert client.get("/queue/rows").status_code == 200
    desk.clock.advance(minutes=11)  # 10 h 1 min after sign-in
    assert client.get("/queue").status_code == 302


def test_signing_out_ends_the_session_for_good(desk):
    client = desk.signed_in("officer")
    cookie = client.get_cookie("limes_session").value
    token = csrf_token(client, "/queue")
    assert client.post("/sign-out", data={"csrf_token": token}).status_code == 302
    replay = desk.client()
    replay.set_cookie("limes_session", cookie)
    assert replay.get("/queue").status_code == 302  # the stolen cookie is worthless now


def test_a_forged_session_cookie_is_nobody(desk):
    client = desk.client()
    client.set_cookie("limes_session", "x" * 43)
    assert client.get("/queue").status_code == 302


def test_revoking_the_role_ends_the_session(desk):
    client = desk.signed_in("officer")
    desk.database.run(lambda s: access.revoke(s, access.Kind.USER, USERS["officer"]))
    assert client.get("/queue").status_code == 302


# ---------------------------------------------------------------- guessing

def refusal(response) -> tuple[int, str]:
    """What a sign-in answer says: its status and its notice."""
    notice = re.search(r'role="alert">(.*?)</p>', response.get_data(as_text=True), re.S)
    return response.status_code, notice.group(1) if notice else ""


def client_from(desk, address: str):
    client = desk.client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def test_repeated_failures_lock_the_account_even_to_the_right_password(desk):
    client = desk.client()
    for _ in range(5):
        response = sign_in(client, USERS["officer"], "guess")
        assert response.status_code == 401
    response = sign_in(client, USERS["officer"])
    assert response.status_code == 401
    desk.clock.advance(minutes=16)
    assert sign_in(desk.client(), USERS["officer"]).status_code == 302
    outcomes = audit_outcomes(desk, "SignIn")
    assert any("account locked" in o for o in outcomes) and any("refused: locked until" in o for o in outcomes)
    assert outcomes[-1].startswith("signed in") and outcomes[-1].endswith("(from 127.0.0.1)")


def test_unknown_user_and_wrong_password_read_the_same(desk):
    unknown = sign_in(desk.client(), "nobody", "guess").get_data(as_text=True)
    wrong = sign_in(desk.client(), USERS["analyst"], "guess").get_data(as_text=True)
    assert "wrong user name or password" in unknown and "wrong user name or password" in wrong


def test_a_locked_account_reads_the_same_as_an_unknown_one(desk):
    answers = {"unknown": refusal(sign_in(client_from(desk, "192.0.2.1"), "nobody", "guess"))}
    guesser = client_from(desk, "192.0.2.2")
    answers.update((f"wrong {attempt}", refusal(sign_in(guesser, USERS["analyst"], "guess"))) for attempt in range(5))
    answers["locked, right password"] = refusal(sign_in(client_from(desk, "192.0.2.3"), USERS["analyst"]))
    answers["locked, wrong password"] = refusal(sign_in(client_from(desk, "192.0.2.3"), USERS["analyst"], "guess"))
    assert set(answers.values()) == {answers["unknown"]}, answers
    assert answers["unknown"][0] == 401 and "wrong user name or password" in answers["unknown"][1]


class CountingHasher:
    """The argon2 hasher, counting its verifications."""

    def __init__(self, hasher):
        self.hasher, self.verifications = hasher, 0

    def verify(self, hashed, password):
        self.verifications += 1
        return self.hasher.verify(hashed, password)

    def __getattr__(self, name):
        return getattr(self.hasher, name)


def test_every_refusal_takes_an_argon2_verification_as_a_wrong_password_does(desk, monkeypatch):
    hasher = CountingHasher(accounts._hasher)
    monkeypatch.setattr(accounts, "_hasher", hasher)
    attempts = [("nobody", "guess")] + [(USERS["analyst"], "guess")] * 5 + [(USERS["analyst"], PASSWORD)]
    for user, password in attempts:
        before = hasher.verifications
        assert sign_in(desk.client(), user, password).status_code == 401
        assert hasher.verifications == before + 1, (user, password)


def test_one_address_spraying_guesses_is_refused_before_it_locks_accounts(desk):
    sprayer = client_from(desk, "203.0.113.9")
    for user in [USERS["officer"]] * 4 + [USERS["supervisor"]] * 4 + ["nobody"] * 2:
        assert sign_in(sprayer, user, "guess").status_code == 401
    refused = sign_in(sprayer, USERS["administrator"])  # the right password, from an address now refused
    assert refusal(refused) == refusal(sign_in(desk.client(), "nobody", "guess"))
    assert "from this address" in audit_outcomes(desk, "SignIn")[-2]
    for role in ("officer", "supervisor", "administrator"):  # no account was locked
        assert sign_in(client_from(desk, "198.51.100.1"), USERS[role]).status_code == 302, role
    desk.clock.advance(minutes=16)
    assert sign_in(sprayer, USERS["administrator"]).status_code == 302


def test_one_address_can_lock_at_most_two_accounts(desk):
    guesser = client_from(desk, "203.0.113.9")
    for role in ("officer", "supervisor", "analyst"):
        for _ in range(5):
            sign_in(guesser, USERS[role], "guess")
    elsewhere = client_from(desk, "198.51.100.1")
    assert [sign_in(elsewhere, USERS[role]).status_code for role in ("officer", "supervisor", "analyst")] == [
        401, 401, 302]


def test_passwords_are_stored_as_argon2_hashes(desk):
    hashes = desk.database.run(lambda s: list(s.scalars(select(m.WebAccount.password_hash))))
    assert hashes and all(h.startswith("$argon2id$") and PASSWORD not in h for h in hashes)


def test_a_user_without_a_web_role_cannot_sign_in(desk):
    from central.access.audit import Caller
    from central.web.accounts import set_password

    desk.database.run(lambda s: (access.grant(s, access.Kind.USER, "gate-tech", access.Role.GATE),
                                 set_password(s, Caller(), "gate-tech", PASSWORD, desk.clock())))
    response = sign_in(desk.client(), "gate-tech")
    assert response.status_code == 401 and "no role on the web desk" in response.get_data(as_text=True)


@pytest.mark.parametrize("target", [
    "//evil.example/", "https://evil.example/", "/\\evil.example", "\\\\evil.example", "/\t/evil.example",
    "/\n/evil.example", "\t//evil.example", " //evil.example", "/\r\nSet-Cookie: limes_session=x", "/\x00/x",
    "/\u3000/evil.example", "https:evil.example", "javascript:alert(1)", "evil.example/queue", "///evil.example",
])
def test_sign_in_does_not_redirect_off_site(desk, target):
    client = desk.client()
    response = client.post("/sign-in", query_string={"next": target}, data={
        "user": USERS["officer"], "password": PASSWORD, "csrf_token": csrf_token(client)})
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_sign_in_goes_on_to_the_page_asked_for_on_this_site(desk):
    client = desk.client()
    response = client.post("/sign-in", query_string={"next": "/queue?status=escalated"}, data={
        "user": USERS["officer"], "password": PASSWORD, "csrf_token": csrf_token(client)})
    assert response.headers["Location"] == "/queue?status=escalated"


def test_sign_in_and_sign_out_each_renew_the_csrf_token(desk):
    client = desk.client()
    before_sign_in = csrf_token(client)
    signed_in = client.post("/sign-in", data={"user": USERS["officer"], "password": PASSWORD,
                                              "csrf_token": before_sign_in})
    assert signed_in.status_code == 302
    assert client.post("/sign-out", data={"csrf_token": before_sign_in}).status_code == 400
    while_signed_in = csrf_token(client, "/queue")
    assert client.post("/sign-out", data={"csrf_token": while_signed_in}).status_code == 302
    replayed = client.post("/sign-in", data={"user": USERS["officer"], "password": PASSWORD,
                                             "csrf_token": while_signed_in})
    assert replayed.status_code == 400


# ---------------------------------------------------------------- roles

@pytest.mark.parametrize("role, method, path", [
    ("analyst", "GET", "/queue"), ("analyst", "GET", "/referrals/{referral}"), ("analyst", "GET", "/audit"),
    ("analyst", "GET", "/watchlists"), ("officer", "GET", "/statistics"), ("officer", "GET", "/audit"),
    ("officer", "GET", "/watchlists"), ("officer", "POST", "/watchlists/new/person"),
    ("supervisor", "POST", "/watchlists/new/document"), ("supervisor", "GET", "/statistics.csv"),
    ("administrator", "GET", "/queue"), ("administrator", "POST", "/referrals/{referral}/decision"),
    ("analyst", "POST", "/referrals/{referral}/decision"),
])
def test_a_role_is_refused_where_it_may_not_go_and_the_attempt_is_audited(desk, role, method, path):
    client = desk.signed_in(role)
    path = path.format(referral=desk.referral_id)
    token = csrf_token(client, "/sign-in")
    response = (client.get(path) if method == "GET" else
                client.post(path, data={"csrf_token": token, "decision": "admit", "surname": "X",
                                        "reason": "ENTRY_BAN", "document_number": "X1"}))
    assert response.status_code == 403, response.get_data(as_text=True)[:300]
    denied = desk.database.run(lambda s: list(s.scalars(select(m.AuditEntry).where(
        m.AuditEntry.user_name == USERS[role], m.AuditEntry.outcome.startswith("PERMISSION_DENIED")))))
    assert denied and path.split("?")[0] in denied[-1].subject
    assert desk.database.run(lambda s: s.scalar(select(m.OfficerDecision))) is None


def test_an_officer_cannot_decide_an_escalated_referral_by_posting_directly(desk):
    officer = desk.signed_in("officer")
    token = csrf_token(officer, f"/referrals/{desk.referral_id}")
    officer.post(f"/referrals/{desk.referral_id}/decision",
                 data={"csrf_token": token, "decision": "escalate", "note": "unsure"})
    response = officer.post(f"/referrals/{desk.referral_id}/decision",
                            data={"csrf_token": token, "decision": "admit", "note": "my mate"})
    assert "supervisor decides" in notices_after(officer, response)[-1]
    statuses = desk.database.run(lambda s: [d.decision for d in s.scalars(select(m.OfficerDecision))])
    assert statuses == [m.ReferralStatus.ESCALATED]


def test_an_officer_decides_under_their_own_name_whatever_the_form_says(desk):
    officer = desk.signed_in("officer")
    token = csrf_token(officer, f"/referrals/{desk.referral_id}")
    officer.post(f"/referrals/{desk.referral_id}/decision",
                 data={"csrf_token": token, "decision": "admit", "officer": "sam.supervisor"})
    decision = desk.database.run(lambda s: s.scalar(select(m.OfficerDecision)))
    assert decision.officer == USERS["officer"]


# ---------------------------------------------------------------- hostile content

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def test_names_reasons_and_notes_are_shown_as_text_never_as_markup(desk):
    referral = seed_referral(desk.database, surname=HOSTILE, given_names='"><svg onload=alert(2)>',
                             note_reasons=[f"mrz.valid: {HOSTILE}"])
    officer = desk.signed_in("officer")
    token = csrf_token(officer, f"/referrals/{referral}")
    officer.post(f"/referrals/{referral}/decision", data={"csrf_token": token, "decision": "admit", "note": HOSTILE})
    for page in (officer.get("/queue").get_data(as_text=True),
                 officer.get(f"/referrals/{referral}").get_data(as_text=True),
                 desk.signed_in("supervisor").get("/audit").get_data(as_text=True)):
        assert "<script>alert" not in page and "<img src=x" not in page and "<svg onload" not in page
    page = officer.get(f"/referrals/{referral}").get_data(as_text=True)
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page


def test_a_crafted_link_shows_no_notice(desk):
    crafted = "error=Call+0800+123+to+confirm&decided=1&saved=1&message=Your+password+expired:+call+0800+123"
    officer = desk.signed_in("officer")
    page = officer.get(f"/referrals/{desk.referral_id}?{crafted}").get_data(as_text=True)
    assert "0800" not in page and "Decision recorded" not in page and "alert-box" not in page
    administrator = desk.signed_in("administrator")
    token = csrf_token(administrator, "/watchlists/new/document")
    url = administrator.post("/watchlists/new/document", data={
        "csrf_token": token, "document_number": "X1234567", "reason": "STOLEN"}).headers["Location"]
    assert notices(administrator, url) == ["Saved. Gates take the change with their next alert update."]
    page = administrator.get(f"{url}?{crafted}").get_data(as_text=True)
    assert "0800" not in page and "Saved" not in page and "alert-box" not in page


def test_expiring_an_unknown_alert_says_so_on_the_search_page(desk):
    client = desk.signed_in("administrator")
    response = client.post("/watchlists/00000000-0000-4000-8000-000000000000/expire",
                           data={"csrf_token": csrf_token(client, "/watchlists"), "reason": "found"})
    assert response.headers["Location"] == "/watchlists"
    assert notices_after(client, response) == ["alert '00000000-0000-4000-8000-000000000000' not found"]


def test_every_page_forbids_inline_script_and_framing(desk):
    response = desk.signed_in("officer").get("/queue")
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy and "unsafe-inline" not in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"
    page = response.get_data(as_text=True)
    assert not re.search(r"<script(?![^>]*\bsrc=)", page)  # no inline script anywhere
    assert " style=" not in page and " on" + "click=" not in page


# ---------------------------------------------------------------- photos

@pytest.mark.parametrize("path", [
    "/photos/../../../etc/passwd", "/photos/..%2f..%2f..%2fetc%2fpasswd", "/photos/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "/photos/....//....//etc/passwd", "/photos/" + "a" * 42 + "/", "/photos/" + "A" * 43,
    "/photos/1", "/photos/static%2fstyle.css", "/photos/%00", "/photos/..\\..\\windows\\win.ini",
])
def test_photo_paths_name_nothing_but_a_token(desk, path):
    response = desk.signed_in("officer").get(path)
    assert response.status_code == 404
    assert b"root:" not in response.data and response.mimetype != "image/jpeg"


def test_a_photo_needs_a_role_that_may_see_it(desk):
    officer = desk.signed_in("officer")
    url = re.search(r'src="(/photos/[^"]+)"', officer.get(f"/referrals/{desk.referral_id}").get_data(as_text=True))
    assert desk.signed_in("analyst").get(url.group(1)).status_code == 403
    assert desk.client().get(url.group(1)).status_code == 302  # not signed in: to the sign-in page
    assert officer.get(url.group(1)).status_code == 200


def test_evidence_that_is_not_a_jpeg_is_left_out_and_the_referral_still_arrives(desk):
    html = b"<html><script>alert(1)</script></html>"
    referral = seed_referral(desk.database, evidence=ReferralEvidence(live_jpeg=html, chip_jpeg=b"\xff\xd8\xff broken"))
    page = desk.signed_in("officer").get(f"/referrals/{referral}").get_data(as_text=True)
    assert "No live capture" in page and "No chip photo" in page
    assert "the gate&#39;s live capture was not kept" in page
