"""A front desk clerk links the hotel to Mews in a real browser, tests the connection and
copies the webhook URL; Mews's webhook then puts the guest in the stay group, fetched after
the answer. The Mews Connector API is the fake of tests/pms/mews_fake.py on 127.0.0.1."""
from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Iterator
from zoneinfo import ZoneInfo

import pytest
import requests

from tests.pms.mews_fake import ACCESS_TOKEN, CLIENT_TOKEN, ENTERPRISE_ID, SERVICE_ID, MewsFake
from tests.test_browser import browser, server, staff_signs_in  # noqa: F401 (fixtures)


@pytest.fixture
def mews() -> Iterator[MewsFake]:
    fake = MewsFake().start()
    yield fake
    fake.stop()


def test_staff_link_mews_and_its_webhook_fills_the_stay_group(browser, server: str, mews):
    base = server
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.set_default_timeout(15_000)
    staff_signs_in(page, base)

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
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    guest = mews.customer("Mei", "Chen", email="mei@example.com")
    reservation = mews.book(guest, arrival=today - timedelta(days=1),
                            departure=today + timedelta(days=2), room="1204")
    mews.check_in(reservation)
    answer = requests.post(webhook, json=mews.reservation_updated(reservation), timeout=5)
    assert answer.status_code == 202, answer.text

    # Fetched from Mews after the answer: the guest is soon on the in-house page.
    deadline = time.monotonic() + 15
    while "Mei Chen" not in in_house(page, base) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert "1204" in in_house(page, base)

    page.goto(f"{base}/community/staff/pms?property=TEST")
    assert page.inner_text("[data-count=done]") == "1"
    assert "applied" in page.inner_text("[data-notifications]")


def in_house(page, base: str) -> str:
    page.goto(f"{base}/community/staff/?property=TEST")
    return page.inner_text("main")
