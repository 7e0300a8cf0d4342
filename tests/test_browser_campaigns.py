"""Crowdfunding in a real browser: a former guest opens a campaign on a phone, picks a reward,
saves a test card in localstripe's fake Stripe.js form, the pledge shows active, and staff
find it in the campaign's pledges.

Uses Debian's chromium like tests/test_browser.py (skips without it, unless
``HOTEL_COMMUNITY_REQUIRE_BROWSER=1``), and localstripe from tests/stripe_server.py.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Iterator
from urllib.parse import urlsplit

import pytest
from werkzeug.serving import make_server

from hotel_community import migrations
from hotel_community.services import access
from hotel_community.services.access import today_at
from tests.conftest import make_app
from tests.factories import check_in_by_hand, member_of
from tests.services.test_campaigns import make_campaign, tier
from tests.stripe_server import LocalStripe, fill_card
from tests.test_browser import (  # noqa: F401 (fixture)
    STAFF_PASSWORD, STAFF_USER, browser, staff_signs_in,
)

pytestmark = pytest.mark.browser


@dataclass(frozen=True)
class Site:
    url: str
    campaign_id: int
    tier_id: int
    #: The former guest's access link (a path).
    guest_link: str


@pytest.fixture
def site(tmp_path: Path, localstripe: LocalStripe) -> Iterator[Site]:
    """The host app on a migrated SQLite file, Stripe on localstripe, a live campaign, and a
    member who stayed once (checked out)."""
    from hotel_community.services import properties, staff

    app = make_app(f"sqlite:///{tmp_path / 'campaigns.sqlite3'}", **localstripe.config())
    with app.app_context():
        migrations.upgrade()
        prop = properties.create_property("TEST", "Harbour Test Hotel", "Asia/Shanghai", "CNY")
        staff.create_staff(STAFF_USER, STAFF_PASSWORD, "Front Desk")
        campaign = make_campaign(prop)
        today = today_at(prop)
        stay = check_in_by_hand(prop, "1204", ("Mei", "Chen"), status="checked_out",
                                arrival=today - timedelta(days=5),
                                departure=today - timedelta(days=2))
        with app.test_request_context():
            link = urlsplit(access.access_url(member_of(stay), stay)).path
        campaign_id, tier_id = campaign.id, tier(campaign, 5_000).id
        app.extensions["sqlalchemy"].session.remove()
    http = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    try:
        yield Site(f"http://127.0.0.1:{http.server_port}", campaign_id, tier_id, link)
    finally:
        http.shutdown()
        thread.join(timeout=10)
        with app.app_context():
            app.extensions["sqlalchemy"].engine.dispose()


def test_a_member_pledges_on_a_phone_and_staff_see_it(browser, site: Site):  # noqa: F811
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True,
                                has_touch=True, device_scale_factor=3, locale="en-GB")
    page = phone.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    # Signed in through their access link, the member finds the campaign from the community.
    page.goto(site.url + site.guest_link)
    page.locator("[data-campaigns-link]").click()
    page.locator(f"[data-campaign='{site.campaign_id}'] a.title").click()
    assert page.locator("[data-campaign-title]").inner_text() == "The new wing"
    page.check(f"input[name=tier][value='{site.tier_id}']")
    page.fill("input[name=amount]", "80.00")
    page.locator("[data-pledge-button]").click()

    # localstripe's Stripe.js card form: save the test card with confirmCardSetup.
    fill_card(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.locator("[data-save-card]").click()

    status = page.locator("[data-my-pledge-status=active]")
    status.wait_for()
    assert "nothing is charged unless the goal is reached" in status.inner_text()
    assert page.locator("[data-progress]").get_attribute("data-total") == "8000"
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert not errors, errors

    # Staff find the pledge in the campaign's list.
    desk = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    staff_page = desk.new_page()
    staff_page.set_default_timeout(15_000)
    staff_signs_in(staff_page, site.url)
    staff_page.goto(f"{site.url}/community/staff/campaigns/{site.campaign_id}")
    row = staff_page.locator("tr[data-pledge]")
    assert row.count() == 1, staff_page.content()
    assert "Mei Chen" in row.inner_text() and "80.00" in row.inner_text()
    assert "Active" in row.locator("[data-status]").inner_text()
    desk.close()
    phone.close()
