"""Guest pages: the access link, room sign-in, the stay group and the alumni community."""
from __future__ import annotations

from flask import Response, redirect, render_template, request, session, url_for

from hotel_community import i18n
from hotel_community.forms import ActionForm, RoomLoginForm
from hotel_community.services import access, community, people, properties
from hotel_community.views import local_path
from hotel_community.views.guest_base import (
    MEMBER_KEY,
    STAY_KEY,
    current_member,
    guest_blueprint,
    member_required,
    sign_in,
    sign_out,
)

bp = guest_blueprint("guest", __name__)

#: How many of the visible guests the group page shows; the people page has them all.
WHO_IS_HERE_PREVIEW = 12


@bp.get("/")
def home() -> Response:
    if session.get(MEMBER_KEY):
        return redirect(url_for(".group"))
    return redirect(url_for(".login"))


@bp.get("/a/<token>")
def access_link(token: str) -> Response:
    member, stay = access.redeem_access_token(token)
    sign_in(member.id, stay.id)
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
            sign_in(member.id, stay.id)
            return redirect(url_for(".group"))
    return render_template("hotel_community/guest/login.html", form=form, error=error,
                           properties=properties.list_properties()), status


@bp.get("/group")
@member_required
def group() -> Response | str:
    member = current_member()
    page = community.guest_home(member, session.get(STAY_KEY))
    if page is None:
        sign_out()
        return redirect(url_for(".login"))
    visible = people.who_is_here(member, page.group, limit=WHO_IS_HERE_PREVIEW) if page.group else None
    return render_template(f"hotel_community/guest/{page.kind}.html", page=page,
                           member=member, visible=visible, form=ActionForm())


@bp.post("/visibility")
@member_required
def visibility() -> Response:
    community.set_visible(current_member().id, request.form.get("visible") == "on")
    return redirect(url_for(".group"))


@bp.get("/language/<code>")
def language(code: str) -> Response:
    if i18n.normalize(code):
        session[i18n.CHOSEN_LANGUAGE_KEY] = i18n.normalize(code)
    fallback = url_for(".group") if session.get(MEMBER_KEY) else url_for(".login")
    return redirect(local_path(request.args.get("next")) or fallback)


@bp.post("/logout")
def logout() -> Response:
    sign_out()
    return redirect(url_for(".login"))


def room_login_key() -> str:
    """Rate-limit key for the room sign-in: the property and the room tried."""
    room = request.form.get("room", "").strip().lower()
    return f"room:{request.form.get('property', '')}:{room}"
