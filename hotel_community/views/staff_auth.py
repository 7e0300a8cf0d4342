"""Staff sign-in: the built-in accounts, or the host's ``@community.staff_loader``."""
from __future__ import annotations

from functools import wraps
from typing import Any, Callable

from flask import redirect, request, session, url_for

from hotel_community.database import session as db_session
from hotel_community.extension import state
from hotel_community.models import StaffUser

STAFF_KEY = "hotel_community.staff"
_CACHE_KEY = "hotel_community.current_staff"


def load_builtin_staff() -> StaffUser | None:
    staff_id = session.get(STAFF_KEY)
    user = db_session.get(StaffUser, staff_id) if staff_id else None
    return user if user is not None and user.active else None


def current_staff() -> Any:
    """The signed-in staff user, asked once per request (not per app context)."""
    cache = request.environ
    if _CACHE_KEY not in cache:
        cache[_CACHE_KEY] = state().extension.load_staff()
    return cache[_CACHE_KEY]


def staff_required(view: Callable) -> Callable:
    """Only staff get through; others are sent to sign in."""
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if current_staff() is None:
            return redirect(url_for("hotel_community.staff.login", next=request.full_path))
        return view(*args, **kwargs)
    return wrapper
