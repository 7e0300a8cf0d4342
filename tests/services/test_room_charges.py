"""Charge to my room: the outbox posts each charge to the PMS folio exactly once, retries
failures, and hands what the PMS cannot take to the front desk."""
from __future__ import annotations

import time
from dataclasses import asdict
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from hotel_community.database import session, transaction, utcnow
from hotel_community.hookspecs import FolioCharge, Notification, PMSAdapter
from hotel_community.models import Order, OrderStatus, RoomCharge, RoomChargeStatus, StayStatus
from hotel_community.services import checkin, orders, pms_inbox, room_charges, shop
from hotel_community.services.access import today_at
from hotel_community.services.checkin import GuestSnapshot, StaySnapshot
from tests.pms.memory import linked, registered
from tests.factories import check_in_by_hand, make_product, member_of, place, run_at_once

ROOM_CHARGE = "room_charge"
DELAY = timedelta(minutes=1)


class FakePMS(PMSAdapter):
    """A PMS with a folio API. Its reservations are a dict; its folio keeps one posting per
    idempotency key, as a PMS that honours the key does.

    ``down``: that many next calls fail before reaching the folio; ``lose_answers``: that
    many next calls post but the answer is lost on the way back.
    """

    name, label = "fakepms", "Fake PMS"

    def __init__(self) -> None:
        self.reservations: dict[str, StaySnapshot] = {}
        self.calls: list[dict[str, Any]] = []
        self.folio: dict[str, dict[str, Any]] = {}
        self.down = 0
        self.lose_answers = 0
        self.slow = 0.0

    def notifications_from_webhook(self, request, connection) -> list[Notification]:
        return [Notification("reservation", request.get_json()["reservation"])]

    def fetch_stays(self, connection, notification) -> list[StaySnapshot]:
        return [self.reservations[notification.ref]]

    def in_house(self, connection) -> list[StaySnapshot]:
        return list(self.reservations.values())

    def post_folio_charge(self, connection, stay, charge: FolioCharge) -> str:
        self.calls.append({"reservation": stay.reservation_id,
                           "property": connection.property.code, **asdict(charge)})
        time.sleep(self.slow)
        if self.down:
            self.down -= 1
            raise ConnectionError("PMS timed out")
        key = charge.idempotency_key
        self.folio.setdefault(key, {**asdict(charge), "id": f"F-{len(self.folio) + 1}"})
        if self.lose_answers:
            self.lose_answers -= 1
            raise TimeoutError("the answer was lost")
        return self.folio[key]["id"]


class NoFolioPMS(FakePMS):
    """A PMS that reports stays but has no folio API (keeps the hook's default)."""

    name, label = "nofolio", "No-folio PMS"
    post_folio_charge = PMSAdapter.post_folio_charge


@pytest.fixture
def app_config() -> dict:
    return {"HOTEL_COMMUNITY_ROOM_CHARGE_MAX_ATTEMPTS": 3,
            "HOTEL_COMMUNITY_ROOM_CHARGE_RETRY_DELAY": DELAY}


@pytest.fixture
def pms(app) -> FakePMS:
    return registered(app, FakePMS())


def checked_in_through(client, adapter: PMSAdapter, prop, reservation: str = "M-1",
                       room: str = "1204"):
    """The guest checked in by the PMS's own webhook: the property is linked to that PMS."""
    today = today_at(prop)
    adapter.reservations[reservation] = StaySnapshot(
        reservation_id=reservation, status=StayStatus.in_house, room=room,
        arrival=today - timedelta(days=1), departure=today + timedelta(days=2),
        guests=(GuestSnapshot("Mei", "Chen", pms_guest_id=f"G-{reservation}", primary=True),))
    url = linked(prop, adapter)
    response = client.post(url, json={"reservation": reservation})
    assert response.status_code == 202, response.json
    pms_inbox.process_due()
    return member_of(checkin.find_stay(prop, reservation))


def charge_to_room(placement, member, quantity: int = 1) -> Order:
    wanted = orders.OrderRequest(quantity=quantity, delivery=shop.BRING_TO_ROOM,
                                 provider=ROOM_CHARGE)
    return orders.place_order(placement.code, member, wanted)


def charges_of(order: Order) -> list[RoomCharge]:
    session.expire_all()
    return list(session.scalars(select(RoomCharge).where(RoomCharge.order_id == order.id)
                                .order_by(RoomCharge.id)))


def history(order: Order) -> list[str]:
    session.expire_all()
    return [event.action for event in orders.get_order(order.id).events]


# --- posting -------------------------------------------------------------------------------------

def test_a_charge_is_posted_to_the_folio_right_after_payment(app, client, prop, pms):
    member = checked_in_through(client, pms, prop)
    order = charge_to_room(place(make_product(prop, price=12999)), member, quantity=2)

    assert order.status == OrderStatus.paid
    [charge] = charges_of(order)
    assert (charge.status, charge.amount, charge.attempts, charge.pms_charge_id) == (
        RoomChargeStatus.posted, 25998, 1, "F-1")
    assert charge.room == "1204" and charge.claimed_until is None
    assert pms.calls == [{"reservation": "M-1", "property": "TEST", "amount": 25998,
                          "currency": "CNY", "description": "2 x Silk pillow",
                          "idempotency_key": f"hc-room-charge-{order.id}-1"}]
    assert history(order) == ["placed", "paid", "charge_posted"]


def test_a_charge_whose_pms_call_fails_once_is_retried_and_posted_exactly_once(
        app, client, prop, pms):
    member = checked_in_through(client, pms, prop)
    pms.lose_answers = 1  # the PMS posts it, but its answer never arrives
    order = charge_to_room(place(make_product(prop)), member)

    [charge] = charges_of(order)
    assert (charge.status, charge.attempts) == (RoomChargeStatus.pending, 1)
    assert "the answer was lost" in charge.last_error
    assert charge.next_attempt_at > utcnow() and charge.claimed_until is None
    assert room_charges.post_due(now=utcnow()).posted == 0  # not due before the delay

    later = utcnow() + DELAY
    counts = room_charges.post_due(now=later)
    assert (counts.posted, counts.failed, counts.to_desk) == (1, 0, 0)
    assert room_charges.post_due(now=later + timedelta(hours=1)).posted == 0

    [charge] = charges_of(order)
    assert (charge.status, charge.attempts, charge.pms_charge_id) == (
        RoomChargeStatus.posted, 2, "F-1")
    assert [call["idempotency_key"] for call in pms.calls] == [f"hc-room-charge-{order.id}-1"] * 2
    assert len(pms.folio) == 1  # the same key twice: the PMS posted it once
    assert history(order) == ["placed", "paid", "charge_failed", "charge_posted"]


def test_a_pms_that_keeps_failing_sends_the_charge_to_the_desk_after_max_attempts(
        app, client, prop, pms):
    member = checked_in_through(client, pms, prop)
    pms.down = 100
    order = charge_to_room(place(make_product(prop)), member)
    [charge] = charges_of(order)
    first_retry = charge.next_attempt_at

    second = first_retry + timedelta(seconds=1)
    assert room_charges.post_due(now=second).failed == 1
    [charge] = charges_of(order)
    assert (charge.status, charge.attempts) == (RoomChargeStatus.pending, 2)
    assert charge.next_attempt_at == second + 2 * DELAY  # the delay doubles

    counts = room_charges.post_due(now=charge.next_attempt_at)
    assert (counts.posted, counts.failed, counts.to_desk) == (0, 0, 1)
    [charge] = charges_of(order)
    assert (charge.status, charge.attempts) == (RoomChargeStatus.desk, 3)
    assert "3 attempts failed" in charge.last_error and "PMS timed out" in charge.last_error
    assert room_charges.post_due(now=utcnow() + timedelta(days=1)).to_desk == 0
    assert len(pms.calls) == 3 and pms.folio == {}
    assert history(order) == ["placed", "paid", "charge_failed", "charge_failed", "charge_to_desk"]


def test_without_a_linked_pms_the_charge_goes_to_the_desk_at_once(app, prop, pms):
    stay = check_in_by_hand(prop, "1204", ("Mei", "Chen"))
    order = charge_to_room(place(make_product(prop)), member_of(stay))

    assert order.status == OrderStatus.paid
    [charge] = charges_of(order)
    assert (charge.status, charge.attempts) == (RoomChargeStatus.desk, 0)
    assert "not linked to a PMS" in charge.last_error
    assert room_charges.post_due(now=utcnow() + timedelta(days=1)).to_desk == 0
    assert pms.calls == []
    assert history(order) == ["placed", "charge_to_desk", "paid"]


def test_a_pms_without_a_folio_api_sends_the_charge_to_the_desk(app, client, prop):
    adapter = registered(app, NoFolioPMS())
    order = charge_to_room(place(make_product(prop)), checked_in_through(client, adapter, prop))

    [charge] = charges_of(order)
    assert charge.status == RoomChargeStatus.desk
    assert "No-folio PMS has no folio API" in charge.last_error


def test_a_charge_held_by_a_worker_that_died_is_taken_over_after_the_lease(app, client, prop, pms):
    member = checked_in_through(client, pms, prop)
    pms.down = 1
    order = charge_to_room(place(make_product(prop)), member)
    due = charges_of(order)[0].next_attempt_at
    with transaction():  # a worker claimed it, then its machine went away
        session.execute(update(RoomCharge).values(claimed_until=due + room_charges.LEASE))

    assert room_charges.post_due(now=due).posted == 0
    assert room_charges.post_due(now=due + room_charges.LEASE + timedelta(seconds=1)).posted == 1
    assert charges_of(order)[0].status == RoomChargeStatus.posted


@pytest.mark.usefixtures("postgresql_only")
def test_workers_posting_at_once_post_each_charge_once(app, client, prop, pms):
    member = checked_in_through(client, pms, prop)
    placement = place(make_product(prop))
    pms.down = 5
    placed = [charge_to_room(placement, member) for _ in range(5)]
    pms.calls.clear()
    pms.slow = 0.05  # so the workers overlap

    later = utcnow() + DELAY
    results = run_at_once(app, [lambda: room_charges.post_due(now=later).posted for _ in range(6)])

    assert all(isinstance(result, int) for result in results), results
    assert sum(results) == 5
    keys = [call["idempotency_key"] for call in pms.calls]
    assert sorted(keys) == sorted(f"hc-room-charge-{order.id}-1" for order in placed)
    assert all(history(order).count("charge_posted") == 1 for order in placed)
