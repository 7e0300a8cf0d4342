"""``flask community events expire-offers``: waitlist offers not taken in time move the line."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from hotel_community.database import session, transaction, utcnow
from hotel_community.models import Ticket, TicketStatus
from hotel_community.services import events, orders
from tests.services.test_events import guests, make_event, occurrence_of
from tests.test_cli import community


def statuses(*tickets: Ticket) -> list[TicketStatus]:
    session.expire_all()
    return [session.get(Ticket, ticket.id).status for ticket in tickets]


def test_expire_offers_gives_a_late_offer_to_the_next_in_line(app, runner, prop, card):
    event = make_event(prop, capacity=1, price=8800)
    occurrence = occurrence_of(event)
    holder, offered, next_in_line = guests(prop, 3)
    first = events.rsvp(occurrence.id, holder, provider_name="fake_card")
    second, third = (events.rsvp(occurrence.id, member, provider_name="fake_card")
                     for member in (offered, next_in_line))
    orders.expire_pending(now=utcnow() + timedelta(hours=1))  # the holder never paid
    assert statuses(first, second, third) == [TicketStatus.cancelled, TicketStatus.offered,
                                              TicketStatus.waitlisted]
    assert "No waitlist offers to expire." in community(runner, "events", "expire-offers").output

    with transaction():
        session.execute(update(Ticket).where(Ticket.id == second.id)
                        .values(offered_until=utcnow() - timedelta(minutes=1)))
    result = community(runner, "events", "expire-offers")
    assert "Expired 1 waitlist offer; their places went to the next in line." in result.output
    assert statuses(second, third) == [TicketStatus.cancelled, TicketStatus.offered]
    assert occurrence_of(event).taken == 1


def test_expire_offers_says_it_is_for_cron(app, runner):
    result = runner.invoke(args=["community", "events", "expire-offers", "--help"])
    assert result.exit_code == 0 and "cron" in result.output
