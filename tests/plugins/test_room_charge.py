"""The room charge payment provider through the core's order flow: paid at once for a guest
in house, refused otherwise; refunds credit the folio through the outbox."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from hotel_community.database import session
from hotel_community.errors import ValidationFailed
from hotel_community.models import Order, OrderStatus, RoomCharge, RoomChargeStatus
from hotel_community.services import orders, shop
from hotel_community.services.access import today_at
from tests.factories import check_in_by_hand, make_product, member_of, place
from tests.services.test_room_charges import (
    ROOM_CHARGE, app_config, charge_to_room, charges_of, checked_in_through, history, pms,
)

__all__ = ["app_config", "pms"]  # fixtures shared with the outbox tests


# --- the provider through the core ---------------------------------------------------------------

def test_an_in_house_member_charges_to_the_room(app, prop):
    stay = check_in_by_hand(prop, "1204", ("Mei", "Chen"))
    product = make_product(prop, stock=3)
    order = charge_to_room(place(product), member_of(stay))

    assert (order.status, order.provider, order.stay_id, order.room) == (
        OrderStatus.paid, ROOM_CHARGE, stay.id, "1204")
    assert order.expires_at is None
    [charge] = charges_of(order)
    assert (charge.amount, charge.stay_id, charge.property_id) == (order.total, stay.id, prop.id)
    assert ROOM_CHARGE in [p.name for p in orders.available_providers(prop, stay)]


def test_charging_to_the_room_needs_a_guest_in_house(app, prop):
    product = make_product(prop, stock=3)
    placement = place(product)
    expected = check_in_by_hand(prop, "1205", ("Ana", "Lima"), status="expected",
                                arrival=today_at(prop) + timedelta(days=1))
    wanted = orders.OrderRequest(quantity=1, delivery=shop.DESK_PICKUP, provider=ROOM_CHARGE)

    for member in (member_of(expected), None):
        with pytest.raises(ValidationFailed):
            orders.place_order(placement.code, member, wanted)
    assert session.scalar(select(RoomCharge.id)) is None
    assert session.scalar(select(Order.id)) is None
    assert ROOM_CHARGE not in [p.name for p in orders.available_providers(prop, None)]


# --- refunds -------------------------------------------------------------------------------------

def test_refunding_a_room_charged_order_credits_the_folio(app, client, prop, pms):
    member = checked_in_through(client, pms, prop)
    order = charge_to_room(place(make_product(prop, price=12999)), member)

    refunded = orders.refund(order.id, 2999, "staff:ana")

    assert refunded.refunded == 2999
    charge, credit = charges_of(order)
    assert (credit.amount, credit.status, credit.description) == (
        -2999, RoomChargeStatus.posted, "Refund: 1 x Silk pillow")
    booking = next(e for e in refunded.events if e.action == "refund_requested")
    assert credit.idempotency_key == f"hc-refund-{order.id}-{booking.id}-credit"
    assert credit.idempotency_key != charge.idempotency_key
    assert [call["amount"] for call in pms.calls] == [12999, -2999]
    assert history(order)[-2:] == ["refunded", "charge_posted"]


def test_cancelling_a_room_charged_order_credits_it_in_full(app, prop):
    stay = check_in_by_hand(prop, "1204", ("Mei", "Chen"))
    order = charge_to_room(place(make_product(prop, price=5000)), member_of(stay))

    cancelled = orders.cancel(order.id, "staff:ana")

    assert cancelled.status == OrderStatus.cancelled
    assert [(c.amount, c.status) for c in charges_of(order)] == [
        (5000, RoomChargeStatus.desk), (-5000, RoomChargeStatus.desk)]
