"""Events: occurrences, RSVP with capacity, the waitlist and its promotions, paid tickets,
cancelling, and the door."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, update

from hotel_community.database import session, utcnow
from hotel_community.errors import Conflict, Forbidden, PaymentProviderError, ValidationFailed
from hotel_community.hookspecs import PaymentUpdate
from hotel_community.models import (
    EventAudience, EventOccurrence, Notification, OrderStatus, Post, Ticket, TicketStatus,
)
from hotel_community.services import events, orders
from tests.factories import check_in_by_hand, member_of, run_at_once
from tests.services.test_people import check_out

SOON = datetime.now() + timedelta(days=2)


def make_event(prop, capacity: int = 10, **fields) -> events.Event:
    values = {"title_en": "Nightly mixer", "title_zh": "晚间交友会", "capacity": capacity,
              "starts_local": SOON.replace(hour=19, minute=0, second=0, microsecond=0),
              "place": "Lobby bar", **fields}
    return events.create_event(prop, events.EventFields(**values), "staff:ana")


def guests(prop, count: int, first_room: int = 1200) -> list:
    return [member_of(check_in_by_hand(prop, str(first_room + n), (f"G{n}", "Guest")))
            for n in range(count)]


def occurrence_of(event) -> EventOccurrence:
    session.expire_all()
    return session.scalars(select(EventOccurrence).where(EventOccurrence.event_id == event.id)
                           .order_by(EventOccurrence.starts_at)).first()


def status(ticket: Ticket) -> TicketStatus:
    session.expire_all()
    return session.get(Ticket, ticket.id).status


# --- creating ------------------------------------------------------------------------------------

def test_a_daily_event_has_one_occurrence_a_day_at_the_same_local_time(app, prop):
    start = SOON.replace(hour=19, minute=0, second=0, microsecond=0)
    event = make_event(prop, repeat_daily_until=start.date() + timedelta(days=6))
    starts = [o.starts_at for o in session.get(events.Event, event.id).occurrences]
    assert len(starts) == 7
    assert {events.local_time(prop, moment).hour for moment in starts} == {19}  # Asia/Shanghai
    assert starts[0] == start - timedelta(hours=8)


def test_a_new_event_is_announced_in_the_stay_group(app, prop):
    event = make_event(prop)
    post = session.get(Post, event.announcement_post_id)
    assert "Nightly mixer" in post.body and "晚间交友会" in post.body


def test_bad_event_details_are_refused(app, prop):
    with pytest.raises(ValidationFailed) as refused:
        make_event(prop, capacity=0, title_en=" ")
    assert {"capacity", "title_en"} <= set(refused.value.details)


# --- RSVP ----------------------------------------------------------------------------------------

def test_places_then_the_waitlist(app, prop):
    event = make_event(prop, capacity=2)
    occurrence = occurrence_of(event)
    a, b, c = guests(prop, 3)
    tickets = [events.rsvp(occurrence.id, member) for member in (a, b, c)]
    assert [t.status for t in tickets] == [TicketStatus.confirmed] * 2 + [TicketStatus.waitlisted]
    assert occurrence_of(event).taken == 2
    assert events.waitlist_position(tickets[2]) == 1
    with pytest.raises(Conflict):
        events.rsvp(occurrence.id, a)


def test_a_cancelled_place_goes_to_the_first_in_line_guests_in_house_first(app, prop):
    event = make_event(prop, capacity=1, audience=EventAudience.members)
    occurrence = occurrence_of(event)
    holder, alumna, staying = guests(prop, 3)
    first = events.rsvp(occurrence.id, holder)
    events.rsvp(occurrence.id, alumna)  # joins the line first...
    check_out(alumna)                   # ...then leaves the hotel
    waiting = events.rsvp(occurrence.id, staying)

    events.cancel_ticket(first.id, holder)
    assert status(waiting) == TicketStatus.confirmed
    assert occurrence_of(event).taken == 1
    note = session.scalar(select(Notification).where(Notification.member_id == staying.id))
    assert note.kind == events.PLACE_FREED


def test_a_plus_one_takes_two_places_only_where_allowed(app, prop):
    (mei,) = guests(prop, 1)
    with pytest.raises(ValidationFailed):
        events.rsvp(occurrence_of(make_event(prop)).id, mei, plus_one=True)
    event = make_event(prop, capacity=3, plus_ones=True)
    events.rsvp(occurrence_of(event).id, mei, plus_one=True)
    assert occurrence_of(event).taken == 2


def test_an_in_house_event_is_for_guests_staying_now(app, prop):
    event = make_event(prop)
    (mei,) = guests(prop, 1)
    check_out(mei)
    with pytest.raises(Forbidden):
        events.rsvp(occurrence_of(event).id, mei)


def test_no_rsvp_after_the_deadline(app, prop):
    event = make_event(prop, starts_local=datetime.now() + timedelta(hours=9),
                       rsvp_closes_minutes=24 * 60)
    (mei,) = guests(prop, 1)
    with pytest.raises(Conflict):
        events.rsvp(occurrence_of(event).id, mei)


# --- paid tickets --------------------------------------------------------------------------------

def test_a_paid_ticket_holds_its_place_until_paid_then_is_confirmed(app, prop, card):
    event = make_event(prop, capacity=1, price=8800)
    (mei,) = guests(prop, 1)
    ticket = events.rsvp(occurrence_of(event).id, mei, provider_name="fake_card")
    assert ticket.status == TicketStatus.pending_payment
    order = orders.get_order(ticket.order_id)
    assert (order.total, order.delivery, order.status) == (8800, events.TICKET_DELIVERY,
                                                           OrderStatus.pending_payment)
    orders.apply_payment_update("fake_card", PaymentUpdate(order.provider_ref, "succeeded", 8800, "CNY"))
    assert status(ticket) == TicketStatus.confirmed


def test_an_unpaid_ticket_frees_its_place_when_the_order_expires(app, prop, card):
    event = make_event(prop, capacity=1, price=8800)
    mei, wei = guests(prop, 2)
    ticket = events.rsvp(occurrence_of(event).id, mei, provider_name="fake_card")
    waiting = events.rsvp(occurrence_of(event).id, wei, provider_name="fake_card")
    assert waiting.status == TicketStatus.waitlisted

    orders.expire_pending(now=utcnow() + timedelta(hours=1))
    assert status(ticket) == TicketStatus.cancelled
    assert status(waiting) == TicketStatus.offered  # a paid event offers the place
    assert occurrence_of(event).taken == 1


def test_cancelling_the_event_refunds_paid_tickets_and_tells_everyone(app, prop, card):
    event = make_event(prop, capacity=1, price=8800)
    mei, wei = guests(prop, 2)
    ticket = events.rsvp(occurrence_of(event).id, mei, provider_name="fake_card")
    order = orders.get_order(ticket.order_id)
    orders.apply_payment_update("fake_card", PaymentUpdate(order.provider_ref, "succeeded"))
    events.rsvp(occurrence_of(event).id, wei, provider_name="fake_card")

    assert events.cancel_event(event.id, "staff:ana") == events.Cancelled(tickets=2, refunds_failed=0)
    session.expire_all()
    assert orders.get_order(order.id).status == OrderStatus.refunded
    assert [amount for amount, _key in card.refunds] == [8800]
    told = set(session.scalars(select(Notification.member_id).where(
        Notification.kind == events.EVENT_CANCELLED)))
    assert told == {mei.id, wei.id}


# --- the door ------------------------------------------------------------------------------------

def test_a_ticket_is_admitted_once_and_the_second_scan_says_when(app, prop):
    event = make_event(prop)
    occurrence = occurrence_of(event)
    (mei,) = guests(prop, 1)
    ticket = events.rsvp(occurrence.id, mei)

    first = events.check_in(occurrence.id, ticket.code, "staff:ana", scan_id="door1-1")
    again = events.check_in(occurrence.id, ticket.code, "staff:bo", scan_id="door2-7")
    replay = events.check_in(occurrence.id, ticket.code, "staff:ana", scan_id="door1-1")
    assert first.result == "admitted"
    assert (again.result, again.used_by, again.used_at) == ("already_used", "staff:ana",
                                                            first.used_at)
    assert replay.result == "admitted"  # the same queued scan, sent again


def test_the_door_knows_wrong_occurrence_cancelled_and_unknown_tickets(app, prop):
    event = make_event(prop, repeat_daily_until=SOON.date() + timedelta(days=1))
    today, tomorrow = session.get(events.Event, event.id).occurrences
    mei, wei = guests(prop, 2)
    ticket = events.rsvp(today.id, mei)
    gone = events.rsvp(today.id, wei)
    events.cancel_ticket(gone.id, wei)

    assert events.check_in(tomorrow.id, ticket.code, "staff:ana").result == "wrong_occurrence"
    assert events.check_in(today.id, gone.code, "staff:ana").result == "cancelled"
    assert events.check_in(today.id, "nope", "staff:ana").result == "unknown"


# --- concurrency (PostgreSQL) --------------------------------------------------------------------

@pytest.mark.usefixtures("postgresql_only")
def test_thirty_rsvps_for_the_last_five_places(app, prop):
    event = make_event(prop, capacity=5)
    occurrence_id = occurrence_of(event).id
    members = guests(prop, 30)
    results = run_at_once(app, [lambda m=m: events.rsvp(occurrence_id, m).status
                                for m in members])

    assert sorted(results).count(TicketStatus.confirmed) == 5, results
    assert results.count(TicketStatus.waitlisted) == 25
    assert occurrence_of(event).taken == 5
    line = list(session.scalars(events._line(occurrence_id)))
    assert line == sorted(line)  # everyone in house: the line is the order they asked in

    holder = session.scalar(select(Ticket).where(Ticket.status == TicketStatus.confirmed))
    first_in_line = session.get(Ticket, line[0])
    events.cancel_ticket(holder.id, holder.member)
    assert status(first_in_line) == TicketStatus.confirmed
    assert occurrence_of(event).taken == 5


def test_a_ticket_refunded_in_full_gives_its_place_to_the_next_in_line(app, prop, card):
    event = make_event(prop, capacity=1, price=8800)
    mei, wei = guests(prop, 2)
    ticket = events.rsvp(occurrence_of(event).id, mei, provider_name="fake_card")
    order = orders.get_order(ticket.order_id)
    orders.apply_payment_update("fake_card", PaymentUpdate(order.provider_ref, "succeeded"))
    waiting = events.rsvp(occurrence_of(event).id, wei, provider_name="fake_card")

    orders.refund(order.id, 4000, "staff:ana")
    assert status(ticket) == TicketStatus.confirmed  # a partial refund keeps the place
    orders.refund(order.id, 4800, "staff:ana")
    assert status(ticket) == TicketStatus.cancelled
    assert status(waiting) == TicketStatus.offered


# --- what review found ---------------------------------------------------------------------------

def test_a_refused_refund_still_gives_the_place_to_the_next_in_line(app, prop, card):
    event = make_event(prop, capacity=1, price=8800)
    mei, wei, newcomer = guests(prop, 3)
    ticket = events.rsvp(occurrence_of(event).id, mei, provider_name="fake_card")
    order = orders.get_order(ticket.order_id)
    orders.apply_payment_update("fake_card", PaymentUpdate(order.provider_ref, "succeeded"))
    waiting = events.rsvp(occurrence_of(event).id, wei, provider_name="fake_card")
    card.refuse_refunds = True

    with pytest.raises(PaymentProviderError) as refused:
        events.cancel_ticket(ticket.id, mei)
    assert "front desk will refund you" in str(refused.value.message)
    assert status(ticket) == TicketStatus.cancelled
    assert status(waiting) == TicketStatus.offered
    late = events.rsvp(occurrence_of(event).id, newcomer, provider_name="fake_card")
    assert late.status == TicketStatus.waitlisted
    assert occurrence_of(event).taken == 1


def test_a_newcomer_never_takes_a_place_the_line_is_owed(app, prop):
    event = make_event(prop, capacity=1)
    occurrence_id = occurrence_of(event).id
    holder, waiting, newcomer = guests(prop, 3)
    first = events.rsvp(occurrence_id, holder)
    line = events.rsvp(occurrence_id, waiting)
    # A place frees without the line moving yet (as between a cancel and its promotion).
    session.execute(update(Ticket).where(Ticket.id == first.id)
                    .values(status=TicketStatus.cancelled))
    session.execute(update(EventOccurrence).where(EventOccurrence.id == occurrence_id)
                    .values(taken=0))
    session.commit()

    late = events.rsvp(occurrence_id, newcomer)
    assert late.status == TicketStatus.waitlisted
    assert status(line) == TicketStatus.confirmed  # the newcomer's RSVP moved the line


def test_an_offer_that_ran_out_cannot_be_paid_and_expires_once(app, prop, card):
    event = make_event(prop, capacity=1, price=8800)
    mei, wei = guests(prop, 2)
    ticket = events.rsvp(occurrence_of(event).id, mei, provider_name="fake_card")
    waiting = events.rsvp(occurrence_of(event).id, wei, provider_name="fake_card")
    orders.expire_pending(now=utcnow() + timedelta(hours=1))
    assert status(waiting) == TicketStatus.offered
    session.execute(update(Ticket).where(Ticket.id == waiting.id)
                    .values(offered_until=utcnow() - timedelta(minutes=1)))
    session.commit()

    with pytest.raises(Conflict):
        events.pay_offer(waiting.id, wei, "fake_card")
    assert events.expire_offers() == 1
    assert status(waiting) == TicketStatus.cancelled
    assert status(ticket) == TicketStatus.cancelled
    assert occurrence_of(event).taken == 0


def test_no_one_is_promoted_once_rsvps_have_closed(app, prop):
    event = make_event(prop, capacity=1, starts_local=datetime.now() + timedelta(hours=20),
                       rsvp_closes_minutes=60)
    mei, wei = guests(prop, 2)
    ticket = events.rsvp(occurrence_of(event).id, mei)
    waiting = events.rsvp(occurrence_of(event).id, wei)
    session.execute(update(events.Event).where(events.Event.id == event.id)
                    .values(rsvp_closes_minutes=24 * 60))
    session.commit()

    events._cancel(ticket.id, "staff:ana", refund=False)
    assert status(waiting) == TicketStatus.waitlisted


def test_cancelling_again_finishes_what_a_cut_short_cancel_left(app, prop):
    event = make_event(prop, capacity=2)
    mei, wei = guests(prop, 2)
    for member in (mei, wei):
        events.rsvp(occurrence_of(event).id, member)
    session.execute(update(EventOccurrence).where(EventOccurrence.event_id == event.id)
                    .values(cancelled_at=utcnow()))  # the first cancel stopped here
    session.commit()

    assert events.cancel_event(event.id, "staff:ana").tickets == 2


@pytest.mark.parametrize("change, field", [
    ({"starts_local": datetime(1, 1, 1, 19, 0)}, "starts_local"),
    ({"rsvp_closes_minutes": 2_000_000_000}, "rsvp_closes_minutes"),
    ({"price": 2**31}, "price"),
])
def test_out_of_range_event_details_are_refused(app, prop, change, field):
    with pytest.raises(ValidationFailed) as refused:
        make_event(prop, **change)
    assert field in refused.value.details


def test_capacity_out_of_range_is_refused(app, prop):
    with pytest.raises(ValidationFailed):
        events.set_capacity(occurrence_of(make_event(prop)).id, 99_999_999_999)
