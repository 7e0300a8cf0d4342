"""What the front desk does by hand when no PMS is linked."""
from __future__ import annotations

from uuid import uuid4

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import selectinload

from hotel_community.database import session
from hotel_community.errors import Conflict, ValidationFailed
from hotel_community.models import Member, Property, Stay, StayGuest, StayStatus
from hotel_community.services.checkin import StaySnapshot, apply_staff_change, snapshot_of
from hotel_community.settings import config_value


def in_house_stays(prop: Property, search: str = "", after_room: str | None = None) -> list[Stay]:
    """A page of in-house stays ordered by room.

    ``search`` is a room number, or words that each appear in a guest's first
    or last name (``mei``, ``chen``, ``Mei Chen``). The name test is a
    correlated EXISTS, so it only looks at the guests of in-house stays.
    """
    query = (select(Stay).options(selectinload(Stay.guests).selectinload(StayGuest.member))
             .where(Stay.property_id == prop.id, Stay.status == StayStatus.in_house))
    words = search.split()
    if words:
        named = (select(StayGuest.id).join(Member, Member.id == StayGuest.member_id)
                 .where(StayGuest.stay_id == Stay.id,
                        and_(*(or_(Member.first_name.icontains(word, autoescape=True),
                                   Member.last_name.icontains(word, autoescape=True))
                               for word in words))))
        query = query.where(or_(Stay.room == search.strip(), named.exists()))
    if after_room:
        query = query.where(Stay.room > after_room)
    return list(session.scalars(query.order_by(Stay.room, Stay.id).limit(config_value("PAGE_SIZE"))))


def new_walk_in_id() -> str:
    return f"WALKIN-{uuid4().hex[:10].upper()}"


def check_in(prop: Property, snapshot: StaySnapshot) -> Stay:
    return apply_staff_change(prop, snapshot).stay


def check_out(stay: Stay) -> Stay:
    _require_in_house(stay)
    return apply_staff_change(stay.property, snapshot_of(stay, status=StayStatus.checked_out)).stay


def move(stay: Stay, room: str) -> Stay:
    _require_in_house(stay)
    room = room.strip()
    if not room:
        raise ValidationFailed("Enter the new room.", {"room": ["Required."]})
    if room == stay.room:
        return stay
    return apply_staff_change(stay.property, snapshot_of(stay, room=room)).stay


def _require_in_house(stay: Stay) -> None:
    if stay.status is not StayStatus.in_house:
        raise Conflict(f"Room {stay.room} is not in house any more "
                       f"(the stay is {stay.status.value.replace('_', ' ')}).")
