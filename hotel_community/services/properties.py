"""Properties and their two groups."""
from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select

from hotel_community.database import session, transaction
from hotel_community.errors import Conflict, NotFound, ValidationFailed
from hotel_community.models import Group, GroupKind, Property


def create_property(code: str, name: str, timezone: str = "UTC", currency: str = "USD",
                    welcome_message: str | None = None) -> Property:
    """Create a property with its stay group and its alumni community."""
    _check_timezone(timezone)
    with transaction():
        if session.scalar(select(Property.id).where(Property.code == code)) is not None:
            raise Conflict(f"A property with code {code!r} already exists.")
        prop = Property(code=code, name=name, timezone=timezone, currency=currency.upper(),
                        welcome_message=welcome_message)
        prop.groups = [
            Group(kind=GroupKind.stay, name=f"Staying at {name} now"),
            Group(kind=GroupKind.alumni, name=f"{name} community"),
        ]
        session.add(prop)
    return prop


def get_property(code: str) -> Property:
    prop = session.scalar(select(Property).where(Property.code == code))
    if prop is None:
        raise NotFound(f"No property with code {code!r}.")
    return prop


def list_properties() -> list[Property]:
    return list(session.scalars(select(Property).order_by(Property.code)))


def groups_by_kind(prop: Property) -> dict[GroupKind, Group]:
    """``prop``'s groups: no query when they were loaded with it (the API does)."""
    return {group.kind: group for group in prop.groups}


def _check_timezone(name: str) -> None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationFailed("Unknown time zone.", {"timezone": [f"Unknown: {name}"]}) from exc
