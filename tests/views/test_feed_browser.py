"""The feed in a real browser: a post appears on another guest's open page without a reload."""
from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Iterator

import pytest
from werkzeug.serving import make_server

from hotel_community import migrations
from tests.conftest import make_app
from tests.factories import check_in_by_hand
from tests.test_browser import browser  # noqa: F401  (the chromium fixture)

pytestmark = pytest.mark.browser


@pytest.fixture
def hotel(tmp_path: Path) -> Iterator[dict]:
    """A served app with two guests in house: their access links and the feed's path."""
    from hotel_community.models import GroupKind
    from hotel_community.services import access, community, properties

    app = make_app(f"sqlite:///{tmp_path / 'feed.sqlite3'}", HOTEL_COMMUNITY_FEED_POLL_SECONDS=1)
    http = make_server("127.0.0.1", 0, app, threaded=True)
    base = f"http://127.0.0.1:{http.server_port}"
    with app.app_context():
        migrations.upgrade()
        prop = properties.create_property("TEST", "Harbour Test Hotel", "Asia/Shanghai", "CNY")
        stays = [check_in_by_hand(prop, room, name) for room, name in
                 (("1204", ("Mei", "Chen")), ("1205", ("Oliver", "Smith")))]
        for stay in stays:
            community.set_visible(stay.guests[0].member_id, True)
        with app.test_request_context(base_url=base):
            links = [access.access_url(stay.guests[0].member, stay) for stay in stays]
        feed_path = f"/community/groups/{properties.groups_by_kind(prop)[GroupKind.stay].id}/"
        app.extensions["sqlalchemy"].session.remove()
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    try:
        yield {"base": base, "links": links, "feed": base + feed_path}
    finally:
        http.shutdown()
        thread.join(timeout=10)
        with app.app_context():
            app.extensions["sqlalchemy"].engine.dispose()


def test_a_post_appears_on_the_other_guests_page_without_reloading(browser, hotel, tmp_path):  # noqa: F811
    shots = Path(os.environ.get("HOTEL_COMMUNITY_SCREENSHOTS", tmp_path))
    phone = {"viewport": {"width": 390, "height": 844}, "locale": "en-GB"}
    mei, oliver = (browser.new_context(**phone).new_page() for _ in range(2))
    for page, link in zip((mei, oliver), hotel["links"]):
        page.goto(link)
        page.get_by_role("link", name="Open the group feed").click()
        page.wait_for_url(hotel["feed"])

    oliver.fill("#feed-body", "Drinks on the roof at 8? https://example.com/roof")
    oliver.get_by_role("button", name="Post", exact=True).click()
    oliver.wait_for_url(hotel["feed"])
    oliver.fill("#feed-body", '<script>window.pwned = 1</script><img src=x onerror="window.pwned = 2">')
    oliver.get_by_role("button", name="Post", exact=True).click()
    oliver.wait_for_url(hotel["feed"])

    # Mei's page, opened before, shows both without a reload, the newest on top.
    mei.wait_for_selector("text=Drinks on the roof at 8?", timeout=10_000)
    mei.wait_for_selector("text=<script>window.pwned = 1</script>", timeout=10_000)
    posts = mei.locator("[data-feed-posts] > li.post")
    assert posts.count() == 2
    assert "window.pwned" in posts.nth(0).inner_text()
    assert mei.evaluate("window.pwned") is None  # shown as text, never run
    link = mei.get_by_role("link", name="https://example.com/roof")
    assert link.get_attribute("rel") == "nofollow noopener noreferrer ugc"
    assert "Oliver S." in posts.nth(1).inner_text()
    mei.screenshot(path=str(shots / "feed-live-update.png"), full_page=True)

    # She reacts and replies; Oliver sees both on his next load.
    posts.nth(1).get_by_role("button", name="Love").click()
    mei.wait_for_url(f"{hotel['feed']}#post-*")
    mei.locator("[data-feed-posts] > li.post").nth(1).locator("textarea").fill("Count me in!")
    mei.locator("[data-feed-posts] > li.post").nth(1).get_by_role("button", name="Reply").click()
    oliver.reload()
    roof = oliver.locator("li.post", has_text="Drinks on the roof")
    assert "Count me in!" in roof.inner_text() and "Mei C." in roof.inner_text()
    assert roof.locator("[data-reaction=heart]").inner_text().endswith("1")
    oliver.screenshot(path=str(shots / "feed-phone.png"), full_page=True)
