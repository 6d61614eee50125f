"""The web desk in a real browser: Debian's Chromium driven by Playwright, against the web desk of a
whole simulated border post (real gRPC servers, pty reader, vpcd chip, camera, the gate), whose
travellers are the demo's. One border post, one server and one browser for the module; the tests
run in order and build on each other's referrals, as a shift would.

Screenshots of the main pages go to docs/screenshots/ (shown in the README).
"""
from __future__ import annotations

import os
import tempfile
import uuid
from pathlib import Path

import cv2
import numpy as np
import pytest

from hardware_sim.travellers import demo_travellers
from limes.borderpost import seed_web_users
from proto.clients import CentralClient, central_pb2, common_pb2
from tests.conftest import ROOT
from tests.e2e.conftest import border_post_or_skip

pytestmark = [pytest.mark.slow, pytest.mark.browser]

# The docs' pictures are refreshed on request: LIMES_SCREENSHOTS=docs/screenshots ./limes test
# tests/web/test_browser.py. Otherwise they go to a temporary folder, so a test run leaves the
# checkout as it found it (the blurring is exercised either way).
SCREENSHOTS = ROOT / os.environ.get("LIMES_SCREENSHOTS", Path(tempfile.gettempdir()) / "limes-screenshots")
DESK = {"width": 1440, "height": 900}
TABLET = {"width": 1024, "height": 768}
TRAVELLERS = {t.label: t for t in demo_travellers()}


@pytest.fixture(scope="module")
def post(faces_dir, tmp_path_factory):
    with border_post_or_skip(tmp_path_factory.mktemp("web"), faces_dir, web=True) as post:
        post.results = {r["label"]: r for r in post.run_travellers()}
        post.users = seed_web_users(post.services.database_url)
        yield post


@pytest.fixture
def as_role(browser, post):
    """A fresh browser context (its own cookies) signed in as a role: as_role("officer") -> page."""
    contexts = []

    def open_as(role: str, viewport=DESK):
        context = browser.new_context(viewport=viewport, base_url=post.services.web_url)
        contexts.append(context)
        page = context.new_page()
        page.on("dialog", lambda dialog: pytest.fail(f"a dialog opened: {dialog.message}"))
        user, password = post.users[role]
        page.goto("/sign-in")
        page.fill("input[name=user]", user)
        page.fill("input[name=password]", password)
        page.click("button[type=submit]")
        page.wait_for_load_state()
        return page
    yield open_as
    for context in contexts:
        context.close()


def referral_of(post, label: str) -> str:
    return post.results[label]["outcome"]["crossing_id"]  # the gate uses the crossing's id for its referral


def shot(page, name: str, full_page: bool = True) -> None:
    """A PNG of the page for the docs, every picture on it blurred beyond recognition.

    The pictures are the real photos of the shared faces folder, which must not be copied
    into the repository. (Playwright's `style` option cannot do it: the desk's CSP refuses
    injected styles, as it should.)
    """
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_load_state("load")
    png = page.screenshot(full_page=full_page)
    boxes = page.eval_on_selector_all("img", """imgs => imgs.map(i => {
        const r = i.getBoundingClientRect();
        return [r.left + (%s ? window.scrollX : 0), r.top + (%s ? window.scrollY : 0), r.width, r.height];
    })""" % (("true",) * 2 if full_page else ("false",) * 2))
    image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
    scale = image.shape[1] / page.viewport_size["width"]  # device pixels per CSS pixel
    for left, top, width, height in boxes:
        x0, y0 = max(0, int(left * scale)), max(0, int(top * scale))
        x1, y1 = min(image.shape[1], int((left + width) * scale)), min(image.shape[0], int((top + height) * scale))
        if x1 > x0 and y1 > y0:
            region = image[y0:y1, x0:x1]
            small = cv2.resize(region, (max(1, (x1 - x0) // 24), max(1, (y1 - y0) // 24)), interpolation=cv2.INTER_AREA)
            image[y0:y1, x0:x1] = cv2.GaussianBlur(cv2.resize(small, (x1 - x0, y1 - y0)), (0, 0), 6)
    cv2.imwrite(str(SCREENSHOTS / f"{name}.png"), image)


def images_loaded(page, selector: str) -> list[int]:
    return page.eval_on_selector_all(selector, "imgs => imgs.map(i => i.complete ? i.naturalWidth : 0)")


def test_each_role_signs_in_to_its_own_page(as_role):
    for role, path, heading in (("officer", "/queue", "Referral queue"), ("supervisor", "/queue", "Referral queue"),
                                ("analyst", "/statistics", "Crossing statistics"),
                                ("administrator", "/watchlists", "Watchlists")):
        page = as_role(role)
        assert page.url.endswith(path), (role, page.url)
        assert page.inner_text("h1") == heading
        assert role in page.inner_text(".who .user")
        page.click("text=Sign out")
        assert page.url.endswith("/sign-in")


def test_a_wrong_password_is_refused(browser, post):
    context = browser.new_context(base_url=post.services.web_url)
    page = context.new_page()
    page.goto("/queue")
    assert "/sign-in" in page.url  # not signed in: sent to sign in first
    page.fill("input[name=user]", post.users["officer"][0])
    page.fill("input[name=password]", "not the password")
    page.click("button[type=submit]")
    assert "wrong user name or password" in page.inner_text("[role=alert]")
    context.close()


def test_the_queue_shows_why_each_traveller_was_referred(as_role, post):
    page = as_role("officer")
    referred = [label for label, r in post.results.items() if r["decision"] == "refer" and r["recorded"]]
    rows = page.locator("#queue-rows tr")
    assert rows.count() == len(referred) >= 5, {label: r["reasons"] for label, r in post.results.items()}
    text = page.inner_text("#queue")
    for label in referred:
        traveller = TRAVELLERS[label]
        assert traveller.surname in text
        for check in traveller.because:
            assert check in text, (label, check)
    # Newest first: the last traveller the gate referred heads the queue.
    assert TRAVELLERS["nobody in front of the camera"].surname in rows.first.inner_text()
    shot(page, "queue", full_page=False)


def test_watchlist_referral_shows_the_evidence_side_by_side(as_role, post):
    page = as_role("officer")
    page.goto(f"/referrals/{referral_of(post, 'on the watchlist')}")
    assert "VANCE" in page.inner_text("h1")
    assert all(width > 0 for width in images_loaded(page, ".faces img")) and len(images_loaded(page, ".faces img")) == 2
    candidate = page.inner_text(".candidates")
    assert "KOVAC" in candidate and "European Arrest Warrant" in candidate
    assert images_loaded(page, ".candidate img")[0] > 0  # the enrolment photo kept at central
    assert "watchlist.face" in page.inner_text("#checks-h + .check-groups")
    # The hit heads the page in the alert's own words, never under a green all-clear.
    alerts = page.inner_text("section.alerts")
    assert "KOVAC" in alerts and "European Arrest Warrant" in alerts and "No document" not in alerts
    assert page.locator("section.alerts .pass-text").count() == 0
    # Whole photos (a wide chip photo is not cropped), each opening at full size.
    assert page.eval_on_selector_all(".faces img, .candidate img",
                                     "imgs => imgs.map(i => getComputedStyle(i).objectFit)") == ["contain"] * 3
    full = page.eval_on_selector_all(".faces a.photo-link", "links => links.map(a => a.getAttribute('href'))")
    assert len(full) == 2 and page.request.get(full[0]).headers["content-type"] == "image/jpeg"
    shot(page, "referral")
    tablet = as_role("officer", viewport=TABLET)
    tablet.goto(f"/referrals/{referral_of(post, 'on the watchlist')}")
    shot(tablet, "referral-tablet", full_page=False)


def test_an_admission_reaches_the_crossing_record_and_the_gate(as_role, post):
    referral_id = referral_of(post, "impostor with someone else's passport")
    page = as_role("officer")
    page.click(f"a[href='/referrals/{referral_id}']")
    assert "BRENNAN" in page.inner_text("h1")
    outcome = post.results["impostor with someone else's passport"]["outcome"]
    verification = next(c for c in outcome["checks"] if c["name"] == "face.verification")
    verdict = {"pass": "match", "fail": "no match", "not_done": "not done"}[verification["status"]]
    assert page.inner_text(".score .verdict").lower() == verdict  # as the gate found it
    assert verification["reason"] in page.inner_text("#face-verdict")  # with its score, or why it was not done
    assert page.locator(".faces img").count() == 2  # the live capture is shown, and the box says what became of it
    assert page.inner_text(".reasons").splitlines() == outcome["reasons"]
    page.fill("#note", "Photo in passport is ten years old; questioned, travel purpose confirmed.")
    page.keyboard.press("Alt+a")  # the keyboard shortcut of Admit: a failed check asks first
    assert page.is_visible("#admit-confirm") and "face.verification" in page.inner_text("#admit-confirm")
    assert page.evaluate("document.activeElement.id") == "admit-anyway"
    page.keyboard.press("Escape")  # back, nothing sent
    assert page.evaluate("document.activeElement.id") == "admit" and not page.is_visible("#admit-confirm")
    assert page.inner_text("#referral-status") == "Open"
    page.keyboard.press("Alt+a")
    page.keyboard.press("Enter")  # on "Admit anyway"
    page.wait_for_selector("text=Decision recorded: admitted")
    assert page.inner_text("#referral-status") == "Admitted"
    # The crossing record at central has the officer's decision ...
    client = CentralClient(post.services.central_address, tls=post.services.user_tls("auditor"))
    try:
        outcome = post.results["impostor with someone else's passport"]["outcome"]
        history = client.call("GetTravellerHistory", central_pb2.GetTravellerHistoryRequest(
            document=central_pb2.TravelDocument(number=outcome["traveller"]["document_number"],
                                                issuing_state=outcome["traveller"]["issuing_state"])))
    finally:
        client.close()
    (referral,) = history.referrals
    assert referral.status == central_pb2.Referral.ADMITTED
    assert referral.decisions[0].officer == post.users["officer"][0]
    assert "ten years old" in referral.decisions[0].note
    # ... and the gate that referred the traveller learns it.
    assert post.running.gate.central.referral_decision(referral_id)["status"] == "ADMITTED"


def test_a_refusal_asks_for_its_ground_first(as_role, post):
    referral_id = referral_of(post, "passport reported stolen")
    page = as_role("officer")
    page.goto(f"/referrals/{referral_id}")
    assert "Seize the document" in page.inner_text("#alerts-h + *, .hit")
    page.click("button.refuse")
    assert page.eval_on_selector("#ground", "e => e.validationMessage") == "Choose the ground for refusal."
    assert page.inner_text("#referral-status") == "Open"  # nothing was sent
    page.select_option("#ground", label="B: has a false, counterfeit or forged travel document")
    page.click("button.refuse")
    page.wait_for_selector("text=Decision recorded: refused")
    assert post.running.gate.central.referral_decision(referral_id)["status"] == "REFUSED"


def test_an_escalation_goes_to_a_supervisor(as_role, post):
    referral_id = referral_of(post, "expired passport")
    officer = as_role("officer")
    officer.goto(f"/referrals/{referral_id}")
    officer.fill("#note", "Expired 40 days ago; says the renewal is pending. Supervisor to decide.")
    officer.click("button.escalate")
    officer.wait_for_selector("text=Escalated: a supervisor decides.")
    assert officer.locator("button.admit").count() == 0
    supervisor = as_role("supervisor")
    supervisor.goto(f"/referrals/{referral_id}")
    supervisor.fill("#note", "Admitted once: renewal confirmed with the consulate.")
    supervisor.click("#admit")
    supervisor.click("#admit-anyway")  # document.expiry failed
    supervisor.wait_for_selector("text=Decision recorded: admitted")
    assert [d["decision"] for d in post.running.gate.central.referral_decision(referral_id)["decisions"]] == [
        "ESCALATED", "ADMITTED"]


def test_a_role_is_refused_where_it_may_not_go(as_role, post):
    referral = referral_of(post, "on the watchlist")
    for role, paths in (("analyst", ["/queue", f"/referrals/{referral}", "/watchlists", "/audit"]),
                        ("officer", ["/statistics", "/audit", "/watchlists", "/watchlists/new/person"]),
                        ("administrator", ["/queue", "/statistics", "/audit"]),
                        ("supervisor", ["/statistics", "/watchlists/new/document"])):
        page = as_role(role)
        for path in paths:
            response = page.goto(path)
            assert response.status == 403 and page.inner_text("h1") == "Not permitted", (role, path)


def test_an_alert_issued_in_the_browser_is_hit_by_a_simulated_traveller(as_role, post, faces_dir):
    admin = as_role("administrator")
    admin.click("text=New person alert")
    admin.fill("input[name=surname]", "BRANDT")
    admin.fill("input[name=given_names]", "KARL HEINZ")
    admin.select_option("select[name=reason]", "ARREST")
    admin.fill("input[name=issuing_agency]", "Bundeskriminalamt")
    admin.fill("textarea[name=handling_instruction]", "Arrest warrant: detain, inform the BKA duty desk.")
    admin.click("text=Issue alert")
    admin.wait_for_selector("text=Saved.")
    admin.set_input_files("input[name=photo]", str(faces_dir / "biden" / "02.jpg"))
    admin.click("text=Enrol face")
    admin.wait_for_selector("text=face enrolled")
    admin.wait_for_load_state("load")  # the photo may still be loading when the notice shows
    assert images_loaded(admin, "img.enrolled")[0] > 0
    admin.goto("/watchlists")
    assert "BRANDT" in admin.inner_text("table")
    shot(admin, "watchlists")

    queue = as_role("officer")  # the officer's queue is open while the traveller walks up
    queue.focus("#queue-rows a.rowlink >> nth=0")
    focused = queue.evaluate("document.activeElement.getAttribute('href')")
    idle = queue.inner_text("#queue-status")
    queue.wait_for_timeout(6000)  # a refresh with nothing new says nothing and keeps the focus
    assert queue.inner_text("#queue-status") == idle
    assert queue.evaluate("document.activeElement.getAttribute('href')") == focused
    traveller = TRAVELLERS["genuine traveller (French)"]  # opened the gate before; now the face is wanted
    again = post.pass_through(traveller)
    assert again["decision"] == "refer", again["reasons"]
    assert any(c["name"] == "watchlist.face" and c["status"] == "fail" for c in again["outcome"]["checks"])
    # The queue page shows the new referral without a reload, at the top.
    queue.wait_for_selector(f"#queue-rows a[href='/referrals/{again['outcome']['crossing_id']}']", timeout=20000)
    assert traveller.surname in queue.locator("#queue-rows tr").first.inner_text()
    assert queue.evaluate("document.activeElement.getAttribute('href')") == focused  # the officer's place is kept
    assert queue.inner_text("#queue-status").startswith("Queue changed at")
    queue.goto(f"/referrals/{again['outcome']['crossing_id']}")
    candidates = queue.inner_text(".candidates")
    assert "BRANDT" in candidates and "Arrest warrant" in candidates
    assert images_loaded(queue, ".candidate img")[0] > 0


def test_hostile_names_and_notes_stay_text(as_role, post):
    hostile = '<img src=x onerror=alert(1)><script>alert(2)</script>'
    crossing_id = str(uuid.uuid4())
    gate = CentralClient(post.services.central_address, tls=post.services.station_tls("DEMO-EGATE-01"))
    try:
        gate.call("RecordCrossing", central_pb2.RecordCrossingRequest(
            crossing_id=crossing_id, station_id="DEMO-EGATE-01", border_point="DEMO-AIRPORT",
            direction=central_pb2.Crossing.ENTRY, occurred_at="2026-11-25T07:00:00Z",
            document=central_pb2.TravelDocument(number="H0ST1LE1", type="P", issuing_state="UTO"),
            traveller=central_pb2.Traveller(surname=hostile, given_names='"><svg onload=alert(3)>'),
            decision=central_pb2.Crossing.REFER, reasons=[hostile],
            checks=[common_pb2.Check(name="mrz.valid", status=common_pb2.Check.FAIL, reason=hostile)]))
        gate.call("OpenReferral", central_pb2.OpenReferralRequest(
            referral_id=crossing_id, crossing_id=crossing_id, station_id="DEMO-EGATE-01", reasons=[hostile]))
    finally:
        gate.close()
    page = as_role("officer")  # a dialog opening fails the test (see as_role)
    page.goto(f"/referrals/{crossing_id}")
    assert hostile in page.text_content("h1")  # as text (the surname is shown in capitals)
    assert page.locator("main img[src=x], main svg, main script").count() == 0
    page.fill("#note", hostile)
    page.click("#admit")
    page.click("#admit-anyway")  # mrz.valid failed
    page.wait_for_selector("text=Decision recorded: admitted")
    assert hostile in page.inner_text(".decided")
    page.goto("/queue?status=admitted")
    assert page.locator("main img[src=x], main script").count() == 0


def record_a_month_of_crossings(post, count: int = 400) -> None:
    """Crossings as gates would report them over November (invented travellers), so the dashboard has
    cells above the suppression threshold as well as below it."""
    import random

    rng = random.Random(8)
    nationalities = ["DEU"] * 8 + ["FRA"] * 5 + ["USA"] * 4 + ["GBR"] * 3 + ["ESP", "ITA", "POL", "NGA", "ISL"]
    gate = CentralClient(post.services.central_address, tls=post.services.station_tls("DEMO-EGATE-01"))
    try:
        for index in range(count):
            nationality = rng.choice(nationalities)
            gate.call("RecordCrossing", central_pb2.RecordCrossingRequest(
                crossing_id=str(uuid.uuid4()), station_id="DEMO-EGATE-01", border_point="DEMO-AIRPORT",
                direction=rng.choice([central_pb2.Crossing.ENTRY, central_pb2.Crossing.EXIT]),
                occurred_at=f"2026-11-{rng.randint(1, 28):02d}T{rng.randint(6, 22):02d}:00:00Z",
                document=central_pb2.TravelDocument(number=f"S{index:07d}", type="P", issuing_state=nationality),
                traveller=central_pb2.Traveller(surname=f"TRAVELLER{index}", nationality=nationality,
                                                sex=rng.choice("MF"), birth_date=f"{rng.randint(1940, 2010)}-05-17"),
                decision=central_pb2.Crossing.OPEN if rng.random() < 0.95 else central_pb2.Crossing.REFER))
    finally:
        gate.close()


def test_the_statistics_dashboard_filters_and_downloads(as_role, post):
    record_a_month_of_crossings(post)
    page = as_role("analyst")
    page.select_option("select[name=by] >> nth=0", "decision")
    page.select_option("select[name=by] >> nth=1", "")
    page.select_option("select[name=period]", "month")
    page.click("text=Show")
    table = page.inner_text("table.stats")
    assert "decision" in table.lower() and "<5" in table  # the few refusals and admissions are suppressed
    assert "HOLLAND" not in page.content()  # numbers, never a name
    with page.expect_download() as download:
        page.click("text=Download CSV")
    csv = Path(download.value.path()).read_text()
    assert csv.splitlines()[0] == "period,decision,count"
    page.select_option("select[name=by] >> nth=0", "nationality")
    page.select_option("select[name=period]", "week")
    page.fill("input[name=from]", "2026-11-02")
    page.fill("input[name=to]", "2026-11-29")
    page.click("text=Show")
    cells = page.inner_text("table.stats")
    assert "DEU" in cells and "<5" in cells
    assert page.locator(".bar-row .bar.hidden").count() >= 1 and page.locator(".bar-row .bar.c0").count() >= 1
    shot(page, "statistics")


def test_the_audit_view_shows_who_looked_at_whom(as_role, post):
    page = as_role("supervisor")
    page.goto("/audit")
    page.fill("input[name=action]", "ViewPhoto")
    with page.expect_navigation():  # the filter is a GET form: read the new page, not the old one
        page.click("text=Filter")
    rows = page.inner_text("table.audit")
    assert post.users["officer"][0] in rows and "live photo" in rows
    page.fill("input[name=action]", "")
    with page.expect_navigation():  # a screenshot during the navigation fails ("Unable to capture")
        page.click("text=Filter")
    shot(page, "audit", full_page=False)


PHONES, TABLETS, DESKTOP = (320, 390), (768, 800), 1440
WCAG_A_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
# The pages whose content must reflow into the width of a phone without scrolling sideways (WCAG 1.4.10).
REFLOW = ("/queue", "/referrals/", "/watchlists", "/audit")


def test_every_page_reflows_and_passes_axe_for_every_role_at_every_width(browser, as_role, post):
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    referral = f"/referrals/{referral_of(post, 'on the watchlist')}"  # still open: the decision buttons show
    admin = as_role("administrator")
    alert = admin.get_attribute("table a[href^='/watchlists/']", "href")
    statistics = "/statistics?by=nationality&period=week&from=2026-11-02&to=2026-11-29"
    pages = {"officer": ["/queue", referral, "/flights", "/statistics"],  # the last one: the 403 page
             "supervisor": ["/queue", referral, "/watchlists", alert, "/audit"],
             "analyst": [statistics],
             "administrator": ["/watchlists", "/watchlists/new/person", alert]}
    anonymous = browser.new_context(base_url=post.services.web_url).new_page()
    # axe itself runs under the desk's CSP and finds what it should: an image without a text alternative.
    anonymous.goto("/sign-in")
    anonymous.evaluate("document.querySelector('main').append(document.createElement('img'))")
    canary = axe.run(anonymous, options={"runOnly": {"type": "tag", "values": WCAG_A_AA}})
    assert "image-alt" in [v["id"] for v in canary.response["violations"]]
    failures = []
    for role, page in [(None, anonymous), *((role, as_role(role)) for role in pages)]:
        for path in pages.get(role, ["/sign-in"]):
            for width in (*PHONES, *TABLETS, DESKTOP):
                page.set_viewport_size({"width": width, "height": 800})
                page.goto(path)
                where = f"{role or 'anonymous'} {path} at {width} px"
                if path.startswith(REFLOW):
                    scroll_width = page.evaluate("document.documentElement.scrollWidth")
                    if scroll_width > width:
                        failures.append(f"{where}: the page is {scroll_width} px wide")
                if path == referral and role == "officer":
                    for button in ("button.refuse", "button.escalate"):
                        box = page.locator(button).bounding_box()
                        if not (box and 0 <= box["x"] and box["x"] + box["width"] <= width):
                            failures.append(f"{where}: {button} is out of sight sideways ({box})")
                if width in (PHONES[0], TABLETS[0], DESKTOP):
                    found = axe.run(page, options={"runOnly": {"type": "tag", "values": WCAG_A_AA}})
                    failures += [f"{where}: axe {v['id']} ({v['impact']}): {v['help']}: "
                                 f"{[n['target'] for n in v['nodes']][:3]}"
                                 for v in found.response["violations"] if v["impact"] in ("serious", "critical")]
    anonymous.context.close()
    assert not failures, "\n".join(failures)
