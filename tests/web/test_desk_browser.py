"""The officer desk's screen in Debian's Chromium (Playwright), keyboard only, at phone, tablet and
desktop widths: sign in, type an MRZ, watch every check arrive, refuse with a ground and open the form,
then capture the next traveller's face again and admit them. A real central and the desk's own code; the
devices are fakes (tests/edge/test_desk.py), so the transaction is the desk's, not the simulator's."""
from __future__ import annotations

import threading

import pytest
from waitress.server import create_server

from edge.desk.screen import create_screen
from tests.edge.test_desk import PASSWORD, Post, mrz
from tests.edge.test_gate import photos  # noqa: F401 (the real photos the fake camera and chip show)

pytestmark = [pytest.mark.browser]

WIDTHS = {"phone": {"width": 375, "height": 740}, "tablet": {"width": 768, "height": 1024},
          "desktop": {"width": 1440, "height": 900}}
WCAG_A_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@pytest.fixture
def screen(tmp_path, dev_pki, photos):  # noqa: F811
    post = Post(tmp_path, dev_pki, photos)
    server = create_server(create_screen(post.counter), host="127.0.0.1", port=0, threads=6)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield post, f"http://127.0.0.1:{server.effective_port}"
    server.close()
    thread.join(timeout=5)
    post.close()


@pytest.mark.parametrize("size", WIDTHS)
def test_a_counter_transaction_by_keyboard_alone(browser, screen, size):
    from axe_playwright_python.sync_playwright import Axe

    post, url = screen
    context = browser.new_context(viewport=WIDTHS[size], base_url=url)
    page = context.new_page()
    page.on("dialog", lambda dialog: pytest.fail(f"a dialog opened: {dialog.message}"))
    page.goto("/")
    # Sign in: the user field has the focus; Tab to the password, Enter sends.
    assert page.evaluate("document.activeElement.id") == "user"
    page.keyboard.type("officer-17")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_selector("#officer")
    assert page.text_content("#officer") == "officer-17"
    violations = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_A_AA}}).response["violations"]
    assert [v["id"] for v in violations] == []
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTHS[size]["width"]

    # A traveller from Mexico: the MRZ typed by the officer (Alt+M), checked (Tab to the button, Enter).
    page.keyboard.press("Alt+M")
    assert page.evaluate("document.activeElement.id") == "mrz"
    page.keyboard.type(mrz("B7777777", nationality="MEX", surname="ROJAS"))
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_selector("#all-shown:not([hidden])", timeout=30000)
    assert page.evaluate("document.activeElement.id") == "h-decision"  # the decision is next
    assert page.is_visible("#manual-badge")
    assert page.locator("#checks tr[data-check='mrz.valid'] td.pass").count() == 1
    assert page.locator("#checks tr[data-check='stay.days_left']").count() == 1
    assert "ROJAS" in page.text_content("#document")

    # Refuse: Tab to the ground, pick E by its letter, then Alt+R; the form opens from the focused link.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "ground"
    page.keyboard.press("E")
    assert page.input_value("#ground") == "E"
    page.keyboard.press("Alt+R")
    page.wait_for_selector("#refusal-link:not([hidden])")
    assert page.evaluate("document.activeElement.id") == "refusal-link"
    assert "officer-17" in page.text_content("#decided")
    with page.expect_popup() as opened:  # in a tab of its own: the desk stays as it is
        page.keyboard.press("Enter")
    form = page.request.get(opened.value.url)
    assert form.headers["content-type"] == "application/pdf" and form.body().startswith(b"%PDF")
    opened.value.close()

    # The next traveller (Alt+N), admitted with Alt+A.
    page.keyboard.press("Alt+N")
    assert page.evaluate("document.activeElement.id") == "mrz"
    page.keyboard.type(mrz("B7777778"))
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_selector("#all-shown:not([hidden])", timeout=30000)
    # The face captured again (Alt+C): its rows replaced, every check shown once more, the decision next.
    page.keyboard.press("Alt+C")
    page.wait_for_selector("#checks tr[data-check='face.capture'] td:has-text('capture 2, taken again')",
                           timeout=30000)
    page.wait_for_selector("#all-shown:not([hidden])", timeout=30000)
    assert page.locator("#checks tr[data-check='face.capture']").count() == 1
    assert page.locator("#checks tr[data-check='face.verification']").count() == 1
    assert page.evaluate("document.activeElement.id") == "h-decision"
    page.keyboard.press("Alt+A")
    page.wait_for_selector("#decided:has-text('officer-17')")  # (wait_for_function would eval under the CSP)
    assert post.counter.current.decided["decision"] == "admit"
    context.close()
