"""What every staff area's blueprint shares: English, CSRF, the staff page context, error pages.

Every staff area (the desk, moderation, community health, ...) is a blueprint
made by :func:`staff_blueprint`, so they all behave alike.
"""
from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, session
from flask_wtf.csrf import CSRFError
from sqlalchemy import select
from werkzeug.wrappers import Response

from hotel_community import i18n
from hotel_community.database import session as db_session
from hotel_community.errors import CommunityError
from hotel_community.forms import ActionForm, check_csrf
from hotel_community.models import Property
from hotel_community.views import local_path
from hotel_community.views.staff_auth import current_staff

PROPERTY_KEY = "hotel_community.staff_property"


def staff_blueprint(name: str, import_name: str) -> Blueprint:
    """A blueprint of staff pages: English, CSRF-checked, readable error pages."""
    bp = Blueprint(name, import_name)
    bp.before_request(_use_english)
    bp.before_request(check_csrf)
    bp.context_processor(_staff_context)
    bp.register_error_handler(CommunityError, _community_error)
    bp.register_error_handler(CSRFError, _csrf_error)
    return bp


def current_property() -> Property:
    """The property chosen with ``?property=CODE``, remembered for the session."""
    code = request.args.get("property") or session.get(PROPERTY_KEY)
    prop = db_session.scalar(select(Property).where(Property.code == code)) if code else None
    prop = prop or db_session.scalar(select(Property).order_by(Property.code).limit(1))
    if prop is None:
        abort(404, "No property yet: run `flask community property create`.")
    session[PROPERTY_KEY] = prop.code
    return prop


def staff_name() -> str:
    """How the signed-in staff user is recorded on what they did."""
    return str(current_staff().display_name)


def back_to(default: str) -> Response:
    """Redirect to the form's ``next`` path on this site, else to ``default``."""
    return redirect(local_path(request.form.get("next") or request.args.get("next")) or default)


def _use_english() -> None:
    # The desk pages are written in English; only the guest pages are translated.
    i18n.activate("en")


def _staff_context() -> dict:
    return {"staff": current_staff(), "action_form": ActionForm()}


def message_page(message: str, status: int) -> tuple[str, int]:
    return render_template("hotel_community/staff/message.html", message=message), status


def _community_error(error: CommunityError) -> tuple[str, int]:
    return message_page(str(error.message), error.status)


def _csrf_error(error: CSRFError) -> tuple[str, int]:
    return message_page("This form has expired or was not sent from this site (CSRF check failed). "
                    "Go back, reload the page and try again.", 400)

