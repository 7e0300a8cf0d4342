"""The door of an event: staff scan ticket QR codes (or type the code) and are told at once.

The page's script queues every scan in the browser and sends them in order,
so a bad connection loses none; each scan carries a ``scan_id``, and a scan
sent again is the same admission (:func:`hotel_community.services.events.check_in`).
"""
from __future__ import annotations

from pathlib import Path

from flask import jsonify, render_template, request
from flask_wtf.csrf import CSRFError, generate_csrf
from werkzeug.wrappers import Response

from hotel_community.errors import AuthenticationFailed, CommunityError
from hotel_community.models import Property
from hotel_community.services import door, events
from hotel_community.services.events import CheckIn
from hotel_community.views.staff_auth import current_staff, staff_required
from hotel_community.views.staff_base import current_property, staff_blueprint, staff_name

bp = staff_blueprint("door", __name__)
# The vendored QR reader (static/vendor/) is served at /staff/door/static/...
bp.static_folder = str(Path(__file__).resolve().parents[1] / "static")
bp.static_url_path = "/static"

TIME_FORMAT = "%H:%M, %a %d %b"


@bp.get("/<hc_id:occurrence_id>")
@staff_required
def page(occurrence_id: int) -> str:
    prop = current_property()
    occurrence = door.occurrence_at(prop, occurrence_id)
    starts = events.local_time(prop, occurrence.starts_at).strftime(TIME_FORMAT)
    return render_template("hotel_community/staff/door.html", property=prop,
                           occurrence=occurrence, event=occurrence.event, starts=starts,
                           counts=door.counts(occurrence_id), csrf_token=generate_csrf())


@bp.post("/<hc_id:occurrence_id>/check-in")
def check_in(occurrence_id: int) -> tuple[Response, int]:
    """One scan, answered as JSON (errors too: the page's script reads every answer)."""
    try:
        if current_staff() is None:
            raise AuthenticationFailed("Signed out: sign in again, the scans wait.")
        prop = current_property()
        door.occurrence_at(prop, occurrence_id)
        code, scan_id = request.form.get("code", ""), request.form.get("scan_id", "")
        door.check_scan(code, scan_id)
        result = events.check_in(occurrence_id, code, f"staff:{staff_name()}", scan_id or None)
    except CommunityError as error:
        return jsonify(error.to_json()), error.status
    return jsonify(_answer(prop, occurrence_id, result)), 200


def _answer(prop: Property, occurrence_id: int, result: CheckIn) -> dict:
    ticket = result.ticket
    ours = ticket is not None and ticket.occurrence.event.property_id == prop.id
    counts = door.counts(occurrence_id)
    answer = {"result": result.result, "name": ticket.member.full_name if ours else None,
              "places": ticket.places if ours else None, "used_at": None, "used_by": None,
              "checked_in": counts.checked_in, "taken": counts.taken, "ticket_for": None}
    if result.used_at is not None:
        answer["used_at"] = events.local_time(prop, result.used_at).strftime(TIME_FORMAT)
        answer["used_by"] = (result.used_by or "").removeprefix("staff:")
    if result.result == "wrong_occurrence" and ours:
        starts = events.local_time(prop, ticket.occurrence.starts_at).strftime(TIME_FORMAT)
        answer["ticket_for"] = f"{ticket.occurrence.event.title_en}, {starts}"
    return answer


@bp.errorhandler(CSRFError)
def _csrf_error(error: CSRFError) -> tuple[Response, int]:
    # The script fetches a fresh token from the page and sends the scan again.
    return jsonify({"error": {"code": "csrf_failed", "message": "The page's token has expired.",
                              "details": {}}}), 400
