"""Built-in staff accounts."""
from __future__ import annotations

from sqlalchemy import select

from hotel_community.database import session, transaction
from hotel_community.errors import Conflict, ValidationFailed
from hotel_community.models import StaffUser

MIN_PASSWORD_LENGTH = 8


def create_staff(username: str, password: str, name: str = "") -> StaffUser:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(f"The password needs at least {MIN_PASSWORD_LENGTH} characters.",
                               {"password": ["Too short."]})
    with transaction():
        if session.scalar(select(StaffUser.id).where(StaffUser.username == username)):
            raise Conflict(f"Staff user {username!r} already exists.")
        user = StaffUser(username=username, name=name)
        user.set_password(password)
        session.add(user)
    return user


def authenticate_staff(username: str, password: str) -> StaffUser | None:
    user = session.scalar(select(StaffUser).where(StaffUser.username == username.strip()))
    return user if user is not None and user.check_password(password) else None
