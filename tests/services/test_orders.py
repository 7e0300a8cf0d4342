"""The order flow every payment provider shares: reserving stock, paying, expiring,
fulfilling, cancelling and refunding, each exactly once."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from hotel_community import signals
from hotel_community.database import session, utcnow
from hotel_community.errors import Conflict, PaymentProviderError, SoldOut, ValidationFailed
from hotel_community.hookspecs import PaymentUpdate
from hotel_community.models import Order, OrderStatus, Product
from hotel_community.services import orders, shop
from tests.factories import check_in_by_hand, make_product, member_of, place, run_at_once

DESK = "pay_at_desk"


def buy(placement, quantity: int = 1, provider: str = DESK, delivery: str = shop.DESK_PICKUP,
        member=None, **address) -> Order:
    wanted = orders.OrderRequest(quantity=quantity, delivery=delivery, provider=provider,
                                 address=orders.ShippingAddress(**address))
    return orders.place_order(placement.code, member, wanted)


def stock(product: Product) -> int:
    session.expire_all()
    return session.get(Product, product.id).stock


def history(order: Order) -> list[str]:
    session.expire_all()
    return [event.action for event in orders.get_order(order.id).events]


def paid(provider_ref: str, amount: int | None = None, currency: str | None = None) -> PaymentUpdate:
    return PaymentUpdate(provider_ref, "succeeded", amount, currency)


# --- placing ---------------------------------------------------------------------------------------

def test_an_order_reserves_its_stock_and_waits_for_payment(app, prop):
    product = make_product(prop, price=12999, stock=5)
    order = buy(place(product), quantity=2)

    assert (order.status, order.total, order.unit_price, order.currency) == (
        OrderStatus.pending_payment, 25998, 12999, "CNY")
    assert stock(product) == 3
    assert order.expires_at > utcnow() + timedelta(hours=23)  # the desk holds it for the day
    assert history(order) == ["placed"]
    assert len(order.token) >= 20


def test_the_last_unit_goes_to_one_buyer_and_the_next_gets_sold_out(app, prop):
    product = make_product(prop, stock=1)
    placement = place(product)
    buy(placement)

    with pytest.raises(SoldOut):
        buy(placement)
    assert stock(product) == 0
    assert session.scalar(select(func.count()).select_from(Order)) == 1


def test_asking_for_more_than_is_in_stock_stores_nothing(app, prop):
    product = make_product(prop, stock=2)
    with pytest.raises(SoldOut):
        buy(place(product), quantity=3)
    assert stock(product) == 2
    assert session.scalar(select(func.count()).select_from(Order)) == 0


@pytest.mark.parametrize("change, field", [
    ({"quantity": 0}, "quantity"), ({"quantity": shop.MAX_QUANTITY + 1}, "quantity"),
    ({"provider": "bitcoin"}, "provider"), ({"delivery": shop.BRING_TO_ROOM}, "delivery"),
    ({"delivery": "teleport"}, "delivery"), ({"delivery": shop.SHIP_HOME}, "ship_name"),
])
def test_a_choice_the_guest_may_not_make_is_refused_and_nothing_is_stored(app, prop, change, field):
    product = make_product(prop, stock=20)
    with pytest.raises(ValidationFailed) as refused:
        buy(place(product), **change)
    assert field in refused.value.details
    assert stock(product) == 20
    assert session.scalar(select(func.count()).select_from(Order)) == 0


def test_shipping_home_keeps_the_address(app, prop):
    order = buy(place(make_product(prop)), delivery=shop.SHIP_HOME, ship_name=" Mei Chen ",
                ship_address="1 Harbour Road", ship_city="Hong Kong", ship_country="China")
    assert (order.ship_name, order.ship_city, order.ship_postcode) == ("Mei Chen", "Hong Kong", None)


def test_taking_the_one_in_the_room_records_the_room_and_stay(app, prop):
    stay = check_in_by_hand(prop, "1204", ("Mei", "Chen"))
    order = buy(place(make_product(prop), "1204"), delivery=shop.TAKE_FROM_ROOM,
                member=member_of(stay))
    assert (order.room, order.stay_id, order.member_id) == ("1204", stay.id, member_of(stay).id)


def test_an_inactive_product_is_not_sold(app, prop):
    product = make_product(prop)
    placement = place(product)
    session.get(Product, product.id).active = False
    session.commit()
    with pytest.raises(Exception) as refused:
        buy(placement)
    assert getattr(refused.value, "status", None) == 404


def test_a_provider_that_cannot_start_puts_the_stock_back(app, prop, card):
    product = make_product(prop, stock=1)
    card.fail_start = True
    with pytest.raises(PaymentProviderError):
        buy(place(product), provider="fake_card")
    assert stock(product) == 1
    order = session.scalar(select(Order))
    assert order.status == OrderStatus.cancelled
    assert history(order) == ["placed", "restocked", "payment_failed"]


# --- paying ----------------------------------------------------------------------------------------

def test_a_payment_reported_twice_pays_the_order_once(app, prop, card):
    order = buy(place(make_product(prop, price=5000)), provider="fake_card")
    received = []
    with signals.order_paid.connected_to(lambda app, order, property: received.append(order.id)):
        orders.apply_payment_update("fake_card", paid(order.provider_ref, 5000, "cny"))
        orders.apply_payment_update("fake_card", paid(order.provider_ref, 5000, "cny"))

    assert orders.get_order(order.id).status == OrderStatus.paid
    assert received == [order.id]
    assert history(order) == ["placed", "paid"]


def test_a_payment_of_the_wrong_amount_does_not_pay_the_order(app, prop, card):
    order = buy(place(make_product(prop, price=5000)), provider="fake_card")
    orders.apply_payment_update("fake_card", paid(order.provider_ref, 1, "cny"))
    assert orders.get_order(order.id).status == OrderStatus.pending_payment
    assert history(order) == ["placed", "payment_mismatch"]


def test_an_update_for_a_payment_that_is_not_ours_changes_nothing(app, prop, card):
    assert orders.apply_payment_update("fake_card", paid("someone-elses")) is None


def test_a_failed_payment_cancels_the_order_and_releases_the_stock(app, prop, card):
    product = make_product(prop, stock=1)
    order = buy(place(product), provider="fake_card")
    orders.apply_payment_update("fake_card", PaymentUpdate(order.provider_ref, "failed",
                                                           message="Card declined"))
    assert orders.get_order(order.id).status == OrderStatus.cancelled
    assert stock(product) == 1
    assert history(order) == ["placed", "restocked", "payment_failed"]


def test_an_expired_hold_puts_the_stock_back_once(app, prop, card):
    product = make_product(prop, stock=1)
    order = buy(place(product), provider="fake_card")
    later = utcnow() + timedelta(hours=1)

    assert orders.expire_pending(now=later) == 1
    assert orders.expire_pending(now=later) == 0
    assert stock(product) == 1
    assert orders.get_order(order.id).status == OrderStatus.cancelled
    assert card.cancelled == [order.provider_ref]


def test_a_buyer_gets_the_unit_of_an_expired_hold_without_waiting_for_cron(app, prop, card):
    product = make_product(prop, stock=1)
    placement = place(product)
    first = buy(placement, provider="fake_card")
    session.get(Order, first.id).expires_at = utcnow() - timedelta(minutes=1)
    session.commit()

    second = buy(placement)
    assert second.status == OrderStatus.pending_payment
    assert orders.get_order(first.id).status == OrderStatus.cancelled
    assert stock(product) == 0


def test_a_payment_after_expiry_takes_the_unit_back_if_it_is_still_there(app, prop, card):
    product = make_product(prop, stock=1)
    order = buy(place(product), provider="fake_card")
    orders.expire_pending(now=utcnow() + timedelta(hours=1))

    orders.apply_payment_update("fake_card", paid(order.provider_ref))
    assert orders.get_order(order.id).status == OrderStatus.paid
    assert stock(product) == 0


def test_a_payment_after_expiry_is_refunded_when_the_unit_sold_meanwhile(app, prop, card):
    product = make_product(prop, price=5000, stock=1)
    placement = place(product)
    order = buy(placement, provider="fake_card")
    orders.expire_pending(now=utcnow() + timedelta(hours=1))
    buy(placement)  # someone else takes the unit

    orders.apply_payment_update("fake_card", paid(order.provider_ref))
    orders.apply_payment_update("fake_card", paid(order.provider_ref))  # delivered twice
    found = orders.get_order(order.id)
    assert (found.status, found.refunded) == (OrderStatus.refunded, 5000)
    assert [amount for amount, _key in card.refunds] == [5000]
    assert stock(product) == 0


# --- staff steps -----------------------------------------------------------------------------------

def test_desk_payment_then_fulfilment(app, prop):
    order = buy(place(make_product(prop)))
    orders.record_desk_payment(order.id, "staff:ana")
    orders.fulfil(order.id, "staff:ana")

    found = orders.get_order(order.id)
    assert found.status == OrderStatus.fulfilled and found.fulfilled_at is not None
    assert [(e.actor, e.action) for e in found.events] == [
        ("guest", "placed"), ("staff:ana", "paid"), ("staff:ana", "fulfilled")]
    with pytest.raises(Conflict):
        orders.fulfil(order.id, "staff:ana")
    with pytest.raises(Conflict):
        orders.record_desk_payment(order.id, "staff:ana")


def test_cancelling_an_unpaid_order_restocks_it(app, prop):
    product = make_product(prop, stock=3)
    order = buy(place(product), quantity=2)
    assert orders.cancel(order.id, "staff:ana").status == OrderStatus.cancelled
    assert stock(product) == 3


def test_cancelling_a_paid_order_refunds_it_in_full_and_restocks(app, prop, card):
    product = make_product(prop, price=5000, stock=3)
    order = buy(place(product), provider="fake_card")
    orders.apply_payment_update("fake_card", paid(order.provider_ref))

    found = orders.cancel(order.id, "staff:ana")
    assert (found.status, found.refunded) == (OrderStatus.cancelled, 5000)
    assert stock(product) == 3
    assert [amount for amount, _key in card.refunds] == [5000]
    with pytest.raises(Conflict):
        orders.cancel(order.id, "staff:ana")


def test_a_fulfilled_order_is_refunded_not_cancelled(app, prop):
    order = buy(place(make_product(prop)))
    orders.record_desk_payment(order.id, "staff:ana")
    orders.fulfil(order.id, "staff:ana")
    with pytest.raises(Conflict):
        orders.cancel(order.id, "staff:ana")


def test_partial_then_full_refund(app, prop, card):
    order = buy(place(make_product(prop, price=5000)), provider="fake_card")
    orders.apply_payment_update("fake_card", paid(order.provider_ref))

    assert orders.refund(order.id, 1500, "staff:ana").status == OrderStatus.paid
    with pytest.raises(Conflict):
        orders.refund(order.id, 3501, "staff:ana")
    found = orders.refund(order.id, 3500, "staff:ana")
    assert (found.status, found.refunded) == (OrderStatus.refunded, 5000)
    amounts, keys = zip(*card.refunds)
    assert amounts == (1500, 3500) and len(set(keys)) == 2


def test_an_unpaid_order_cannot_be_refunded(app, prop):
    order = buy(place(make_product(prop)))
    with pytest.raises(Conflict):
        orders.refund(order.id, 100, "staff:ana")


def test_a_refund_the_provider_refuses_is_undone_on_the_order(app, prop, card):
    order = buy(place(make_product(prop, price=5000)), provider="fake_card")
    orders.apply_payment_update("fake_card", paid(order.provider_ref))
    card.refuse_refunds = True

    with pytest.raises(PaymentProviderError):
        orders.refund(order.id, 1000, "staff:ana")
    found = orders.get_order(order.id)
    assert (found.status, found.refunded) == (OrderStatus.paid, 0)
    assert history(order)[-1] == "refund_failed"


# --- concurrency (PostgreSQL) ----------------------------------------------------------------------

@pytest.mark.usefixtures("postgresql_only")
def test_concurrent_buyers_of_the_last_units_never_oversell(app, prop):
    product = make_product(prop, stock=3)
    placement = place(product)
    results = run_at_once(app, [lambda: buy(placement).id for _ in range(12)])

    assert sum(isinstance(result, int) for result in results) == 3
    assert all(isinstance(result, (int, SoldOut)) for result in results), results
    assert stock(product) == 0


@pytest.mark.usefixtures("postgresql_only")
def test_concurrent_refunds_never_give_back_more_than_was_paid(app, prop, card):
    order = buy(place(make_product(prop, price=5000)), provider="fake_card")
    orders.apply_payment_update("fake_card", paid(order.provider_ref))
    results = run_at_once(app, [lambda: orders.refund(order.id, 2000, "staff:ana").refunded
                                for _ in range(6)])

    assert sum(isinstance(result, int) for result in results) == 2
    session.expire_all()
    assert orders.get_order(order.id).refunded == 4000
    assert sum(amount for amount, _key in card.refunds) == 4000


@pytest.mark.usefixtures("postgresql_only")
def test_a_payment_and_its_expiry_at_the_same_moment_settle_one_way(app, prop, card):
    product = make_product(prop, stock=1)
    order = buy(place(product), provider="fake_card")
    later = utcnow() + timedelta(hours=1)
    run_at_once(app, [lambda: orders.apply_payment_update("fake_card", paid(order.provider_ref)),
                      lambda: orders.expire_pending(now=later)])

    session.expire_all()
    found = orders.get_order(order.id)
    assert found.status == OrderStatus.paid
    assert stock(product) == 0


# --- what review found ---------------------------------------------------------------------------

def test_a_refund_undone_after_a_failure_never_lends_its_key_to_a_later_one(app, prop, card):
    order = buy(place(make_product(prop, price=10000)), provider="fake_card")
    orders.apply_payment_update("fake_card", paid(order.provider_ref))
    refund_of_the_provider = card.refund

    def another_clerk_refunds_meanwhile_then_this_one_fails(order_, amount, key):
        card.refund = refund_of_the_provider
        orders.refund(order.id, 3000, "staff:bo")  # books and succeeds while this one is out
        raise RuntimeError("timed out")

    card.refund = another_clerk_refunds_meanwhile_then_this_one_fails
    with pytest.raises(PaymentProviderError):
        orders.refund(order.id, 3000, "staff:ana")
    orders.refund(order.id, 3000, "staff:cy")

    keys = [key for _amount, key in card.refunds]
    assert len(keys) == 2 and len(set(keys)) == 2, keys
    session.expire_all()
    assert orders.get_order(order.id).refunded == 6000


def test_a_late_payment_whose_refund_fails_is_refunded_when_reported_again(app, prop, card):
    product = make_product(prop, price=5000, stock=1)
    placement = place(product)
    order = buy(placement, provider="fake_card")
    orders.expire_pending(now=utcnow() + timedelta(hours=1))
    buy(placement)  # the unit sells meanwhile
    card.refuse_refunds = True

    with pytest.raises(PaymentProviderError):  # the webhook answers 502: Stripe delivers again
        orders.apply_payment_update("fake_card", paid(order.provider_ref))
    card.refuse_refunds = False
    orders.apply_payment_update("fake_card", paid(order.provider_ref))

    found = orders.get_order(order.id)
    assert (found.status, found.refunded) == (OrderStatus.refunded, 5000)
    assert [amount for amount, _key in card.refunds] == [5000]
    assert stock(product) == 0


def test_a_payment_for_an_order_staff_cancelled_is_refunded_not_reopened(app, prop, card):
    product = make_product(prop, price=5000, stock=1)
    order = buy(place(product), provider="fake_card")
    orders.cancel(order.id, "staff:ana")

    orders.apply_payment_update("fake_card", paid(order.provider_ref))
    found = orders.get_order(order.id)
    assert (found.status, found.refunded) == (OrderStatus.refunded, 5000)
    assert stock(product) == 1


def test_refunding_a_late_paid_cancelled_order_with_restock_adds_no_stock(app, prop, card):
    product = make_product(prop, price=5000, stock=1)
    placement = place(product)
    order = buy(placement, provider="fake_card")
    orders.expire_pending(now=utcnow() + timedelta(hours=1))
    buy(placement)
    card.refuse_refunds = True
    with pytest.raises(PaymentProviderError):
        orders.apply_payment_update("fake_card", paid(order.provider_ref))
    card.refuse_refunds = False

    orders.refund(order.id, 5000, "staff:ana", restock=True)
    assert stock(product) == 0


def test_a_desk_payment_does_not_reopen_a_cancelled_order(app, prop):
    product = make_product(prop, stock=1)
    order = buy(place(product))
    orders.cancel(order.id, "staff:ana")
    with pytest.raises(Conflict):
        orders.record_desk_payment(order.id, "staff:bo")
    assert orders.get_order(order.id).status == OrderStatus.cancelled
    assert stock(product) == 1


def test_a_failed_payment_is_closed_at_the_provider_too(app, prop, card):
    order = buy(place(make_product(prop)), provider="fake_card")
    orders.apply_payment_update("fake_card", PaymentUpdate(order.provider_ref, "failed"))
    assert card.cancelled == [order.provider_ref]


def test_only_the_one_item_in_the_room_can_be_taken_from_it(app, prop):
    stay = check_in_by_hand(prop, "1204", ("Mei", "Chen"))
    product = make_product(prop, stock=5)
    with pytest.raises(ValidationFailed) as refused:
        buy(place(product, "1204"), quantity=2, delivery=shop.TAKE_FROM_ROOM, member=member_of(stay))
    assert "quantity" in refused.value.details
    assert stock(product) == 5
