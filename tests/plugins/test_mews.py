"""The Mews adapter against a fake Connector API: General Webhooks in through the real route,
stays fetched and applied by ``pms_inbox.process_due``, room charges as Mews orders."""
from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from hotel_community.database import session, utcnow
from hotel_community.models import OrderStatus, PmsNotification, RoomChargeStatus, StayStatus
from hotel_community.plugins import mews as mews_plugin
from hotel_community.plugins.mews import ADAPTER, connector
from hotel_community.services import checkin, orders, pms_inbox, pms_links, room_charges
from hotel_community.services.access import today_at
from tests.factories import community_state, make_product, member_of, place
from tests.pms.memory import linked
from tests.pms.mews_fake import ACCESS_TOKEN, CLIENT_TOKEN, ENTERPRISE_ID, SERVICE_ID, MewsFake
from tests.pms.server import vendor_fixtures
from tests.services.test_room_charges import charge_to_room, charges_of, history

DELAY = timedelta(minutes=1)
RESERVATIONS = "reservations/getAll/2023-06-06"


app_config, server, fake = vendor_fixtures(MewsFake)


def link(prop, fake: MewsFake, **changes: str) -> str:
    settings = {"base_url": fake.url, "client_token": CLIENT_TOKEN, "access_token": ACCESS_TOKEN,
                "client": "hotel-community 0.1", "enterprise_id": ENTERPRISE_ID,
                "service_id": SERVICE_ID, "tax_code": "CN-S", **changes}
    return linked(prop, ADAPTER, **settings)


@pytest.fixture
def url(prop, fake) -> str:
    return link(prop, fake)


@pytest.fixture
def mei(fake) -> str:
    return fake.customer("Mei", "Chen", email="mei@example.com", phone="+8613800000000")


def booking(fake: MewsFake, prop, *guests: str, room: str | None = "1204") -> str:
    today = today_at(prop)
    return fake.book(*guests, arrival=today - timedelta(days=1),
                     departure=today + timedelta(days=2), room=room)


def deliver(client, url: str, body: dict) -> None:
    response = client.post(url, json=body)
    assert response.status_code == 202, response.json


def in_stay_group(prop) -> list[str]:
    session.expire_all()
    return sorted(m.member.first_name for m in checkin.stay_group_members(prop))


def notifications() -> list[PmsNotification]:
    session.expire_all()
    return list(session.scalars(select(PmsNotification).order_by(PmsNotification.id)))


def checked_in(client, url, fake, prop, *guests: str) -> str:
    """A reservation checked in at Mews and told by its webhook; its id."""
    reservation = booking(fake, prop, *guests)
    fake.check_in(reservation)
    deliver(client, url, fake.reservation_updated(reservation))
    assert pms_inbox.process_due().done == 1
    return reservation


# --------------------------------------------------------------------------- stays

def test_a_check_in_puts_the_guest_in_the_stay_group(client, prop, fake, url, mei):
    reservation = booking(fake, prop, mei)
    fake.check_in(reservation)

    deliver(client, url, fake.reservation_updated(reservation))
    assert fake.requests == []  # answered before Mews is asked
    assert pms_inbox.process_due().done == 1

    assert in_stay_group(prop) == ["Mei"]
    stay = checkin.find_stay(prop, reservation)
    today = today_at(prop)
    # 06:00 in Shanghai is the day before in UTC: the dates are the property's.
    assert (stay.status, stay.room, stay.arrival, stay.departure) == (
        StayStatus.in_house, "1204", today - timedelta(days=1), today + timedelta(days=2))
    [guest] = stay.guests
    assert (guest.pms_guest_id, guest.is_primary) == (mei, True)
    assert (guest.member.email, guest.member.phone, guest.member.language) == (
        "mei@example.com", "+8613800000000", "zh")
    [asked] = fake.calls_of(RESERVATIONS)
    assert (asked["ReservationIds"], asked["ServiceIds"], asked["EnterpriseIds"]) == (
        [reservation], [SERVICE_ID], [ENTERPRISE_ID])
    assert asked["Client"] == "hotel-community 0.1"


def test_the_same_webhook_twice_costs_one_fetch(client, prop, fake, url, mei):
    reservation = booking(fake, prop, mei)
    fake.check_in(reservation)

    for _ in range(2):
        deliver(client, url, fake.reservation_updated(reservation))
    pms_inbox.process_due()

    assert len(fake.calls_of(RESERVATIONS)) == 1
    assert in_stay_group(prop) == ["Mei"]
    [note] = notifications()
    assert (note.kind, note.ref, note.deliveries) == ("reservation", reservation, 2)


def test_a_late_check_in_webhook_after_the_check_out_keeps_the_guest_alumni(
        client, prop, fake, url, mei):
    reservation = booking(fake, prop, mei)
    fake.check_in(reservation)
    check_in_webhook = fake.reservation_updated(reservation)
    fake.check_out(reservation)

    deliver(client, url, fake.reservation_updated(reservation))  # the check-out's, first
    pms_inbox.process_due()
    deliver(client, url, check_in_webhook)  # the check-in's, late: Mews says checked out
    pms_inbox.process_due()

    state = community_state(prop)
    assert state["stays"][reservation][0] == "checked_out"
    assert (state["stay_group"], state["alumni"]) == ([], ["Mei Chen"])


def test_a_room_move_changes_the_room_and_keeps_the_member(client, prop, fake, url, mei):
    reservation = checked_in(client, url, fake, prop, mei)

    fake.move(reservation, "1508")
    deliver(client, url, fake.reservation_updated(reservation))
    pms_inbox.process_due()

    assert checkin.find_stay(prop, reservation).room == "1508"
    assert in_stay_group(prop) == ["Mei"]


def test_a_shared_reservation_puts_both_guests_in_the_group_the_owner_primary(
        client, prop, fake, url, mei):
    lei = fake.customer("Lei", "Wang", language="en-US")
    reservation = checked_in(client, url, fake, prop, mei, lei)

    assert in_stay_group(prop) == ["Lei", "Mei"]
    guests = checkin.find_stay(prop, reservation).guests
    assert sorted((g.pms_guest_id, g.is_primary) for g in guests) == sorted(
        [(mei, True), (lei, False)])
    assert {g.member.language for g in guests} == {"zh", "en"}


def test_a_reversed_check_in_takes_the_guest_out_of_the_group(client, prop, fake, url, mei):
    reservation = checked_in(client, url, fake, prop, mei)

    fake.undo_check_in(reservation)
    deliver(client, url, fake.reservation_updated(reservation))
    pms_inbox.process_due()

    assert checkin.find_stay(prop, reservation).status == StayStatus.expected
    assert in_stay_group(prop) == []


@pytest.mark.parametrize(("change", "status"), [
    (MewsFake.cancel, StayStatus.cancelled), (MewsFake.no_show, StayStatus.no_show)])
def test_a_canceled_or_no_show_reservation_is_not_in_the_group(
        client, prop, fake, url, mei, change, status):
    reservation = booking(fake, prop, mei)
    deliver(client, url, fake.reservation_updated(reservation))
    pms_inbox.process_due()
    assert checkin.find_stay(prop, reservation).status == StayStatus.expected

    change(fake, reservation)
    deliver(client, url, fake.reservation_updated(reservation))
    pms_inbox.process_due()

    assert checkin.find_stay(prop, reservation).status == status
    assert in_stay_group(prop) == []


def test_a_reservation_of_another_service_or_unknown_is_nothing_to_apply(
        client, prop, fake, url, mei):
    elsewhere = fake.book(mei, arrival=today_at(prop), departure=today_at(prop),
                          state="Started", service_id="another-service")

    deliver(client, url, fake.reservation_updated(elsewhere, "no-such-reservation"))
    assert pms_inbox.process_due().done == 2

    assert [note.result for note in notifications()] == ["Nothing to apply."] * 2
    assert checkin.find_stay(prop, elsewhere) is None


def test_customer_added_and_updated_cost_one_fetch_and_reach_the_stay(
        client, prop, fake, url, mei):
    reservation = checked_in(client, url, fake, prop, mei)
    fake.requests.clear()

    fake.update_customer(mei, LastName="Chen-Li", Phone="+8613911111111")
    deliver(client, url, fake.webhook_body(
        ("CustomerAdded", mei), ("CustomerUpdated", mei), ("ResourceUpdated", "a-room"),
        ("MessageAdded", "a-message")))
    assert [(n.kind, n.ref) for n in notifications()] == [
        ("reservation", reservation), ("customer", mei)]
    assert pms_inbox.process_due().done == 1

    assert len(fake.calls_of("customers/getAll")) == 1
    assert [call["AccountIds"] for call in fake.calls_of(RESERVATIONS)] == [[mei]]
    [guest] = checkin.find_stay(prop, reservation).guests
    assert (guest.member.last_name, guest.member.phone) == ("Chen-Li", "+8613911111111")


def test_a_customer_who_only_accompanies_a_reservation_reaches_it(client, prop, fake, url, mei):
    lei = fake.customer("Lei", "Wang")
    reservation = checked_in(client, url, fake, prop, mei, lei)

    fake.update_customer(lei, LastName="Wang-Li")
    deliver(client, url, fake.webhook_body(("CustomerUpdated", lei)))
    pms_inbox.process_due()

    guests = checkin.find_stay(prop, reservation).guests
    assert sorted(g.member.last_name for g in guests) == ["Chen", "Wang-Li"]


# --------------------------------------------------------------------------- failures

def test_a_slow_or_failing_mews_leaves_the_notification_pending_and_nothing_applied(
        client, prop, fake, url, mei):
    reservation = booking(fake, prop, mei)
    fake.check_in(reservation)
    deliver(client, url, fake.reservation_updated(reservation))

    fake.slow_next(seconds=1.0)
    assert pms_inbox.process_due().retried == 1
    [note] = notifications()
    assert (note.status.value, note.attempts) == ("pending", 1)
    assert "did not answer" in note.last_error
    assert checkin.find_stay(prop, reservation) is None

    fake.fail_next()
    assert pms_inbox.process_due(now=note.next_attempt_at).retried == 1
    [note] = notifications()
    assert (note.status.value, note.attempts) == ("pending", 2)
    assert "answered 500" in note.last_error
    assert checkin.find_stay(prop, reservation) is None

    assert pms_inbox.process_due(now=note.next_attempt_at).done == 1
    assert in_stay_group(prop) == ["Mei"]


def test_the_webhook_is_answered_at_once_while_mews_is_slow(app, client, prop, fake, url, mei):
    app.config["HOTEL_COMMUNITY_PMS_PROCESS_AFTER_RESPONSE"] = True
    reservation = booking(fake, prop, mei)
    fake.check_in(reservation)
    fake.slow_next(seconds=1.0)

    started = time.monotonic()
    response = client.post(url, json=fake.reservation_updated(reservation))
    answered_in = time.monotonic() - started
    assert response.status_code == 202 and answered_in < 0.5
    assert fake.requests == []
    response.close()  # the fetch runs after the answer: it times out, and is retried

    [note] = notifications()
    assert (note.status.value, note.attempts) == ("pending", 1)
    assert pms_inbox.process_due(now=note.next_attempt_at).done == 1
    assert in_stay_group(prop) == ["Mei"]


# --------------------------------------------------------------------------- webhook auth

def test_a_webhook_for_another_enterprise_is_refused(client, prop, fake, url, mei):
    reservation = booking(fake, prop, mei)
    body = fake.webhook_body(("ServiceOrderUpdated", reservation),
                             enterprise_id="3fa85f64-5717-4562-b3fc-2c963f66afa6")

    response = client.post(url, json=body)

    assert response.status_code == 401
    assert response.json["error"]["code"] == "authentication_failed"
    assert notifications() == []


def test_a_body_that_is_not_a_general_webhook_is_a_400(client, prop, fake, url):
    response = client.post(url, json={"Action": "IntegrationCreated", "Data": {}})

    assert response.status_code == 400
    assert response.json["error"]["code"] == "malformed_request"


# --------------------------------------------------------------------------- sync, connection

def test_sync_reads_every_page_of_the_in_house_list(client, prop, fake, url, mei, monkeypatch):
    monkeypatch.setattr(connector, "PAGE_SIZE", 1)
    monkeypatch.setattr(connector, "ID_BATCH", 1)  # and asks about the ids one at a time
    lei = fake.customer("Lei", "Wang")
    gone = checked_in(client, url, fake, prop, lei)
    fake.check_out(gone)  # its webhook never came
    for name in ("Mei", "Ana"):
        guest = mei if name == "Mei" else fake.customer(name, "Li")
        fake.check_in(booking(fake, prop, guest, room=None))

    report = pms_inbox.sync(prop)

    assert in_stay_group(prop) == ["Ana", "Mei"]
    assert community_state(prop)["alumni"] == ["Lei Wang"]
    assert sum(report.results.values()) == 3
    assert len(fake.calls_of(RESERVATIONS)) > 3  # pages of one
    asked = [call["CustomerIds"] for call in fake.calls_of("customers/getAll")]
    assert asked and all(len(ids) == 1 for ids in asked)


def test_check_connection_names_the_hotel_and_refuses_bad_credentials(
        client, prop, fake, url, mei):
    fake.check_in(booking(fake, prop, mei))

    checked = pms_links.check_connection(prop)
    assert (checked.check_ok, checked.check_message) == (
        True, "Connected to Test Hotel Shanghai: 1 in house.")

    link(prop, fake, access_token="revoked")
    checked = pms_links.check_connection(prop)
    assert checked.check_ok is False
    assert "(401)" in checked.check_message
    assert "Invalid ClientToken or AccessToken" in checked.check_message


# --------------------------------------------------------------------------- the folio

def test_a_room_charge_is_one_order_even_when_its_answer_is_lost_and_a_refund_cancels_it(
        client, prop, fake, url, mei):
    reservation = checked_in(client, url, fake, prop, mei)
    member = member_of(checkin.find_stay(prop, reservation))
    fake.lose_next_answer("orders/add")

    order = charge_to_room(place(make_product(prop, price=12999)), member)

    assert order.status == OrderStatus.paid
    [charge] = charges_of(order)
    assert (charge.status, charge.attempts) == (RoomChargeStatus.pending, 1)
    assert room_charges.post_due(now=utcnow() + DELAY).posted == 1
    [charge] = charges_of(order)
    [item] = fake.folio(reservation)
    assert charge.status == RoomChargeStatus.posted
    assert charge.pms_charge_id == item["ServiceOrderId"]
    assert (item["AccountId"], item["BillingName"], item["Notes"]) == (
        mei, "1 x Silk pillow", charge.idempotency_key)
    assert item["Amount"]["Currency"] == "CNY" and item["Amount"]["GrossValue"] == 129.99
    assert item["UnitAmount"]["TaxValues"][0]["Code"] == "CN-S"
    assert len(fake.calls_of("orders/add")) == 1

    refunded = orders.refund(order.id, 12999, "staff:ana")

    assert refunded.refunded == 12999
    [item] = fake.folio(reservation)
    assert item["AccountingState"] == "Canceled"
    [_, credit] = charges_of(order)
    assert (credit.status, credit.pms_charge_id) == (
        RoomChargeStatus.posted, f"canceled:{charge.pms_charge_id}")
    assert len(fake.calls_of("orders/add")) == 1  # cancelled, not credited
    assert history(order)[-1] == "charge_posted"


def test_a_partial_refund_is_a_negative_order(client, prop, fake, url, mei):
    reservation = checked_in(client, url, fake, prop, mei)
    order = charge_to_room(place(make_product(prop, price=12999)),
                           member_of(checkin.find_stay(prop, reservation)))

    orders.refund(order.id, 2999, "staff:ana")

    amounts = sorted(item["Amount"]["GrossValue"] for item in fake.folio(reservation))
    assert amounts == [-29.99, 129.99]
    assert [c.status for c in charges_of(order)] == [RoomChargeStatus.posted] * 2


def test_the_plugin_is_installed_by_its_entry_point(app):
    assert pms_links.adapters()["mews"] is mews_plugin.ADAPTER
