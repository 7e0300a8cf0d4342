"""The door of an event: which occurrence staff check in, and how many came of those expected.

Admitting a ticket is :func:`hotel_community.services.events.check_in`; this
module adds what the door page shows around it.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from hotel_community.database import session
from hotel_community.errors import NotFound, ValidationFailed
from hotel_community.models import EventOccurrence, Property, Ticket
from hotel_community.services import events

#: Longest scan id a door device may send (the column's size).
MAX_SCAN_ID = 64


@dataclass(frozen=True)
class Counts:
    """Places checked in, and places taken (confirmed, offered or being paid for)."""

    checked_in: int
    taken: int


def occurrence_at(prop: Property, occurrence_id: int) -> EventOccurrence:
    """The occurrence, when it is one of this property's events."""
    occurrence = events.get_occurrence(occurrence_id)
    if occurrence.event.property_id != prop.id:
        raise NotFound("There is no such event at this property.")
    return occurrence


def counts(occurrence_id: int) -> Counts:
    occurrence = events.get_occurrence(occurrence_id)
    checked_in = session.scalar(select(func.coalesce(func.sum(Ticket.places), 0)).where(
        Ticket.occurrence_id == occurrence_id, Ticket.checked_in_at.is_not(None)))
    return Counts(int(checked_in or 0), occurrence.taken)


def check_scan(code: str, scan_id: str) -> None:
    """Refuse what no door device sends: no code, or an overlong scan id. (A wrong code is
    an unknown ticket, which the door says as such.)"""
    errors = {}
    if not code.strip():
        errors["code"] = ["Enter the ticket's code."]
    if len(scan_id) > MAX_SCAN_ID:
        errors["scan_id"] = [f"At most {MAX_SCAN_ID} characters."]
    if errors:
        raise ValidationFailed("Not a ticket code.", errors)
