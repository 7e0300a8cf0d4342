"""The Cloudbeds adapter against a fake Cloudbeds API: webhooks through the real route and
the inbox, stays as Cloudbeds has them, the in-house sync, and folio charges exactly once."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from hotel_community.database import session, utcnow
from hotel_community.models import PmsNotification, PmsNotificationStatus, RoomChargeStatus
from hotel_community.plugins.cloudbeds import ADAPTER
from hotel_community.services import checkin, orders, pms_inbox, pms_links, room_charges
from hotel_community.services.access import today_at
from tests.factories import community_state, make_product, member_of, place
from tests.pms.cloudbeds_fake import FakeCloudbeds
from tests.pms.memory import linked
from tests.pms.server import vendor_fixtures
from tests.services.test_room_charges import charge_to_room, charges_of

DELAY = timedelta(minutes=1)
STATUS_CHANGED = "reservation/status_changed"
MEI, WEI = ("G-1", "Mei", "Chen"), ("G-2", "Wei", "Li")


app_config, server, fake = vendor_fixtures(FakeCloudbeds)


@pytest.fixture
def url(prop, fake) -> str:
    return link(prop, fake)


def link(prop, fake: FakeCloudbeds, **settings: str) -> str:
    return linked(prop, ADAPTER, **{"base_url": fake.url, "api_key": fake.api_key,
                                    "property_id": fake.property_id, **settings})


def book(prop, fake: FakeCloudbeds, reservation: str = "RES-1", *guests, **kwargs: Any) -> None:
    today = today_at(prop)
    fake.book(reservation, *(guests or [MEI]), start=today - timedelta(days=1),
              end=today + timedelta(days=2), **kwargs)


def deliver(client, fake: FakeCloudbeds, url: str, reservation: str = "RES-1",
            event: str = STATUS_CHANGED, process: bool = True) -> None:
    response = client.post(url, json=fake.webhook_body(event, reservation))
    assert response.status_code == 202, response.json
    if process:
        pms_inbox.process_due()


def state(prop) -> dict[str, Any]:
    return community_state(prop)


def notifications() -> list[PmsNotification]:
    session.expire_all()
    return list(session.scalars(select(PmsNotification).order_by(PmsNotification.id)))


def checked_in(client, prop, fake: FakeCloudbeds, url: str, *guests, room: str = "1204"):
    book(prop, fake, "RES-1", *guests, room=room, status="checked_in")
    deliver(client, fake, url)
    return checkin.find_stay(prop, "RES-1")


# --------------------------------------------------------------------------- stays

def test_a_check_in_puts_the_guest_in_the_stay_group(client, prop, fake, url):
    book(prop, fake)
    deliver(client, fake, url)
    assert state(prop)["stay_group"] == []

    fake.set_status("RES-1", "checked_in")
    deliver(client, fake, url)

    assert state(prop)["stay_group"] == ["Mei Chen"]
    stay = checkin.find_stay(prop, "RES-1")
    today = today_at(prop)
    assert (stay.room, stay.arrival, stay.departure) == (
        "1204", today - timedelta(days=1), today + timedelta(days=2))
    [guest] = stay.guests
    assert (guest.pms_guest_id, guest.is_primary, guest.member.email) == (
        "G-1", True, "mei@example.com")
    fetch = fake.requests[-1]
    assert fetch["path"] == "/api/v1.2/getReservation"
    assert fetch["args"] == {"propertyID": [fake.property_id], "reservationID": ["RES-1"]}
    assert fetch["headers"]["X-Api-Key"] == fake.api_key


def test_the_same_webhook_twice_is_fetched_once_and_applied_once(client, prop, fake, url):
    book(prop, fake, status="checked_in")
    deliver(client, fake, url, process=False)
    deliver(client, fake, url)
    deliver(client, fake, url)  # once more after it was applied

    assert fake.paths().count("/api/v1.2/getReservation") == 2
    assert [note.deliveries for note in notifications()] == [2, 1]
    assert state(prop)["stay_group"] == ["Mei Chen"]


def test_a_late_check_in_webhook_after_the_check_out_keeps_the_guest_out(client, prop, fake, url):
    book(prop, fake, status="checked_in")
    late_check_in = fake.webhook_body(STATUS_CHANGED, "RES-1")
    fake.set_status("RES-1", "checked_out")
    deliver(client, fake, url)
    assert state(prop)["alumni"] == ["Mei Chen"]

    assert client.post(url, json=late_check_in).status_code == 202
    pms_inbox.process_due()

    assert late_check_in["status"] == "checked_in"  # the body says so; Cloudbeds says otherwise
    assert (state(prop)["stay_group"], state(prop)["alumni"]) == ([], ["Mei Chen"])
    assert checkin.find_stay(prop, "RES-1").status.value == "checked_out"


def test_a_room_move_changes_the_room_and_keeps_the_member(client, prop, fake, url):
    checked_in(client, prop, fake, url)

    fake.move("RES-1", "1508")
    deliver(client, fake, url, event="reservation/accommodation_changed")

    assert checkin.find_stay(prop, "RES-1").room == "1508"
    assert state(prop)["stay_group"] == ["Mei Chen"]


def test_a_reservation_shared_by_two_guests_puts_both_in_with_one_primary(
        client, prop, fake, url):
    stay = checked_in(client, prop, fake, url, MEI, WEI)

    assert state(prop)["stay_group"] == ["Mei Chen", "Wei Li"]
    assert sorted((g.pms_guest_id, g.is_primary) for g in stay.guests) == [
        ("G-1", True), ("G-2", False)]


def test_a_reversed_check_in_takes_the_member_out(client, prop, fake, url):
    checked_in(client, prop, fake, url)

    fake.set_status("RES-1", "confirmed")
    deliver(client, fake, url)

    assert checkin.find_stay(prop, "RES-1").status.value == "expected"
    assert (state(prop)["stay_group"], state(prop)["alumni"]) == ([], [])


@pytest.mark.parametrize("status, stored", [("canceled", "cancelled"), ("no_show", "no_show")])
def test_a_cancelled_or_no_show_reservation_is_not_in_the_group(
        client, prop, fake, url, status, stored):
    book(prop, fake)
    deliver(client, fake, url)

    fake.set_status("RES-1", status)
    deliver(client, fake, url)

    assert checkin.find_stay(prop, "RES-1").status.value == stored
    assert (state(prop)["stay_group"], state(prop)["alumni"]) == ([], [])


@pytest.mark.parametrize("not_found_status", [404, 200])
def test_an_unknown_reservation_or_one_of_another_property_applies_nothing(
        client, prop, fake, url, not_found_status):
    fake.not_found_status = not_found_status
    book(prop, fake, "RES-9", status="checked_in", property_id="990001")
    body = fake.webhook_body(STATUS_CHANGED, "RES-9", propertyID=int(fake.property_id))
    assert client.post(url, json=body).status_code == 202
    assert client.post(url, json={**body, "reservationID": "RES-404"}).status_code == 202

    assert pms_inbox.process_due().done == 2

    assert [note.result for note in notifications()] == ["Nothing to apply."] * 2
    assert state(prop)["stays"] == {}


# --------------------------------------------------------------------------- failures

def test_a_slow_or_failing_cloudbeds_leaves_the_notification_pending(client, prop, fake, url):
    book(prop, fake, status="checked_in")
    deliver(client, fake, url, process=False)

    fake.slow_next(seconds=1.5)
    assert pms_inbox.process_due().retried == 1
    assert "did not answer" in notifications()[0].last_error
    fake.fail_next()
    assert pms_inbox.process_due(now=utcnow() + DELAY).retried == 1

    [note] = notifications()
    assert (note.status, note.attempts) == (PmsNotificationStatus.pending, 2)
    assert "answered 500" in note.last_error
    assert state(prop)["stays"] == {}

    assert pms_inbox.process_due(now=utcnow() + 3 * DELAY).done == 1
    assert state(prop)["stay_group"] == ["Mei Chen"]


def test_success_false_with_http_200_is_an_error(client, prop, fake, url):
    book(prop, fake, status="checked_in")
    link(prop, fake, property_id="990001")

    link_row = pms_links.check_connection(prop)

    assert link_row.check_ok is False
    assert link_row.check_message == (
        "Cloudbeds refused getHotelDetails: You don't have access to property ID 990001")


# --------------------------------------------------------------------------- webhooks

def test_a_webhook_for_another_property_is_refused(client, prop, fake, url):
    book(prop, fake, status="checked_in")

    response = client.post(url, json=fake.webhook_body(STATUS_CHANGED, "RES-1",
                                                       propertyID=990001))

    assert response.status_code == 401
    assert response.json["error"]["code"] == "authentication_failed"
    assert notifications() == []


def test_events_not_about_stays_are_ignored_and_strange_bodies_refused(client, prop, fake, url):
    book(prop, fake)
    ignored = client.post(url, json=fake.webhook_body("reservation/notes_changed", "RES-1"))
    strange = client.post(url, json={"propertyID": int(fake.property_id), "hello": "world"})
    no_id = client.post(url, json={**fake.webhook_body(STATUS_CHANGED, "RES-1"),
                                   "reservationID": ""})

    assert (ignored.status_code, ignored.json["received"]) == (202, 0)
    assert (strange.status_code, no_id.status_code) == (400, 400)
    assert notifications() == []


# --------------------------------------------------------------------------- sync and link

def test_sync_pages_through_the_in_house_list(client, prop, fake, url):
    checked_in(client, prop, fake, url)  # RES-1, then checked out in Cloudbeds
    fake.set_status("RES-1", "checked_out")
    book(prop, fake, "RES-2", ("G-2", "Wei", "Li"), room="1301", status="checked_in")
    book(prop, fake, "RES-3", ("G-3", "Ana", "Lima"), room="1302", status="checked_in")
    fake.max_page_size = 1
    fake.requests.clear()

    report = pms_inbox.sync(prop)

    assert report.results["applied"] == 3
    assert state(prop)["stay_group"] == ["Ana Lima", "Wei Li"]
    assert state(prop)["alumni"] == ["Mei Chen"]
    listed = [r["args"]["pageNumber"] for r in fake.requests
              if r["path"] == "/api/v1.2/getReservations"]
    assert listed == [["1"], ["2"]]
    assert fake.paths()[-1] == "/api/v1.2/getReservation"  # RES-1, left out of the list


def test_checking_the_connection(client, prop, fake, url):
    book(prop, fake, status="checked_in")

    assert pms_links.check_connection(prop).check_message == (
        "Connected to Test Hotel Shanghai: 1 in house.")

    link(prop, fake, api_key="cbat_wrong")
    link_row = pms_links.check_connection(prop)
    assert link_row.check_ok is False
    assert "(401)" in link_row.check_message and "Invalid API key" in link_row.check_message


# --------------------------------------------------------------------------- folio

def test_a_room_charge_is_posted_once_even_when_the_answer_is_lost_and_a_refund_voids_it(
        client, prop, fake, url):
    member = member_of(checked_in(client, prop, fake, url))
    fake.lose_next()

    order = charge_to_room(place(make_product(prop, price=12999)), member, quantity=2)

    [charge] = charges_of(order)
    assert charge.status == RoomChargeStatus.pending and "504" in charge.last_error
    assert room_charges.post_due(now=utcnow() + DELAY).posted == 1
    [item] = fake.folio("RES-1")
    [charge] = charges_of(order)
    assert (charge.status, charge.pms_charge_id) == (RoomChargeStatus.posted,
                                                     next(iter(fake.sold_products)))
    assert (item["itemPrice"], item["itemQuantity"], item["currency"], item["referenceID"]) == (
        "259.98", "1", "CNY", charge.idempotency_key)
    assert item["itemName"] == "2 x Silk pillow" and not item["voided"]
    assert fake.paths().count("/api/v1.2/postCustomItem") == 2

    orders.refund(order.id, order.total, "staff:ana")

    [item] = fake.folio("RES-1")
    assert item["voided"] is True
    credit = charges_of(order)[1]
    assert (credit.status, credit.pms_charge_id) == (
        RoomChargeStatus.posted, f"void-{charge.pms_charge_id}")


def test_a_partial_refund_posts_a_credit_item(client, prop, fake, url):
    member = member_of(checked_in(client, prop, fake, url))
    order = charge_to_room(place(make_product(prop, price=12999)), member)

    orders.refund(order.id, 5000, "staff:ana")

    charge, credit = fake.folio("RES-1")
    assert (charge["itemPrice"], credit["itemPrice"]) == ("129.99", "-50.00")
    assert credit["itemName"] == "Refund: 1 x Silk pillow" and not charge["voided"]
    assert credit["referenceID"] == charges_of(order)[1].idempotency_key


def test_a_repeat_answered_without_ids_is_posted_once_and_refunded_by_a_credit(
        client, prop, fake, url):
    member = member_of(checked_in(client, prop, fake, url))
    fake.repeat_without_ids = True
    fake.lose_next()
    order = charge_to_room(place(make_product(prop, price=12999)), member)

    assert room_charges.post_due(now=utcnow() + DELAY).posted == 1
    [charge] = charges_of(order)
    assert (charge.status, charge.pms_charge_id) == (
        RoomChargeStatus.posted, f"ref:{charge.idempotency_key}")
    assert len(fake.folio("RES-1")) == 1

    orders.refund(order.id, order.total, "staff:ana")

    item, credit = fake.folio("RES-1")
    assert (item["itemPrice"], item["voided"], credit["itemPrice"]) == ("129.99", False, "-129.99")
