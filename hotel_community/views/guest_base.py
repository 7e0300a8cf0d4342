"""What every guest page shares: the guest's language, CSRF, error pages, who is signed in.

Each guest area (sign-in, feed, people, profile) is a blueprint made by
:func:`guest_blueprint`, so all of them behave alike.
"""
from __future__ import annotations

from functools import wraps
from typing import Any, Callable

from flask import Blueprint, g, redirect, render_template, session, url_for
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import TooManyRequests

from hotel_community import i18n
from hotel_community.errors import CommunityError
from hotel_community.forms import check_csrf
from hotel_community.i18n import gettext as _
from hotel_community.models import Member
from hotel_community.services import community

MEMBER_KEY = "hotel_community.member"
STAY_KEY = "hotel_community.stay"


def guest_blueprint(name: str, import_name: str) -> Blueprint:
    """A blueprint of guest pages: language, CSRF and readable error pages set up."""
    bp = Blueprint(name, import_name)
    bp.before_request(_use_guest_language)
    bp.before_request(check_csrf)
    bp.context_processor(lambda: {"signed_in": current_member() is not None})
    bp.register_error_handler(CommunityError, _community_error)
    bp.register_error_handler(TooManyRequests, _too_many_requests)
    bp.register_error_handler(CSRFError, _csrf_error)
    return bp


def current_member() -> Member | None:
    """The signed-in guest (loaded once per request), or None."""
    if "hc_member" not in g:
        g.hc_member = community.get_member(session.get(MEMBER_KEY))
        if g.hc_member is None and MEMBER_KEY in session:
            sign_out()  # the account was deleted, from this session or another one
    return g.hc_member


def member_required(view: Callable) -> Callable:
    """Only a signed-in guest gets through; others are sent to sign in."""
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if current_member() is None:
            return redirect(url_for("hotel_community.guest.login"))
        return view(*args, **kwargs)
    return wrapper


def sign_in(member_id: int, stay_id: int) -> None:
    session[MEMBER_KEY], session[STAY_KEY] = member_id, stay_id
    session.permanent = True


def sign_out() -> None:
    session.pop(MEMBER_KEY, None)
    session.pop(STAY_KEY, None)


def message_page(message: str, status: int) -> tuple[str, int]:
    return render_template("hotel_community/guest/message.html", message=message,
                           signed_in=bool(session.get(MEMBER_KEY))), status


def _use_guest_language() -> None:
    g.pop("hc_member", None)  # test clients reuse one app context across requests
    member = current_member()
    i18n.activate(i18n.choose_locale(member.language if member else None))


def _community_error(error: CommunityError) -> tuple[str, int]:
    return message_page(error.message, error.status)


def _too_many_requests(error: TooManyRequests) -> tuple[str, int]:
    return message_page(_("Too many attempts. Please wait a while, or ask the front desk."), 429)


def _csrf_error(error: CSRFError) -> tuple[str, int]:
    return message_page(_("This page has expired. Please go back, reload it and try again."), 400)
