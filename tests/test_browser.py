"""A real browser on a real server: the front desk checks a guest in, the guest opens the link.

Playwright drives Debian's chromium (``/usr/bin/chromium``; never a downloaded
browser). Without it the test skips, unless ``HOTEL_COMMUNITY_REQUIRE_BROWSER=1``
(CI), where it fails.
"""
from __future__ import annotations

import os
import re
import threading
from datetime import date, timedelta
from pathlib import Path
from typing import Iterator

import pytest
from werkzeug.serving import make_server

from hotel_community import migrations
from tests.conftest import make_app

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
REQUIRE_BROWSER = os.environ.get("HOTEL_COMMUNITY_REQUIRE_BROWSER") == "1"
STAFF_USER, STAFF_PASSWORD = "frontdesk", "correct horse battery"
CHINESE = re.compile(r"[\u4e00-\u9fff]")


def _unavailable(reason: str) -> None:
    if REQUIRE_BROWSER:
        pytest.fail(f"{reason} (HOTEL_COMMUNITY_REQUIRE_BROWSER=1)")
    pytest.skip(f"{reason}; install it (apt-get install chromium) to run the browser test")


@pytest.fixture
def browser():
    if not os.access(CHROMIUM, os.X_OK):
        _unavailable(f"{CHROMIUM} is missing")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Playwright's Python package is not installed")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                             headless=True)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """The host app with the extension, on a migrated SQLite file, served on a free port."""
    from hotel_community.services import properties, staff

    app = make_app(f"sqlite:///{tmp_path / 'browser.sqlite3'}")
    with app.app_context():
        migrations.upgrade()
        properties.create_property("TEST", "Harbour Test Hotel", "Asia/Shanghai", "CNY")
        staff.create_staff(STAFF_USER, STAFF_PASSWORD, "Front Desk")
        app.extensions["sqlalchemy"].session.remove()
    http = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{http.server_port}"
    finally:
        http.shutdown()
        thread.join(timeout=10)
        with app.app_context():
            app.extensions["sqlalchemy"].engine.dispose()


def staff_signs_in(page, url: str) -> None:
    """Sign the front desk's staff user in on ``page`` (the site at ``url``)."""
    page.goto(f"{url}/community/staff/")
    page.fill("input[name=username]", STAFF_USER)
    page.fill("input[name=password]", STAFF_PASSWORD)
    page.locator("form:has(input[name=password]) button[type=submit]").click()
    page.wait_for_load_state()
    assert "/login" not in page.url, page.content()


def test_front_desk_checks_a_guest_in_and_the_guest_sees_the_stay_group_in_chinese(
        browser, server: str, tmp_path: Path):
    desk = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    page = desk.new_page()
    page.set_default_timeout(15_000)

    # Staff signs in with a built-in account.
    page.goto(f"{server}/community/staff/")
    assert "/community/staff/login" in page.url
    page.fill("input[name=username]", STAFF_USER)
    page.fill("input[name=password]", STAFF_PASSWORD)
    page.locator("form:has(input[name=password]) button[type=submit]").click()
    page.wait_for_load_state()
    assert "/login" not in page.url, page.content()

    # Checks a guest in by hand: room, dates, guest name; language left empty.
    page.goto(f"{server}/community/staff/check-in")
    arrival = date.today()
    form = page.locator("form:has(input[name=room])")
    form.locator("input[name=room]").fill("1204")
    form.locator("input[name=arrival]").fill(arrival.isoformat())
    form.locator("input[name=departure]").fill((arrival + timedelta(days=2)).isoformat())
    form.locator("input[name='guests-0-first_name']").fill("Mei")
    form.locator("input[name='guests-0-last_name']").fill("Chen")
    assert form.locator("select[name='guests-0-language']").input_value() == ""
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()
    row = page.locator("tr[data-room='1204']")
    assert row.count() == 1, page.content()
    assert "Mei Chen" in row.inner_text()

    # Opens the guest's welcome card and takes the guest link from it.
    row.locator("a[href*='/welcome/']").first.click()
    page.wait_for_load_state()
    assert "Mei Chen" in page.locator("body").inner_text()
    link = page.locator("a[href*='/community/a/']").first.get_attribute("href")
    assert link and link.startswith(f"{server}/community/a/"), link
    assert page.locator("svg").count() >= 1  # the QR code

    # The guest opens it on a phone whose browser asks for Chinese.
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True,
                                has_touch=True, device_scale_factor=3, locale="zh-CN")
    guest_page = phone.new_page()
    guest_page.set_default_timeout(15_000)
    response = guest_page.goto(link)
    assert response is not None and response.ok, response and response.status
    assert guest_page.url.endswith("/community/group"), guest_page.url
    assert guest_page.evaluate("navigator.language").startswith("zh")
    assert guest_page.locator("html").get_attribute("lang") == "zh-Hans"
    heading = guest_page.locator("h1").inner_text()
    assert CHINESE.search(heading), f"stay group heading not in Chinese: {heading!r}"
    assert "Mei" in heading
    body = guest_page.locator("main").inner_text()
    assert "Harbour Test Hotel" in guest_page.locator("body").inner_text()
    assert len(CHINESE.findall(body)) >= 10, f"too little Chinese on the page: {body!r}"
    assert "Who is here" not in body and "Welcome" not in body
    # Mobile-first: nothing wider than the phone's screen.
    assert guest_page.evaluate("document.documentElement.scrollWidth") <= 390

    screenshot = tmp_path / "stay_group_zh_phone.png"
    guest_page.screenshot(path=str(screenshot), full_page=True)
    assert screenshot.stat().st_size > 1000
    print(f"screenshot: {screenshot}")
    phone.close()
    desk.close()
