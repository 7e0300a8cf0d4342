"""Guest pages to meet people: who is here, suggestions, say hello, connections, blocks, places."""
from __future__ import annotations

from datetime import date

from babel.dates import format_skeleton
from flask import Response, flash, redirect, render_template, request, session, url_for
from flask_babel import get_locale

from hotel_community.forms import ActionForm
from hotel_community.i18n import gettext as _
from hotel_community.models import ConnectionStatus, Group
from hotel_community.services import connections, people
from hotel_community.services.profiles import CONTACT_KINDS, LANGUAGES
from hotel_community.views import id_arg, local_path
from hotel_community.views.guest_base import (
    STAY_KEY,
    current_member,
    guest_blueprint,
    member_required,
)

bp = guest_blueprint("people", __name__)


@bp.context_processor
def people_context() -> dict:
    return {"form": ActionForm(), "month_year": month_year, "contact_kinds": CONTACT_KINDS,
            "here": request.full_path.rstrip("?")}


@bp.get("/")
@member_required
def index() -> Response | str:
    member = current_member()
    group = people.current_group(member.id, session.get(STAY_KEY))
    if group is None:
        return redirect(url_for(".connection_list"))
    return _group_page(group)


@bp.get("/groups/<hc_id:group_id>")
@member_required
def group(group_id: int) -> str:
    return _group_page(people.group_for(current_member().id, group_id))


@bp.post("/hello/<hc_id:member_id>")
@member_required
def hello(member_id: int) -> Response:
    connection = connections.say_hello(current_member().id, member_id,
                                  id_arg(request.form, "group"))
    if connection.status is ConnectionStatus.accepted:
        flash(_("You are connected now: you see each other's contact on your connections page."))
    else:
        flash(_("You said hello. Once they accept, you see each other's contact."))
    return _back()


@bp.get("/connections")
@member_required
def connection_list() -> str:
    member = current_member()
    accepted, next_cursor = connections.connections(member.id, id_arg(request.args, "before"))
    return render_template("hotel_community/guest/people_connections.html", member=member,
                           incoming=connections.incoming_requests(member.id),
                           outgoing=connections.outgoing_requests(member.id),
                           connections=accepted, next_cursor=next_cursor)


@bp.post("/requests/<hc_id:connection_id>/<any(accept, decline):answer>")
@member_required
def respond(connection_id: int, answer: str) -> Response:
    connections.respond(current_member().id, connection_id, accept=answer == "accept")
    flash(_("You are connected now.") if answer == "accept" else _("Request declined."))
    return redirect(url_for(".connection_list"))


@bp.post("/block/<hc_id:member_id>")
@member_required
def block(member_id: int) -> Response:
    connections.block(current_member().id, member_id)
    flash(_("Blocked. You no longer see each other, and they cannot say hello to you."))
    return _back()


@bp.post("/unblock/<hc_id:member_id>")
@member_required
def unblock(member_id: int) -> Response:
    connections.unblock(current_member().id, member_id)
    flash(_("Unblocked."))
    return redirect(url_for(".blocked"))


@bp.get("/blocked")
@member_required
def blocked() -> str:
    member = current_member()
    return render_template("hotel_community/guest/people_blocked.html", member=member,
                           blocked=connections.blocked_members(member.id))


@bp.get("/places")
@member_required
def places() -> str:
    member = current_member()
    return render_template("hotel_community/guest/people_places.html", member=member,
                           places=people.places(member.id))


def month_year(day: date) -> str:
    """The month in the guest's language: "November 2026", "2026年11月"."""
    return format_skeleton("yMMMM", day, locale=get_locale() or "en")


def _group_page(group: Group) -> str:
    member = current_member()
    interest = (request.args.get("interest") or "").strip()[:50] or None
    language = (request.args.get("language") or "").strip()[:20] or None
    before = id_arg(request.args, "before")
    page = people.who_is_here(member, group, interest=interest, language=language, before=before)
    first_page = not (interest or language or before)
    return render_template(
        "hotel_community/guest/people.html", member=member, page=page, group=group,
        suggestions=people.suggestions(member, group) if first_page else [],
        incoming=connections.incoming_count(member.id), interest=interest, language=language,
        languages=LANGUAGES)


def _back() -> Response:
    return redirect(local_path(request.form.get("next")) or url_for(".index"))
