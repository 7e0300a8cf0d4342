"""Staff pages: in-house guests, manual check-in / check-out / room move, welcome cards, API keys."""
from __future__ import annotations

from datetime import timedelta

from flask import (
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.exceptions import TooManyRequests

from hotel_community.database import session as db_session
from hotel_community.errors import CommunityError
from hotel_community.forms import (
    ActionForm,
    ApiKeyForm,
    CheckInForm,
    RoomMoveForm,
    StaffLoginForm,
)
from hotel_community.models import Member, Stay, StayStatus
from hotel_community.services import access, api_keys, properties, qr, staff_desk
from hotel_community.services.checkin import GuestSnapshot, StaySnapshot
from hotel_community.services.staff import authenticate_staff
from hotel_community.views import local_path
from hotel_community.views.staff_auth import STAFF_KEY, staff_required
from hotel_community.views.staff_base import (
    current_property,
    message_page,
    staff_blueprint,
)

bp = staff_blueprint("staff", __name__)


@bp.errorhandler(TooManyRequests)
def too_many_requests(error: TooManyRequests) -> tuple[str, int]:
    return message_page("Too many sign-in attempts. Please wait a while and try again.", 429)


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | str:
    form = StaffLoginForm()
    if form.validate_on_submit():
        user = authenticate_staff(form.username.data, form.password.data)
        if user is not None:
            session.clear()
            session[STAFF_KEY] = user.id
            return redirect(local_path(request.args.get("next")) or url_for(".in_house"))
        flash("Wrong username or password.", "error")
    return render_template("hotel_community/staff/login.html", form=form)


@bp.post("/logout")
def logout() -> Response:
    if ActionForm().validate_on_submit():
        session.pop(STAFF_KEY, None)
    return redirect(url_for(".login"))


@bp.get("/")
@staff_required
def in_house() -> str:
    prop = current_property()
    query = request.args.get("q", "").strip()
    stays = staff_desk.in_house_stays(prop, query, request.args.get("after"))
    return render_template("hotel_community/staff/in_house.html", property=prop, stays=stays,
                           query=query, properties=properties.list_properties())


@bp.route("/check-in", methods=["GET", "POST"])
@staff_required
def check_in() -> Response | str:
    prop = current_property()
    today = access.today_at(prop)
    form = CheckInForm(data={"arrival": today, "departure": today + timedelta(days=1)})
    if form.validate_on_submit():
        try:
            stay = staff_desk.check_in(prop, _snapshot_from(form))
        except CommunityError as error:
            flash(str(error.message), "error")
        else:
            flash(f"Checked in room {stay.room}.", "success")
            return redirect(url_for(".in_house", property=prop.code))
    return render_template("hotel_community/staff/check_in.html", form=form, property=prop)


@bp.post("/stays/<hc_id:stay_id>/check-out")
@staff_required
def check_out(stay_id: int) -> Response:
    stay = _stay_or_404(stay_id)
    staff_desk.check_out(stay)
    flash(f"Checked out room {stay.room}.", "success")
    return redirect(url_for(".in_house", property=stay.property.code))


@bp.post("/stays/<hc_id:stay_id>/move")
@staff_required
def move(stay_id: int) -> Response:
    stay = _stay_or_404(stay_id)
    form = RoomMoveForm()
    if form.validate_on_submit():
        old_room = stay.room
        staff_desk.move(stay, form.room.data)
        flash(f"Moved from room {old_room} to {stay.room}.", "success")
    else:
        flash("Enter the new room.", "error")
    return redirect(url_for(".in_house", property=stay.property.code))


@bp.get("/stays/<hc_id:stay_id>/welcome/<hc_id:member_id>")
@staff_required
def welcome_card(stay_id: int, member_id: int) -> str:
    stay = _stay_or_404(stay_id)
    guest = next((g for g in stay.guests if g.member_id == member_id), None)
    if guest is None:
        abort(404)
    link = access.access_url(guest.member, stay)
    return render_template("hotel_community/staff/welcome_card.html", stay=stay,
                           member=guest.member, link=link, qr=qr.qr_svg(link))


@bp.get("/stays/<hc_id:stay_id>/welcome/<hc_id:member_id>.png")
@staff_required
def welcome_qr_png(stay_id: int, member_id: int) -> Response:
    stay = _stay_or_404(stay_id)
    member = db_session.get(Member, member_id)
    if member is None or member_id not in {g.member_id for g in stay.guests}:
        abort(404)
    return Response(qr.qr_png(access.access_url(member, stay)), mimetype="image/png")


@bp.route("/api-keys", methods=["GET", "POST"])
@staff_required
def api_key_list() -> str:
    prop = current_property()
    form = ApiKeyForm()
    new_key = None
    if form.validate_on_submit():
        key, secret = api_keys.create_api_key(prop, form.label.data or "")
        new_key = {"key_id": key.key_id, "secret": secret}
    return render_template("hotel_community/staff/api_keys.html", property=prop, form=form,
                           keys=api_keys.list_api_keys(prop), new_key=new_key)


@bp.post("/api-keys/<key_id>/revoke")
@staff_required
def api_key_revoke(key_id: str) -> Response:
    prop = current_property()
    api_keys.revoke_api_key(prop, key_id)
    flash(f"Revoked key {key_id}.", "success")
    return redirect(url_for(".api_key_list", property=prop.code))


def _snapshot_from(form: CheckInForm) -> StaySnapshot:
    guests = tuple(
        GuestSnapshot(first_name=g.first_name.data.strip(), last_name=g.last_name.data.strip(),
                      email=g.email.data or None, language=g.language.data or None,
                      primary=index == 0)
        for index, g in enumerate(e for e in form.guests.entries if e.first_name.data))
    return StaySnapshot(
        reservation_id=form.reservation_id.data.strip() or staff_desk.new_walk_in_id(),
        status=StayStatus.in_house, room=form.room.data.strip(), arrival=form.arrival.data,
        departure=form.departure.data, guests=guests)


def _stay_or_404(stay_id: int) -> Stay:
    stay = db_session.get(Stay, stay_id)
    if stay is None:
        abort(404)
    return stay


def username_key() -> str:
    """Rate-limit key for the staff sign-in: the username tried."""
    return "staff:" + request.form.get("username", "").strip().lower()


