"""Staff sign-in: the built-in accounts, or the host's ``@community.staff_loader``."""
from __future__ import annotations

from functools import wraps
from typing import Any, Callable

from flask import g, redirect, request, session, url_for

from hotel_community.database import session as db_session
from hotel_community.extension import state
from hotel_community.models import StaffUser

STAFF_KEY = "hotel_community.staff"


def load_builtin_staff() -> StaffUser | None:
    staff_id = session.get(STAFF_KEY)
    user = db_session.get(StaffUser, staff_id) if staff_id else None
    return user if user is not None and user.active else None


def current_staff() -> Any:
    if "hc_staff" not in g:
        g.hc_staff = state().extension.load_staff()
    return g.hc_staff


def staff_required(view: Callable) -> Callable:
    """Only staff get through; others are sent to sign in."""
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if current_staff() is None:
            return redirect(url_for("hotel_community.staff.login", next=request.full_path))
        return view(*args, **kwargs)
    return wrapper
