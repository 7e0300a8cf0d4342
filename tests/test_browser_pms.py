"""A front desk clerk links the hotel to Mews in a real browser, tests the connection and
copies the webhook URL; Mews's webhook then puts the guest in the stay group, fetched after
the answer. The Mews Connector API is the fake of tests/pms/mews_fake.py on 127.0.0.1."""
from __future__ import annotations

import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Iterator

import pytest
import requests
from werkzeug.serving import make_server

from hotel_community import migrations
from hotel_community.services.access import today_at
from tests.conftest import make_app
from tests.pms.mews_fake import ACCESS_TOKEN, CLIENT_TOKEN, ENTERPRISE_ID, SERVICE_ID, MewsFake
from tests.test_browser import STAFF_PASSWORD, STAFF_USER, browser  # noqa: F401 (fixture)


@pytest.fixture
def mews() -> Iterator[MewsFake]:
    fake = MewsFake().start()
    yield fake
    fake.stop()


@pytest.fixture
def live(tmp_path: Path) -> Iterator[tuple[str, object]]:
    """The host app on a migrated SQLite file, served on a free port; its URL and app."""
    from hotel_community.services import properties, staff

    app = make_app(f"sqlite:///{tmp_path / 'pms.sqlite3'}")
    with app.app_context():
        migrations.upgrade()
        properties.create_property("TEST", "Harbour Test Hotel", "Asia/Shanghai", "CNY")
        staff.create_staff(STAFF_USER, STAFF_PASSWORD, "Front Desk")
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


def stay_group(app) -> list[str]:
    from hotel_community.services import checkin, properties

    with app.app_context():
        names = [m.member.first_name for m in
                 checkin.stay_group_members(properties.get_property("TEST"))]
        app.extensions["sqlalchemy"].session.remove()
    return names


def test_staff_link_mews_and_its_webhook_fills_the_stay_group(browser, live, mews):
    base, app = live
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{base}/community/staff/login")
    page.fill("input[name=username]", STAFF_USER)
    page.fill("input[name=password]", STAFF_PASSWORD)
    page.locator("form:has(input[name=password]) button[type=submit]").click()
    page.wait_for_load_state()

    page.goto(f"{base}/community/staff/pms?property=TEST")
    page.select_option("select[name=adapter]", "mews")
    page.wait_for_selector("[data-settings-form]")
    for name, value in {"base_url": mews.url, "client_token": CLIENT_TOKEN,
                        "access_token": ACCESS_TOKEN, "enterprise_id": ENTERPRISE_ID,
                        "service_id": SERVICE_ID}.items():
        page.fill(f"input[name='setting-{name}']", value)
    page.locator("[data-settings-form] button[type=submit]").click()
    page.wait_for_selector("[data-linked]")
    assert CLIENT_TOKEN not in page.content()  # saved, never shown again

    page.get_by_role("button", name="Test the connection").click()
    page.wait_for_selector("[data-check=ok]")
    assert "Connected to" in page.inner_text("[data-connection]")

    webhook = page.input_value("[data-webhook-url]")
    assert webhook.startswith(f"{base}/community/api/v1/pms/mews/webhook?property=TEST&token=")

    # Mews books and checks a guest in, and calls the webhook URL staff gave it.
    with app.app_context():
        from hotel_community.services import properties
        today = today_at(properties.get_property("TEST"))
        app.extensions["sqlalchemy"].session.remove()
    guest = mews.customer("Mei", "Chen", email="mei@example.com")
    reservation = mews.book(guest, arrival=today - timedelta(days=1),
                            departure=today + timedelta(days=2), room="1204")
    mews.check_in(reservation)
    answer = requests.post(webhook, json=mews.reservation_updated(reservation), timeout=5)
    assert answer.status_code == 202, answer.text

    deadline = time.monotonic() + 15
    while stay_group(app) != ["Mei"] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert stay_group(app) == ["Mei"]

    page.reload()
    assert page.inner_text("[data-count=done]") == "1"
    assert "applied" in page.inner_text("[data-notifications]")
