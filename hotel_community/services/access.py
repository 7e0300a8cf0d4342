"""How a guest gets in: the signed access link, or room number and last name."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import url_for
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import func, select

from hotel_community.database import session
from hotel_community.errors import Forbidden
from hotel_community.i18n import lazy_gettext as _l
from hotel_community.models import Member, Property, Stay, StayGuest, StayStatus
from hotel_community.settings import config_value

LINK_SALT = "hotel-community.guest-access"
ENDED = (StayStatus.cancelled, StayStatus.no_show)


class AccessDenied(Forbidden):
    code = "access_denied"


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(config_value("SECRET_KEY"), salt=LINK_SALT)


def access_token(member: Member, stay: Stay) -> str:
    return _serializer().dumps({"m": member.id, "s": stay.id})


def access_url(member: Member, stay: Stay) -> str:
    return url_for("hotel_community.guest.access_link", token=access_token(member, stay), _external=True)


def link_expires_at(stay: Stay) -> datetime:
    """The link works until the end of the departure day (property time) plus the grace."""
    zone = ZoneInfo(stay.property.timezone)
    end_of_departure = datetime.combine(stay.departure + timedelta(days=1), datetime.min.time(),
                                        tzinfo=zone)
    return end_of_departure + config_value("ACCESS_LINK_GRACE")


def redeem_access_token(token: str) -> tuple[Member, Stay]:
    """The member and stay a link is for, while the link is still valid."""
    try:
        data = _serializer().loads(token)
    except BadSignature as exc:
        raise AccessDenied(_l("This link is not valid.")) from exc
    row = session.execute(
        select(Member, Stay).join(StayGuest, StayGuest.member_id == Member.id)
        .join(Stay, Stay.id == StayGuest.stay_id)
        .where(Member.id == data["m"], Stay.id == data["s"])).one_or_none()
    if row is None or row.Stay.status in ENDED or row.Member.deleted_at is not None:
        raise AccessDenied(_l("This link is no longer valid."))
    if datetime.now(ZoneInfo("UTC")) > link_expires_at(row.Stay):
        raise AccessDenied(_l("This link has expired."))
    return row.Member, row.Stay


def room_login(property_code: str | None, room: str, last_name: str) -> tuple[Member, Stay]:
    """Fallback sign-in for in-house stays. One generic error whatever went wrong.

    Without a property code (a single-hotel site) the first property is meant.
    """
    query = select(Property.id)
    query = query.where(Property.code == property_code) if property_code else query.order_by(
        Property.code).limit(1)
    row = session.execute(
        select(Member, Stay).join(StayGuest, StayGuest.member_id == Member.id)
        .join(Stay, Stay.id == StayGuest.stay_id)
        .where(Stay.property_id == query.scalar_subquery(), Stay.status == StayStatus.in_house,
               Stay.room == room.strip(),
               func.lower(Member.last_name) == last_name.strip().lower())
        .order_by(StayGuest.id)
        .limit(1)).one_or_none()
    if row is None:
        raise AccessDenied(_l("We could not find a guest staying in that room with that last "
                              "name. Please check both, or ask the front desk."))
    return row.Member, row.Stay


def today_at(prop: Property) -> date:
    return datetime.now(ZoneInfo(prop.timezone)).date()
