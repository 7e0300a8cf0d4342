"""Orders that pay for event tickets, as the guest's and the staff's order pages word them."""
from __future__ import annotations

import html as html_lib

import pytest

from hotel_community.database import session
from hotel_community.hookspecs import PaymentUpdate
from hotel_community.models import OrderStatus, Ticket, TicketStatus
from hotel_community.services import events, orders
from tests.factories import csrf_token, signed_in
from tests.services.test_events import guests, make_event, occurrence_of
from tests.views.test_staff_orders import ORDERS, act, csv_rows, text

PRICE = 8800


@pytest.fixture
def ticket(app, prop, card) -> Ticket:
    """Mei's ticket to the Nightly mixer, waiting to be paid by (fake) card."""
    (mei,) = guests(prop, 1)
    return events.rsvp(occurrence_of(make_event(prop, price=PRICE)).id, mei,
                       provider_name="fake_card")


def order_path(ticket: Ticket) -> str:
    return f"/community/orders/{orders.get_order(ticket.order_id).token}"


def page(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200
    return html_lib.unescape(response.get_data(as_text=True))


def paid(ticket: Ticket) -> None:
    order = orders.get_order(ticket.order_id)
    orders.apply_payment_update("fake_card", PaymentUpdate(order.provider_ref, "succeeded"))
    session.expire_all()


def test_the_order_page_words_a_ticket_and_links_to_it_once_paid(app, client, ticket):
    path = order_path(ticket)
    before = page(client, path)
    assert "Event ticket" in before and "Nightly mixer" in before
    assert "Your place is kept for you until" in before and "data-fake-card" in before
    assert "data-ticket-link" not in before and "data-buy-again" not in before

    answer = client.post(path + "/confirm", data={"csrf_token": csrf_token(client.get(path)),
                                                  "card": "4242"})
    assert answer.status_code == 200
    session.expire_all()
    assert session.get(Ticket, ticket.id).status == TicketStatus.confirmed
    after = page(client, path)
    assert 'data-order-status="paid"' in after and "Paid: your ticket is confirmed" in after
    link = f'href="/community/events/tickets/{ticket.id}" data-ticket-link'
    assert link in after and "data-buy-again" not in after

    mei = signed_in(app, ticket.member)
    assert ticket.code in page(mei, f"/community/events/tickets/{ticket.id}")
    mine = page(mei, "/community/orders")
    assert "Paid: your ticket is confirmed" in mine and "data-buy-again" not in mine


def test_a_refunded_ticket_order_shows_no_ticket_link(app, client, ticket):
    paid(ticket)
    events.cancel_ticket(ticket.id, ticket.member)
    after = page(client, order_path(ticket))
    assert 'data-order-status="refunded"' in after and "data-ticket-link" not in after


def test_staff_see_a_ticket_order_as_an_event_ticket(app, desk, ticket):
    paid(ticket)
    order = orders.get_order(ticket.order_id)
    detail = text(desk.get(f"{ORDERS}/{order.id}"))
    assert "Event ticket" in detail and "Mark fulfilled" not in detail
    assert f'/community/staff/events/occurrences/{ticket.occurrence_id}"' in detail
    assert "ticket confirmed" in detail

    listed = text(desk.get(ORDERS, query_string={"delivery": events.TICKET_DELIVERY}))
    assert f"{ORDERS}/{order.id}" in listed
    rows = csv_rows(desk.get(ORDERS, query_string={"format": "csv"}))
    row = dict(zip(rows[0], rows[1]))
    assert (row["Delivery"], row["Product"], row["Status"]) == ("Event ticket", "Nightly mixer",
                                                               "Paid")


def test_staff_cancelling_a_paid_ticket_order_cancels_the_ticket_and_frees_its_place(
        app, desk, ticket, card):
    paid(ticket)
    order = orders.get_order(ticket.order_id)
    act(desk, order, "cancel")
    session.expire_all()
    assert orders.get_order(order.id).status == OrderStatus.cancelled
    assert [amount for amount, _key in card.refunds] == [PRICE]
    assert session.get(Ticket, ticket.id).status == TicketStatus.cancelled
    assert occurrence_of(ticket.occurrence.event).taken == 0
