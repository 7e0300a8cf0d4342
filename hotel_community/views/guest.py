"""Guest pages: the access link, room sign-in, the stay group and the alumni community."""
from __future__ import annotations

from flask import Blueprint, Response, redirect, render_template, request, session, url_for
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import TooManyRequests

from hotel_community import i18n
from hotel_community.errors import CommunityError
from hotel_community.forms import ActionForm, RoomLoginForm, check_csrf
from hotel_community.i18n import gettext as _
from hotel_community.services import access, community, properties
from hotel_community.views import local_path

bp = Blueprint("guest", __name__)

MEMBER_KEY = "hotel_community.member"
STAY_KEY = "hotel_community.stay"


@bp.before_request
def use_guest_language() -> None:
    member = community.get_member(session.get(MEMBER_KEY))
    i18n.activate(i18n.choose_locale(member.language if member else None))


bp.before_request(check_csrf)


@bp.errorhandler(CommunityError)
def community_error(error: CommunityError) -> tuple[str, int]:
    return _message(error.message, error.status)


@bp.errorhandler(TooManyRequests)
def too_many_requests(error: TooManyRequests) -> tuple[str, int]:
    return _message(_("Too many attempts. Please wait a while, or ask the front desk."), 429)


@bp.errorhandler(CSRFError)
def csrf_error(error: CSRFError) -> tuple[str, int]:
    return _message(_("This page has expired. Please go back, reload it and try again."), 400)


@bp.get("/")
def home() -> Response:
    if session.get(MEMBER_KEY):
        return redirect(url_for(".group"))
    return redirect(url_for(".login"))


@bp.get("/a/<token>")
def access_link(token: str) -> Response:
    member, stay = access.redeem_access_token(token)
    _sign_in(member.id, stay.id)
    return redirect(url_for(".group"))


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | tuple[str, int]:
    form = RoomLoginForm(property=request.args.get("property", ""))
    error, status = None, 200
    if form.validate_on_submit():
        try:
            member, stay = access.room_login(form.property.data, form.room.data,
                                             form.last_name.data)
        except access.AccessDenied as denied:
            error, status = denied.message, denied.status
        else:
            _sign_in(member.id, stay.id)
            return redirect(url_for(".group"))
    return render_template("hotel_community/guest/login.html", form=form, error=error,
                           properties=properties.list_properties()), status


@bp.get("/group")
def group() -> Response | str:
    member = community.get_member(session.get(MEMBER_KEY))
    page = community.guest_home(member, session.get(STAY_KEY)) if member else None
    if page is None:
        _sign_out()
        return redirect(url_for(".login"))
    return render_template(f"hotel_community/guest/{page.kind}.html", page=page,
                           member=member, form=ActionForm())


@bp.post("/visibility")
def visibility() -> Response:
    member_id = session.get(MEMBER_KEY)
    if not member_id:
        return redirect(url_for(".login"))
    community.set_visible(member_id, request.form.get("visible") == "on")
    return redirect(url_for(".group"))


@bp.get("/language/<code>")
def language(code: str) -> Response:
    if i18n.normalize(code):
        session[i18n.CHOSEN_LANGUAGE_KEY] = i18n.normalize(code)
    fallback = url_for(".group") if session.get(MEMBER_KEY) else url_for(".login")
    return redirect(local_path(request.args.get("next")) or fallback)


@bp.post("/logout")
def logout() -> Response:
    _sign_out()
    return redirect(url_for(".login"))


def _sign_in(member_id: int, stay_id: int) -> None:
    session[MEMBER_KEY], session[STAY_KEY] = member_id, stay_id
    session.permanent = True


def _sign_out() -> None:
    session.pop(MEMBER_KEY, None)
    session.pop(STAY_KEY, None)


def _message(message: str, status: int) -> tuple[str, int]:
    return render_template("hotel_community/guest/message.html", message=message,
                           signed_in=bool(session.get(MEMBER_KEY))), status


def room_login_key() -> str:
    """Rate-limit key for the room sign-in: the property and the room tried."""
    room = request.form.get("room", "").strip().lower()
    return f"room:{request.form.get('property', '')}:{room}"
