"""What a guest sees of events: the upcoming dates they may come to, their own tickets
on them, and who else is going (the attendees they may see).

The rules of RSVPs, the waitlist and payment are in services/events.py; this
module only reads, with the same audience rule (:func:`events.may_attend`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from sqlalchemy import Select, and_, false, func, or_, select
from sqlalchemy.orm import joinedload

from hotel_community.database import session, utcnow
from hotel_community.errors import NotFound
from hotel_community.i18n import lazy_gettext as _l
from hotel_community.models import (
    Event, EventAudience, EventOccurrence, Member, Property, Stay, StayGuest, StayStatus, Ticket,
    TicketStatus,
)
from hotel_community.services import events
from hotel_community.services.people import shown_to

#: How many dates the events page lists.
LIST_LIMIT = 60


@dataclass
class Attendees:
    """The other confirmed attendees of an occurrence, as one of them may see them."""

    shown: list[Member]
    #: Confirmed attendees who are not visible to the viewer: counted, not named.
    hidden: int


def upcoming_for_member(member: Member) -> Sequence[EventOccurrence]:
    """Dates to come, soonest first, at the properties the member stayed at, of the
    events they may attend (in house events only where they are in house now)."""
    stays = session.execute(
        select(Stay.property_id, Stay.status).join(StayGuest, StayGuest.stay_id == Stay.id)
        .where(StayGuest.member_id == member.id,
               Stay.status.in_((StayStatus.in_house, StayStatus.checked_out)))).all()
    in_house = {property_id for property_id, status in stays if status == StayStatus.in_house}
    stayed = {property_id for property_id, _status in stays}
    audience = or_(and_(Event.audience != EventAudience.in_house, Event.property_id.in_(stayed)),
                   Event.property_id.in_(in_house)) if stayed else false()
    return session.scalars(_upcoming().where(audience)).all()


def upcoming_public(prop: Property) -> Sequence[EventOccurrence]:
    """Dates to come of the property's public events, for a visitor not signed in."""
    return session.scalars(_upcoming().where(Event.property_id == prop.id,
                                             Event.audience == EventAudience.public)).all()


def _upcoming() -> Select:
    return (select(EventOccurrence).join(EventOccurrence.event)
            .where(EventOccurrence.ends_at > utcnow(), EventOccurrence.cancelled_at.is_(None),
                   Event.cancelled_at.is_(None))
            .options(joinedload(EventOccurrence.event).joinedload(Event.property))
            .order_by(EventOccurrence.starts_at, EventOccurrence.id).limit(LIST_LIMIT))


def occurrence_for(occurrence_id: int, member: Member | None) -> EventOccurrence:
    """The occurrence, if the viewer may see it: a public event, one they may attend,
    or one they hold a ticket for. Others are not found, as if they did not exist."""
    occurrence = events.get_occurrence(occurrence_id)
    event = occurrence.event
    if (event.audience == EventAudience.public or events.may_attend(member, event)
            or (member is not None and _has_ticket(member, occurrence_id))):
        return occurrence
    raise NotFound(_l("There is no such event."))


def _has_ticket(member: Member, occurrence_id: int) -> bool:
    return session.scalar(select(Ticket.id).where(Ticket.member_id == member.id,
                                                  Ticket.occurrence_id == occurrence_id)
                          .limit(1)) is not None


def open_tickets(member: Member | None, occurrence_ids: list[int]) -> dict[int, Ticket]:
    """The member's ticket (not cancelled) on each of the occurrences that has one."""
    if member is None or not occurrence_ids:
        return {}
    return {ticket.occurrence_id: ticket for ticket in session.scalars(
        select(Ticket).where(Ticket.member_id == member.id,
                             Ticket.occurrence_id.in_(occurrence_ids),
                             Ticket.status != TicketStatus.cancelled))}


def own_ticket(ticket_id: int, member: Member) -> Ticket:
    """The member's own ticket; another member's is not found."""
    ticket = session.scalar(
        select(Ticket).where(Ticket.id == ticket_id)
        .options(joinedload(Ticket.occurrence).joinedload(EventOccurrence.event)))
    if ticket is None or ticket.member_id != member.id:
        raise NotFound(_l("There is no such ticket."))
    return ticket


def attendees(occurrence_id: int, viewer: Member) -> Attendees:
    """Who else holds a confirmed ticket: named when visible to the viewer, else counted."""
    others = (select(Member).join(Ticket, Ticket.member_id == Member.id)
              .where(Ticket.occurrence_id == occurrence_id,
                     Ticket.status == TicketStatus.confirmed, Member.id != viewer.id))
    everyone = session.scalar(others.with_only_columns(func.count(Member.id)))
    shown = session.scalars(others.where(shown_to(viewer.id))
                            .options(joinedload(Member.profile))).all()
    return Attendees(shown=sorted(shown, key=lambda m: m.display_name.lower()),
                     hidden=everyone - len(shown))
