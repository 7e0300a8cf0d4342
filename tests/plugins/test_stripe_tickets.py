"""Paid event tickets against localstripe: a PaymentIntent per ticket, paid with a test card,
refunded in full when staff cancel the event; a declined card frees the place for the line."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from hotel_community.database import session
from hotel_community.extension import state
from hotel_community.models import Notification, OrderStatus, Ticket, TicketStatus
from hotel_community.services import events, orders
from tests.plugins.test_stripe import DECLINED, VISA
from tests.services.test_events import guests, make_event, occurrence_of

PRICE = 8800


@pytest.fixture
def app_config(stripe_config: dict) -> dict:
    return stripe_config


@pytest.fixture
def stripe(app):
    return state(app).plugins.payment_providers["stripe"]


def ticket_now(ticket: Ticket) -> Ticket:
    session.expire_all()
    return session.get(Ticket, ticket.id)


def pay(stripe, localstripe, ticket: Ticket, number: str) -> dict:
    """The confirm step the payment page's script calls, with a Stripe.js card token."""
    order = orders.get_order(ticket_now(ticket).order_id)
    return stripe.confirm(order, {"token": localstripe.card_token(number)})


def test_a_ticket_paid_by_card_is_refunded_in_full_when_staff_cancel_the_event(
        app, prop, stripe, localstripe):
    event = make_event(prop, capacity=4, price=PRICE, plus_ones=True)
    (mei,) = guests(prop, 1)
    ticket = events.rsvp(occurrence_of(event).id, mei, plus_one=True, provider_name="stripe")
    assert ticket.status == TicketStatus.pending_payment
    order = orders.get_order(ticket.order_id)
    intent = localstripe.intent(order.provider_ref)
    assert (intent["amount"], intent["currency"]) == (2 * PRICE, "cny")
    assert intent["metadata"]["order_id"] == str(order.id)

    assert pay(stripe, localstripe, ticket, VISA) == {"status": "succeeded"}
    assert ticket_now(ticket).status == TicketStatus.confirmed
    assert orders.get_order(order.id).status == OrderStatus.paid

    assert events.cancel_event(event.id, "staff:ana").tickets == 1
    assert ticket_now(ticket).status == TicketStatus.cancelled
    order = orders.get_order(order.id)
    assert (order.status, order.refunded) == (OrderStatus.refunded, 2 * PRICE)
    [refund] = localstripe.refunds(order.provider_ref)
    assert (refund["amount"], refund["status"]) == (2 * PRICE, "succeeded")
    assert occurrence_of(event).taken == 0


def test_a_declined_card_frees_the_place_and_the_next_in_line_is_offered_it(
        app, prop, stripe, localstripe):
    event = make_event(prop, capacity=1, price=PRICE)
    mei, wei = guests(prop, 2)
    first = events.rsvp(occurrence_of(event).id, mei, provider_name="stripe")
    waiting = events.rsvp(occurrence_of(event).id, wei, provider_name="stripe")
    assert waiting.status == TicketStatus.waitlisted and waiting.order_id is None

    answer = pay(stripe, localstripe, first, DECLINED)
    assert answer["status"] == "requires_payment_method"
    assert ticket_now(first).status == TicketStatus.cancelled
    assert orders.get_order(first.order_id).status == OrderStatus.cancelled
    assert ticket_now(waiting).status == TicketStatus.offered
    assert occurrence_of(event).taken == 1
    told = session.scalar(select(Notification.kind).where(Notification.member_id == wei.id))
    assert told == events.PLACE_OFFERED

    # Wei takes the offer and pays with a good card.
    events.pay_offer(waiting.id, wei, "stripe")
    assert pay(stripe, localstripe, waiting, VISA) == {"status": "succeeded"}
    assert ticket_now(waiting).status == TicketStatus.confirmed
    assert localstripe.intent(orders.get_order(ticket_now(waiting).order_id).provider_ref)[
        "amount"] == PRICE
