"""The front desk's view of a property's events: the list, attendees, figures and CSV rows.

Reading only; the changes (create, edit, capacity, cancel) are in
:mod:`hotel_community.services.events`. Every query is bounded: the list is
three statements, an occurrence's page a handful. Times are the property's.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Sequence

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import joinedload

from hotel_community.database import session, utcnow
from hotel_community.errors import NotFound
from hotel_community.models import (
    Event, EventOccurrence, Property, Stay, StayGuest, StayStatus, Ticket, TicketStatus,
)
from hotel_community.services.events import local_time
from hotel_community.services.staff_orders import defused

#: Upcoming dates shown per event in the list.
SHOWN_DATES = 3
#: Past (or cancelled) events shown under the upcoming ones.
PAST_SHOWN = 50
#: Dates in the attendance chart: this occurrence and the ones before it.
CHART_DATES = 30

STATUS_TEXT = {
    TicketStatus.pending_payment: "Waiting for payment",
    TicketStatus.confirmed: "Confirmed",
    TicketStatus.waitlisted: "Waitlisted",
    TicketStatus.offered: "Offered, not yet paid",
    TicketStatus.cancelled: "Cancelled",
}


@dataclass(frozen=True)
class EventRow:
    """An event in the list with its next dates (cancelled ones included)."""

    event: Event
    dates: list[EventOccurrence]
    #: How many dates are still ahead (more than ``dates`` shows for a daily event).
    ahead: int


@dataclass(frozen=True)
class Counts:
    """An occurrence's figures; ``checked_in`` and ``no_shows`` count places (a +1 is two)."""

    taken: int
    capacity: int
    checked_in: int
    no_shows: int
    waitlisted: int


@dataclass(frozen=True)
class Attendance:
    """Places taken and checked in per date of an event, oldest first."""

    dates: list[datetime]
    taken: list[int]
    checked_in: list[int]


# --------------------------------------------------------------------------- the list

def upcoming(prop: Property, now: datetime | None = None) -> list[EventRow]:
    """Events with a date not yet over, soonest first, each with its next dates."""
    now = now or utcnow()
    ranked = (select(EventOccurrence.id,
                     func.row_number().over(partition_by=EventOccurrence.event_id,
                                            order_by=EventOccurrence.starts_at).label("rank"),
                     func.count().over(partition_by=EventOccurrence.event_id).label("ahead"))
              .join(Event, Event.id == EventOccurrence.event_id)
              .where(Event.property_id == prop.id, EventOccurrence.ends_at >= now).subquery())
    rows = session.execute(
        select(EventOccurrence, ranked.c.ahead).join(ranked, ranked.c.id == EventOccurrence.id)
        .where(ranked.c.rank <= SHOWN_DATES).options(joinedload(EventOccurrence.event))
        .order_by(EventOccurrence.starts_at)).all()
    listed: dict[int, EventRow] = {}
    for occurrence, ahead in rows:
        row = listed.setdefault(occurrence.event_id, EventRow(occurrence.event, [], ahead))
        row.dates.append(occurrence)
    return list(listed.values())


def past(prop: Property, now: datetime | None = None) -> Sequence[Event]:
    """Events whose every date is over, the latest first."""
    ahead = select(EventOccurrence.id).where(EventOccurrence.event_id == Event.id,
                                             EventOccurrence.ends_at >= (now or utcnow()))
    return session.scalars(select(Event).where(Event.property_id == prop.id, ~ahead.exists())
                           .order_by(Event.starts_at.desc(), Event.id.desc())
                           .limit(PAST_SHOWN)).all()


def waitlist_counts(occurrence_ids: list[int]) -> dict[int, int]:
    """How many tickets wait in line per occurrence (zeros left out)."""
    return dict(session.execute(
        select(Ticket.occurrence_id, func.count()).where(
            Ticket.occurrence_id.in_(occurrence_ids), Ticket.status == TicketStatus.waitlisted)
        .group_by(Ticket.occurrence_id)).all())


# --------------------------------------------------------------------------- one occurrence

def occurrence_of(prop: Property, occurrence_id: int) -> EventOccurrence:
    """The property's occurrence with its event; another property's is not found."""
    occurrence = session.scalar(
        select(EventOccurrence).join(Event).where(EventOccurrence.id == occurrence_id,
                                                  Event.property_id == prop.id)
        .options(joinedload(EventOccurrence.event)))
    if occurrence is None:
        raise NotFound("There is no such event at this property.")
    return occurrence


def attendees(occurrence_id: int) -> Sequence[Ticket]:
    """Tickets holding (or having held) places, cancelled ones last; the line is apart."""
    return session.scalars(
        select(Ticket).where(Ticket.occurrence_id == occurrence_id,
                             Ticket.status != TicketStatus.waitlisted)
        .options(joinedload(Ticket.member))
        .order_by(Ticket.status == TicketStatus.cancelled, Ticket.id)).all()


def rooms_in_house(prop: Property, member_ids: list[int]) -> dict[int, str]:
    """The room of each of these members staying at the property now."""
    return {member_id: room for member_id, room in session.execute(
        select(StayGuest.member_id, Stay.room).join(Stay, Stay.id == StayGuest.stay_id)
        .where(StayGuest.member_id.in_(member_ids), Stay.property_id == prop.id,
               Stay.status == StayStatus.in_house, Stay.room.is_not(None))
        .order_by(Stay.id))}


def counts(occurrence: EventOccurrence, now: datetime | None = None) -> Counts:
    """No-shows are confirmed places not checked in once the occurrence has started."""
    started = occurrence.starts_at <= (now or utcnow())
    confirmed = Ticket.status == TicketStatus.confirmed
    checked_in, not_in, waitlisted = session.execute(
        select(func.sum(case((and_(confirmed, Ticket.checked_in_at.is_not(None)), Ticket.places),
                             else_=0)),
               func.sum(case((and_(confirmed, Ticket.checked_in_at.is_(None)), Ticket.places),
                             else_=0)),
               func.sum(case((Ticket.status == TicketStatus.waitlisted, 1), else_=0)))
        .where(Ticket.occurrence_id == occurrence.id)).one()
    return Counts(taken=occurrence.taken, capacity=occurrence.capacity,
                  checked_in=int(checked_in or 0), no_shows=int(not_in or 0) if started else 0,
                  waitlisted=int(waitlisted or 0))


def attendance(occurrence: EventOccurrence) -> Attendance:
    """The event's last :data:`CHART_DATES` dates up to this one: places taken, checked in."""
    checked_in = (select(func.coalesce(func.sum(Ticket.places), 0))
                  .where(Ticket.occurrence_id == EventOccurrence.id,
                         Ticket.checked_in_at.is_not(None)).scalar_subquery())
    rows = session.execute(
        select(EventOccurrence.starts_at, EventOccurrence.taken, checked_in)
        .where(EventOccurrence.event_id == occurrence.event_id,
               EventOccurrence.starts_at <= occurrence.starts_at)
        .order_by(EventOccurrence.starts_at.desc()).limit(CHART_DATES)).all()
    rows.reverse()
    return Attendance(dates=[row[0] for row in rows], taken=[row[1] for row in rows],
                      checked_in=[int(row[2]) for row in rows])


# --------------------------------------------------------------------------- CSV

CSV_HEADER = ("Name", "Email", "Room", "Places", "Status", "Checked in at", "Checked in by")


def attendees_csv(prop: Property, occurrence: EventOccurrence) -> str:
    """The attendees as CSV text, starting with a UTF-8 BOM (Chinese names read right in
    spreadsheets); what guests or clerks typed is defused so it never runs as a formula."""
    tickets = attendees(occurrence.id)
    rooms = rooms_in_house(prop, [ticket.member_id for ticket in tickets])
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer)
    writer.writerow(CSV_HEADER)
    for ticket in tickets:
        writer.writerow(_csv_row(prop, ticket, rooms.get(ticket.member_id, "")))
    return buffer.getvalue()


def _csv_row(prop: Property, ticket: Ticket, room: str) -> list[Any]:
    checked_in = (local_time(prop, ticket.checked_in_at).strftime("%Y-%m-%d %H:%M")
                  if ticket.checked_in_at else "")
    typed = (ticket.member.full_name, ticket.member.email or "", room, ticket.checked_in_by or "")
    name, email, room, by = (defused(value) for value in typed)
    return [name, email, room, ticket.places, STATUS_TEXT[ticket.status], checked_in, by]
