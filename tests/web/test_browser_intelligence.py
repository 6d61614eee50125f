"""The intelligence pages in a real browser (Debian's Chromium through Playwright, as test_browser.py),
over a web desk whose database holds the demo's analyst world (limes.borderpost.seed_analyst_world):
no border post is needed, so the module starts in seconds."""
from __future__ import annotations

import datetime as dt
import re

import pytest

from central.web.server import serve_web
from limes.borderpost import seed_analyst_world, seed_web_users

pytestmark = [pytest.mark.slow, pytest.mark.browser]



@pytest.fixture(scope="module")
def database_url(tmp_path_factory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('intel-web') / 'central.sqlite'}"


@pytest.fixture(scope="module")
def desk(database_url):
    url = database_url
    from central.database.engine import Database

    database = Database(url)
    database.migrate()
    database.dispose()
    users = seed_web_users(url)
    seeded = seed_analyst_world(url, crossings=6000, rings=3, now=dt.datetime.now(dt.timezone.utc))
    server = serve_web("127.0.0.1:0", url)
    yield server.url.rstrip("/"), users, seeded
    server.stop()


def signed_in(browser, desk, role: str):
    base, users, _ = desk
    context = browser.new_context(base_url=base, viewport={"width": 1440, "height": 900})
    page = context.new_page()
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("dialog", lambda dialog: pytest.fail(f"a dialog opened: {dialog.message}"))
    user, password = users[role]
    page.goto("/sign-in")
    page.fill("input[name=user]", user)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    return context, page, errors


def test_the_analyst_finds_the_ring_opens_the_network_and_reads_the_report(browser, desk):
    context, page, errors = signed_in(browser, desk, "intelligence")
    try:
        assert page.url.endswith("/intel")
        page.click("nav >> text=Network")
        page.click("text=Co-travel groups")
        page.fill("input[name=k]", "3")
        page.click("button:has-text('Find groups')")
        assert page.locator("section.group").count() == 3
        page.locator("section.group").first.locator("ul.members a").first.click()
        page.wait_for_load_state()
        assert page.locator("svg.network line.edge").count() >= 2
        assert page.locator("svg.network circle").count() == page.locator("svg.network g.node").count() >= 3
        reasons = page.locator("#edges td:nth-child(3)").all_inner_texts()
        assert reasons and all(re.search(r"crossed together \d+ times|named in report", r) for r in reasons)
        page.click("nav >> text=Intelligence")
        page.locator("table.list a").first.click()
        assert page.locator("#grading").inner_text() == "1B C"
        assert "to national police only" in page.content()
        page.click("nav >> text=Profiles")
        assert "escorted groups" in page.locator("#profiles").inner_text()
        page.click("nav >> text=Trends")
        assert page.locator("svg.trend").count() == 1
        assert errors == []  # the CSP let nothing be refused, and no script failed
    finally:
        context.close()


def test_an_officer_files_a_report_in_a_few_steps(browser, desk):
    context, page, errors = signed_in(browser, desk, "officer")
    try:
        page.goto("/intel/new")
        page.fill("textarea[name=text]", "Two travellers handed a passport to each other before the gate.")
        page.click("button:has-text('File report')")
        page.wait_for_load_state()
        notice = page.locator("p.notice").inner_text()
        assert notice.startswith("Intelligence report filed") and "1A P, OFFICIAL" in notice
        assert errors == []
    finally:
        context.close()


PHONE, TABLET, DESKTOP = 390, 768, 1440
WCAG_A_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@pytest.mark.parametrize("width", [PHONE, TABLET, DESKTOP], ids=["phone", "tablet", "desktop"])
def test_the_intelligence_pages_work_at_phone_tablet_and_desktop_widths(browser, desk, width):
    """Reports, a report, the network (graph and table), co-travel groups, trends (chart), profiles, the cycle
    and the bulletin: each shows what it is for, reflows into the width (no sideways scrolling of the page,
    WCAG 1.4.10) and has no serious or critical axe finding, on a phone, a tablet and a desktop."""
    from axe_playwright_python.sync_playwright import Axe

    context, page, errors = signed_in(browser, desk, "intelligence")
    try:
        page.goto("/intel")
        report = page.locator("table.list a").first.get_attribute("href")
        page.goto("/network/groups?k=3")
        person = page.locator("section.group ul.members a").first.get_attribute("href")
        pages = {
            "/intel": ["table.list a"],
            report: ["#grading"],
            person: ["svg.network g.node", "svg.network line.edge", "#edges td"],
            "/network/groups?k=3": ["section.group ul.members a"],
            "/trends?by=border_point&indicator=crossings": ["svg.trend polyline.series", "table.list td"],
            "/profiles": ["#profiles"],
            "/intel/cycle": ["main h1"],
            "/bulletin": ["svg.trend", "#bulletin-anomalies"],
        }
        axe, failures = Axe(), []
        page.set_viewport_size({"width": width, "height": 800})
        for path, wanted in pages.items():
            page.goto(path)
            where = f"{path} at {width} px"
            for selector in wanted:
                if not page.locator(selector).first.is_visible():
                    failures.append(f"{where}: {selector} is not shown")
            scroll_width = page.evaluate("document.documentElement.scrollWidth")
            if scroll_width > width:
                failures.append(f"{where}: the page is {scroll_width} px wide")
            for chart in page.locator("svg.trend, svg.network").all():
                box = chart.bounding_box()
                if not (box and box["x"] >= 0 and box["x"] + box["width"] <= width + 1):
                    failures.append(f"{where}: a chart is out of sight sideways ({box})")
            found = axe.run(page, options={"runOnly": {"type": "tag", "values": WCAG_A_AA}})
            failures += [f"{where}: axe {v['id']} ({v['impact']}): {v['help']}: "
                         f"{[n['target'] for n in v['nodes']][:3]}"
                         for v in found.response["violations"] if v["impact"] in ("serious", "critical")]
        assert not failures, "\n".join(failures)
        assert errors == []
    finally:
        context.close()


@pytest.fixture(scope="module")
def referral(desk, database_url) -> str:
    """A referred traveller in the served database (tests.web.conftest.seed_referral); its id."""
    from central.database.engine import Database
    from tests.web.conftest import seed_referral

    database = Database(database_url)
    try:
        return seed_referral(database)
    finally:
        database.dispose()


@pytest.mark.parametrize("width", [PHONE, TABLET, DESKTOP], ids=["phone", "tablet", "desktop"])
def test_an_officer_files_from_the_referral_page_by_keyboard_alone(browser, desk, database_url, referral, width):
    """Alt+I to the report's text, type it, Tab through the defaults (each one reachable) to "File report",
    Enter: the report is filed as the signed-in officer, linked to the referral, the crossing, the traveller
    and the document, and the officer is back on the referral. At a phone's, a tablet's and a desktop's width,
    without sideways scrolling and without a serious or critical axe finding in the form."""
    from axe_playwright_python.sync_playwright import Axe

    context, page, errors = signed_in(browser, desk, "officer")
    try:
        page.set_viewport_size({"width": width, "height": 800})
        page.goto(f"/referrals/{referral}")
        page.keyboard.press("Alt+i")
        assert page.evaluate("document.activeElement.id") == "intel-text"
        text = f"Carried two other travellers' passports ({width} px)"
        page.keyboard.type(text)
        reached = []
        for _ in range(20):
            page.keyboard.press("Tab")
            reached.append(page.evaluate("document.activeElement.name || document.activeElement.id"))
            if reached[-1] == "intel-submit":
                break
        assert reached[-1] == "intel-submit", reached
        assert reached[:6] == ["source_kind", "source_evaluation", "assessment", "handling_code",
                               "handling_conditions", "classification"]
        assert reached.count("link") == 4
        found = Axe().run(page, context="#intel-quick", options={"runOnly": {"type": "tag", "values": WCAG_A_AA}})
        assert [v["id"] for v in found.response["violations"] if v["impact"] in ("serious", "critical")] == []
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert page.url.endswith(f"/referrals/{referral}")
        notice = page.locator("p.notice").inner_text()
        assert notice.startswith("Intelligence report filed") and "1A P, OFFICIAL" in notice
        assert errors == []
    finally:
        context.close()
    _, users, _ = desk
    from sqlalchemy import select

    from central.database import models as m
    from central.database.engine import Database

    database = Database(database_url)
    try:
        filed = database.run(lambda s: [(r.originator, sorted(link.kind for link in r.links)) for r in s.scalars(
            select(m.IntelReport).where(m.IntelReport.text == text))])
    finally:
        database.dispose()
    assert filed == [(users["officer"][0], ["crossing", "document", "person", "referral"])]
