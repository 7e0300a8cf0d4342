"""What the front desk does by hand when no PMS is linked."""
from __future__ import annotations

from uuid import uuid4

from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from hotel_community.database import session
from hotel_community.models import Member, Property, Stay, StayGuest, StayStatus
from hotel_community.services.checkin import StaySnapshot, apply_staff_change, snapshot_of
from hotel_community.settings import config_value


def in_house_stays(prop: Property, search: str = "", after_room: str | None = None) -> list[Stay]:
    """A page of in-house stays ordered by room; ``search`` matches a room or a guest's name."""
    query = (select(Stay).options(selectinload(Stay.guests).selectinload(StayGuest.member))
             .where(Stay.property_id == prop.id, Stay.status == StayStatus.in_house))
    if search:
        pattern = f"%{search.lower()}%"
        named = (select(StayGuest.stay_id).join(Member, Member.id == StayGuest.member_id)
                 .where(or_(Member.first_name.ilike(pattern), Member.last_name.ilike(pattern))))
        query = query.where(or_(Stay.room == search, Stay.id.in_(named)))
    if after_room:
        query = query.where(Stay.room > after_room)
    return list(session.scalars(query.order_by(Stay.room, Stay.id).limit(config_value("PAGE_SIZE"))))


def new_walk_in_id() -> str:
    return f"WALKIN-{uuid4().hex[:10].upper()}"


def check_in(prop: Property, snapshot: StaySnapshot) -> Stay:
    return apply_staff_change(prop, snapshot).stay


def check_out(stay: Stay) -> Stay:
    return apply_staff_change(stay.property, snapshot_of(stay, status=StayStatus.checked_out)).stay


def move(stay: Stay, room: str) -> Stay:
    return apply_staff_change(stay.property, snapshot_of(stay, room=room)).stay
