"""Scan to buy in a real browser: a phone opens a placement's URL, pays by card through
localstripe's fake Stripe.js, the order shows paid, and staff fulfil it.

Uses Debian's chromium like tests/test_browser.py (skips without it, unless
``HOTEL_COMMUNITY_REQUIRE_BROWSER=1``), and localstripe from tests/stripe_server.py,
which also delivers its signed webhook to the live server.
"""
from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Iterator

import pytest
from flask import request, request_finished
from werkzeug.serving import make_server

from hotel_community import migrations
from hotel_community.services import shop
from tests.conftest import make_app
from tests.factories import make_product, place
from tests.stripe_server import LocalStripe, fill_card
from tests.test_browser import (  # noqa: F401 (fixture)
    STAFF_PASSWORD, STAFF_USER, browser, staff_signs_in,
)

pytestmark = pytest.mark.browser

WEBHOOK = "/community/api/v1/payments/stripe/webhook"


class Shop:
    """The live server: its URL, the placement to scan, and the webhooks it answered."""

    def __init__(self, url: str, code: str) -> None:
        self.url, self.code = url, code
        self.webhook_statuses: list[int] = []

    def wait_for_webhook(self, seconds: float = 20) -> list[int]:
        deadline = time.monotonic() + seconds
        while not self.webhook_statuses and time.monotonic() < deadline:
            time.sleep(0.1)
        return self.webhook_statuses


@pytest.fixture
def live_shop(tmp_path: Path, localstripe: LocalStripe) -> Iterator[Shop]:
    """The host app on a migrated SQLite file, Stripe on localstripe, one product on sale."""
    from hotel_community.services import properties, staff

    app = make_app(f"sqlite:///{tmp_path / 'shop.sqlite3'}", **localstripe.config())
    with app.app_context():
        migrations.upgrade()
        prop = properties.create_property("TEST", "Harbour Test Hotel", "Asia/Shanghai", "CNY")
        staff.create_staff(STAFF_USER, STAFF_PASSWORD, "Front Desk")
        code = place(make_product(prop, name_en="Silk pillow", price=12999, stock=3), "1204").code
        app.extensions["sqlalchemy"].session.remove()
    http = make_server("127.0.0.1", 0, app, threaded=True)
    live = Shop(f"http://127.0.0.1:{http.server_port}", code)

    def note_webhook(sender, response, **extra) -> None:
        if request.path == WEBHOOK:
            live.webhook_statuses.append(response.status_code)

    request_finished.connect(note_webhook, app)
    localstripe.send_webhooks_to(live.url + WEBHOOK)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    try:
        yield live
    finally:
        http.shutdown()
        thread.join(timeout=10)
        request_finished.disconnect(note_webhook, app)
        with app.app_context():
            app.extensions["sqlalchemy"].engine.dispose()


def test_a_guest_buys_by_card_on_a_phone_and_staff_fulfil_the_order(
        browser, live_shop: Shop, tmp_path: Path):  # noqa: F811 (fixture)
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True,
                                has_touch=True, device_scale_factor=3, locale="en-GB")
    page = phone.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    # The guest scans the QR code on the pillow's tag and buys it to pick up at the desk.
    response = page.goto(f"{live_shop.url}/community/p/{live_shop.code}")
    assert response is not None and response.ok, response and response.status
    assert page.locator("h1").inner_text() == "Silk pillow"
    page.check(f"input[name=delivery][value={shop.DESK_PICKUP}]")
    page.check("input[name=provider][value=stripe]")
    page.get_by_role("button", name="Buy").click()
    page.wait_for_url("**/community/orders/*")
    assert page.locator("[data-order-status]").get_attribute("data-order-status") == "pending_payment"
    order_url = page.url

    # localstripe's Stripe.js card form, filled in like a guest would.
    card = fill_card(page, cvc="12")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    # A short security code: Stripe refuses the card, the guest reads why and corrects it.
    page.locator("[data-stripe-pay]").click()
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert alert.inner_text().strip(), "no reason shown"
    assert page.url == order_url and page.locator("[data-stripe-pay]").is_enabled()
    card.locator("input[placeholder=cvc]").fill("123")
    page.screenshot(path=str(tmp_path / "pay_phone.png"), full_page=True)
    page.locator("[data-stripe-pay]").click()

    # Back on the order page, paid; Stripe's signed webhook comes too and is taken.
    page.wait_for_selector("[data-order-status=paid]")
    assert page.url == order_url
    assert "Paid" in page.locator("[data-order-status]").inner_text()
    assert page.locator("[data-stripe-payment]").count() == 0
    assert live_shop.wait_for_webhook() and set(live_shop.webhook_statuses) == {200}
    assert not errors, errors

    # Staff sign in, see the order paid, and fulfil it.
    desk = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    staff_page = desk.new_page()
    staff_page.set_default_timeout(15_000)
    staff_signs_in(staff_page, live_shop.url)
    staff_page.goto(f"{live_shop.url}/community/staff/orders")
    row = staff_page.locator("tr[data-order]")
    assert row.count() == 1, staff_page.content()
    assert row.locator("[data-status]").inner_text() == "Paid"
    row.locator("a[href*='/staff/orders/']").first.click()
    staff_page.wait_for_load_state()
    assert "Paid" in staff_page.locator("h1").inner_text()
    staff_page.click("text=Mark fulfilled")
    staff_page.wait_for_load_state()
    assert "Fulfilled" in staff_page.locator("[data-status]").inner_text()
    assert "Mark fulfilled" not in staff_page.locator("main").inner_text()

    # The guest's page says so too.
    page.reload()
    assert page.locator("[data-order-status]").get_attribute("data-order-status") == "fulfilled"
    desk.close()
    phone.close()
