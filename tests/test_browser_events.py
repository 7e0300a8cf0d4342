"""Events in a real browser: a guest RSVPs on a phone and opens their ticket; staff check
tickets in at the door by typed code, twice, offline, and with a lost answer.

Uses Debian's chromium like tests/test_browser.py (skips without it, unless
``HOTEL_COMMUNITY_REQUIRE_BROWSER=1``).
"""
from __future__ import annotations

import io
import os
import threading
from dataclasses import dataclass
from datetime import timezone
from pathlib import Path
from typing import Iterator
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import select
from werkzeug.serving import make_server

from hotel_community import migrations
from hotel_community.database import session
from hotel_community.models import Ticket
from hotel_community.services import access, events
from hotel_community.services.qr import qr_png
from tests.conftest import make_app
from tests.factories import check_in_by_hand, member_of
from tests.services.test_events import make_event, occurrence_of
from tests.test_browser import (  # noqa: F401 (fixture)
    STAFF_PASSWORD, STAFF_USER, browser, staff_signs_in,
)

pytestmark = pytest.mark.browser


@dataclass
class Party:
    """The live server, the evening's occurrence, and guests staying in house."""

    app: Flask
    url: str
    occurrence_id: int
    guest_link: str
    member_ids: list[int]

    def ticket_of(self, member_id: int) -> Ticket:
        with self.app.app_context():
            session.expire_all()
            ticket = session.scalars(select(Ticket).where(Ticket.member_id == member_id)).one()
            session.expunge(ticket)
            return ticket

    def rsvp(self, member_id: int) -> str:
        """A place taken by the service, as another guest's phone would; returns its code."""
        with self.app.app_context():
            from hotel_community.models import Member

            return events.rsvp(self.occurrence_id, session.get(Member, member_id)).code


@pytest.fixture
def party(tmp_path: Path) -> Iterator[Party]:
    from hotel_community.services import properties, staff

    app = make_app(f"sqlite:///{tmp_path / 'events.sqlite3'}")
    with app.app_context():
        migrations.upgrade()
        prop = properties.create_property("TEST", "Harbour Test Hotel", "Asia/Shanghai", "CNY")
        staff.create_staff(STAFF_USER, STAFF_PASSWORD, "Front Desk")
        occurrence_id = occurrence_of(make_event(prop, capacity=20)).id
        stays = [check_in_by_hand(prop, room, (first, last)) for room, first, last in (
            ("1204", "Mei", "Chen"), ("1206", "Tom", "Berg"), ("1208", "Ana", "Lima"))]
        member_ids = [member_of(stay).id for stay in stays]
        with app.test_request_context():
            link = urlsplit(access.access_url(member_of(stays[0]), stays[0])).path
        app.extensions["sqlalchemy"].session.remove()
    http = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    try:
        yield Party(app, f"http://127.0.0.1:{http.server_port}", occurrence_id, link, member_ids)
    finally:
        http.shutdown()
        thread.join(timeout=10)
        with app.app_context():
            app.extensions["sqlalchemy"].engine.dispose()


def test_a_guest_rsvps_on_a_phone_and_staff_check_the_ticket_in_at_the_door(
        browser, party: Party, tmp_path: Path):  # noqa: F811 (fixture)
    code = guest_rsvps_and_opens_the_ticket(browser, party, tmp_path)

    desk = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    page = desk.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    staff_signs_in(page, party.url)
    page.goto(f"{party.url}/community/staff/door/{party.occurrence_id}")
    assert "Nightly mixer" in page.locator("h1").inner_text()
    result, headline = page.locator("[data-result]"), page.locator("[data-headline]")

    # The code typed at the door: valid; typed again: already used, when and by whom.
    type_code(page, code)
    page.wait_for_selector("[data-result][data-kind=admitted]")
    assert headline.inner_text() == "Valid"
    assert "Admit 1: Mei Chen" in result.inner_text()
    assert page.locator("[data-checked-in]").inner_text() == "1"
    type_code(page, code)
    page.wait_for_selector("[data-result][data-kind=already_used]")
    used = party.ticket_of(party.member_ids[0]).checked_in_at
    local = used.replace(tzinfo=timezone.utc).astimezone(ZoneInfo("Asia/Shanghai"))
    assert headline.inner_text() == "Already used"
    detail = page.locator("[data-detail]").inner_text()
    assert detail.startswith(f"at {local:%H:%M}") and detail.endswith("by Front Desk"), detail
    assert page.locator("[data-checked-in]").inner_text() == "1"

    # Offline: the scan is queued, and sent when the connection comes back.
    second = party.rsvp(party.member_ids[1])
    desk.set_offline(True)
    type_code(page, second)
    status = page.locator("[data-queue-status]")
    status.wait_for()
    assert status.inner_text() == "Offline: 1 scan queued, will send when back online"
    assert party.ticket_of(party.member_ids[1]).checked_in_at is None
    page.screenshot(path=str(tmp_path / "door_offline.png"), full_page=True)
    desk.set_offline(False)
    page.wait_for_selector("[data-result][data-kind=admitted]")
    assert "Admit 1: Tom Berg" in result.inner_text()
    assert status.is_hidden()
    assert page.evaluate("localStorage.getItem('hc-door-queue:%d')" % party.occurrence_id) == "[]"
    admitted = party.ticket_of(party.member_ids[1])
    assert admitted.checked_in_at is not None and admitted.checked_in_by == "staff:Front Desk"

    # The server admits but the answer is lost: the scan stays queued, is sent again with
    # the same scan id, and is the same admission (not "already used").
    third = party.rsvp(party.member_ids[2])
    lost: list[str] = []

    def lose_the_first_answer(route) -> None:
        if lost:
            return route.continue_()
        lost.append(route.request.post_data or "")
        route.fetch()  # the server checks the ticket in ...
        route.abort("internetdisconnected")  # ... and the answer never arrives

    page.route("**/check-in*", lose_the_first_answer)
    type_code(page, third)
    status.wait_for()
    assert "1 scan queued" in status.inner_text()
    first_admission = party.ticket_of(party.member_ids[2])
    assert first_admission.checked_in_at is not None
    page.wait_for_selector("[data-result][data-kind=admitted]:has-text('Ana Lima')", timeout=20_000)
    assert party.ticket_of(party.member_ids[2]).checked_in_at == first_admission.checked_in_at
    assert page.locator("[data-checked-in]").inner_text() == "3"
    assert not errors, errors
    desk.close()


def guest_rsvps_and_opens_the_ticket(browser, party: Party, tmp_path: Path) -> str:  # noqa: F811
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True,
                                has_touch=True, device_scale_factor=3, locale="en-GB")
    page = phone.new_page()
    page.set_default_timeout(15_000)
    response = page.goto(party.url + party.guest_link)
    assert response is not None and response.ok, response and response.status
    page.goto(f"{party.url}/community/events/{party.occurrence_id}")
    page.get_by_role("button", name="RSVP").click()
    page.wait_for_selector("[data-my-status=confirmed]")
    page.locator("[data-ticket-link]").click()
    page.wait_for_url("**/community/events/tickets/*")
    code = page.locator("[data-ticket-code]").get_attribute("data-ticket-code")
    assert code and code in page.locator("main").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(tmp_path / "ticket_phone.png"), full_page=True)
    phone.close()
    return code



def type_code(page, code: str) -> None:
    page.fill("[data-typed] input[name=code]", code)
    page.get_by_role("button", name="Check in").click()


def test_the_door_camera_reads_a_ticket_qr(party: Party, tmp_path: Path):
    """Chromium's fake camera plays a still of the ticket's QR code; jsQR reads it once."""
    from tests.test_browser import CHROMIUM, CHROMIUM_ARGS, _unavailable

    if not os.access(CHROMIUM, os.X_OK):
        _unavailable(f"{CHROMIUM} is missing")
    from playwright.sync_api import sync_playwright

    code = party.rsvp(party.member_ids[0])
    video = tmp_path / "ticket.y4m"
    write_still_video(video, qr_png(code, box_size=10))
    camera = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
              f"--use-file-for-fake-video-capture={video}"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=CHROMIUM_ARGS + camera)
        try:
            page = browser.new_context(viewport={"width": 820, "height": 1180}).new_page()
            page.set_default_timeout(15_000)
            staff_signs_in(page, party.url)
            page.goto(f"{party.url}/community/staff/door/{party.occurrence_id}")
            page.get_by_role("button", name="Start camera").click()
            page.wait_for_selector("[data-result][data-kind=admitted]")
            assert "Admit 1: Mei Chen" in page.locator("[data-detail]").inner_text()
            # The code stays in front of the camera: read again and again, sent once.
            page.wait_for_timeout(1500)
            assert page.locator("[data-recent] li").count() == 1
        finally:
            browser.close()
    assert party.ticket_of(party.member_ids[0]).checked_in_at is not None


def write_still_video(path: Path, png: bytes, frames: int = 10) -> None:
    """A grey-scale Y4M video of one image, centred on white (Chromium's fake camera reads Y4M)."""
    from PIL import Image

    width, height = 640, 480
    frame = Image.new("L", (width, height), 255)
    image = Image.open(io.BytesIO(png)).convert("L")
    image.thumbnail((height - 40, height - 40))
    frame.paste(image, ((width - image.width) // 2, (height - image.height) // 2))
    chroma = bytes([128]) * (width * height // 2)  # 4:2:0, no colour
    with path.open("wb") as video:
        video.write(f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            video.write(b"FRAME\n" + frame.tobytes() + chroma)
