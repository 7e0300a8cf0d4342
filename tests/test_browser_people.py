"""Two guests on their phones meet: visible, suggested, say hello, accept, see each other's contact,
then one posts in the feed and the other sees it appear without reloading (issue 3's acceptance).

Same rules as ``tests/test_browser.py``: Debian's chromium through Playwright,
skipped without it unless ``HOTEL_COMMUNITY_REQUIRE_BROWSER=1``.
"""
from __future__ import annotations

import threading
from pathlib import Path
from typing import Iterator
from urllib.parse import urlsplit

import pytest
from flask import Flask
from werkzeug.serving import make_server

from hotel_community import migrations
from tests.conftest import make_app
from tests.factories import check_in_by_hand
from tests.test_browser import browser  # noqa: F401  (the fixture)

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True,
         "device_scale_factor": 2, "locale": "en-GB"}
GUESTS = {
    "mei": (("Mei", "Chen"), ("wechat", "mei_chen_88")),
    "vera": (("Vera", "Lopez"), ("email", "vera@example.com")),
}


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Flask]]:
    """The host app on a migrated SQLite file, served on a free port; and the app itself."""
    from hotel_community.services import properties

    app = make_app(f"sqlite:///{tmp_path / 'people.sqlite3'}",
                   HOTEL_COMMUNITY_UPLOAD_FOLDER=str(tmp_path / "media"))
    with app.app_context():
        migrations.upgrade()
        properties.create_property("TEST", "Harbour Test Hotel", "Asia/Shanghai", "CNY")
        app.extensions["sqlalchemy"].session.remove()
    http = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{http.server_port}", app
    finally:
        http.shutdown()
        thread.join(timeout=10)
        with app.app_context():
            app.extensions["sqlalchemy"].engine.dispose()


def check_in_two_guests(app: Flask) -> dict[str, str]:
    """Both checked in by the front desk, with a profile (still hidden); their link paths."""
    from hotel_community.services import access, profiles
    from hotel_community.services.properties import get_property

    links = {}
    with app.app_context():
        prop = get_property("TEST")
        for key, (name, contact) in GUESTS.items():
            stay = check_in_by_hand(prop, "1204" if key == "mei" else "1310", name)
            member = stay.guests[0].member
            profiles.update_profile(member, interests=["Hiking", "Tea"], languages=["en", "zh"],
                                    home_city="Lisbon" if key == "vera" else "Shanghai",
                                    contact=contact)
            assert member.visible is False
            with app.test_request_context():
                links[key] = urlsplit(access.access_url(member, stay)).path
        app.extensions["sqlalchemy"].session.remove()
    return links


def test_two_guests_meet_and_see_each_others_contact(browser, served, tmp_path: Path):  # noqa: F811
    server, app = served
    links = check_in_two_guests(app)
    phones = {key: browser.new_context(**PHONE) for key in GUESTS}
    pages = {}
    for key, context in phones.items():
        page = context.new_page()
        page.set_default_timeout(15_000)
        response = page.goto(server + links[key])
        assert response is not None and response.ok
        assert page.url.endswith("/community/group"), page.url
        # Each turns on "Show me to other guests" (the switch submits itself).
        switch = page.locator("input[name=visible]")
        assert not switch.is_checked()
        with page.expect_navigation():
            switch.check()
        assert page.locator("input[name=visible]").is_checked()
        pages[key] = page
    mei, vera = pages["mei"], pages["vera"]

    # Mei opens "Meet people": Vera is suggested, with why.
    mei.locator("a[data-people-link]").click()
    mei.wait_for_load_state()
    suggestion = mei.locator("[data-suggestions] li[data-member-card]")
    assert suggestion.count() == 1, mei.content()
    assert "Vera L." in suggestion.inner_text()
    assert "You both like Hiking, Tea" in suggestion.locator("[data-reasons]").inner_text()
    assert "vera@example.com" not in mei.content()
    mei.screenshot(path=str(tmp_path / "people_suggested.png"), full_page=True)
    assert mei.evaluate("document.documentElement.scrollWidth") <= 390
    suggestion.locator("button[data-say-hello]").click()
    mei.wait_for_load_state()
    assert "You said hello" in mei.locator("body").inner_text()

    # Vera sees the request on her connections page and accepts it.
    vera.locator("a[data-people-link]").click()
    vera.wait_for_load_state()
    vera.locator("a[data-connections-link]").click()
    vera.wait_for_load_state()
    request = vera.locator("[data-incoming] li")
    assert request.count() == 1 and "Mei C." in request.inner_text()
    assert "mei_chen_88" not in vera.content()
    request.locator("button[data-accept]").click()
    vera.wait_for_load_state()

    # Both see the contact the other chose to share, and only that one.
    vera_contact = vera.locator("[data-connections] [data-contact]").inner_text()
    assert "mei_chen_88" in vera_contact and "WeChat" in vera_contact
    assert "vera@example.com" not in vera.content()
    assert "Stayed together at Harbour Test Hotel in" in vera.locator("[data-met]").inner_text()
    mei.goto(f"{server}/community/people/connections")
    mei_contact = mei.locator("[data-connections] [data-contact]").inner_text()
    assert "vera@example.com" in mei_contact
    assert "mei_chen_88" not in mei.content()
    for key, page in pages.items():
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        shot = tmp_path / f"people_connections_{key}.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 1000
        print(f"screenshot: {shot}")

    # Both open the stay group feed; Mei posts, and Vera's open page shows it without a reload.
    for page in (mei, vera):
        page.goto(f"{server}/community/group")
        page.get_by_role("link", name="Open the group feed").click()
        page.wait_for_selector("#feed-body")
    vera.evaluate("window.stillTheSamePage = true")
    mei.fill("#feed-body", "Thanks for the tea tip, Vera! Mixer at 7?")
    mei.get_by_role("button", name="Post", exact=True).click()
    mei.wait_for_load_state()
    vera.wait_for_selector("text=Thanks for the tea tip, Vera! Mixer at 7?", timeout=15_000)
    assert vera.evaluate("window.stillTheSamePage") is True  # never reloaded
    assert "Mei C." in vera.locator("[data-feed-posts] > li.post").first.inner_text()
    vera.screenshot(path=str(tmp_path / "feed_live_vera.png"), full_page=True)
    for context in phones.values():
        context.close()
