"""Guest pages: the access link, room sign-in, the stay group and the alumni community."""
from __future__ import annotations

from flask import Blueprint, Response, abort, redirect, render_template, request, session, url_for
from werkzeug.exceptions import TooManyRequests

from hotel_community import i18n
from hotel_community.errors import CommunityError
from hotel_community.forms import ActionForm, RoomLoginForm
from hotel_community.i18n import gettext as _
from hotel_community.services import access, community, properties

bp = Blueprint("guest", __name__)

MEMBER_KEY = "hotel_community.member"
STAY_KEY = "hotel_community.stay"


@bp.before_request
def use_guest_language() -> None:
    member = community.get_member(session.get(MEMBER_KEY))
    i18n.activate(i18n.choose_locale(member.language if member else None))


@bp.errorhandler(CommunityError)
def community_error(error: CommunityError) -> tuple[str, int]:
    return render_template("hotel_community/guest/message.html", message=error.message), error.status


@bp.errorhandler(TooManyRequests)
def too_many_requests(error: TooManyRequests) -> tuple[str, int]:
    message = _("Too many attempts. Please wait a while, or ask the front desk.")
    return render_template("hotel_community/guest/message.html", message=message), 429


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
def login() -> Response | str:
    form = RoomLoginForm(property=request.args.get("property", ""))
    all_properties = properties.list_properties()
    if form.validate_on_submit():
        prop = properties.get_property(form.property.data or all_properties[0].code)
        member, stay = access.room_login(prop, form.room.data, form.last_name.data)
        _sign_in(member.id, stay.id)
        return redirect(url_for(".group"))
    return render_template("hotel_community/guest/login.html", form=form,
                           properties=all_properties)


@bp.get("/group")
def group() -> Response | str:
    member = community.get_member(session.get(MEMBER_KEY))
    if member is None:
        return redirect(url_for(".login"))
    page = community.guest_home(member, session.get(STAY_KEY))
    return render_template(f"hotel_community/guest/{page.kind}.html", page=page,
                           member=member, form=ActionForm())


@bp.post("/visibility")
def visibility() -> Response:
    form = ActionForm()
    member_id = session.get(MEMBER_KEY)
    if not member_id or not form.validate_on_submit():
        abort(400)
    community.set_visible(member_id, request.form.get("visible") == "on")
    return redirect(url_for(".group"))


@bp.get("/language/<code>")
def language(code: str) -> Response:
    if i18n.normalize(code):
        session[i18n.CHOSEN_LANGUAGE_KEY] = i18n.normalize(code)
    return redirect(url_for(".group") if session.get(MEMBER_KEY) else url_for(".login"))


@bp.post("/logout")
def logout() -> Response:
    if ActionForm().validate_on_submit():
        session.pop(MEMBER_KEY, None)
        session.pop(STAY_KEY, None)
    return redirect(url_for(".login"))


def _sign_in(member_id: int, stay_id: int) -> None:
    session[MEMBER_KEY], session[STAY_KEY] = member_id, stay_id
    session.permanent = True


def room_login_key() -> str:
    """Rate-limit key for the room sign-in: the property and the room tried."""
    return f"room:{request.form.get('property', '')}:{request.form.get('room', '').strip()}"
