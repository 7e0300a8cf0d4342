"""Reports: guests report a post or a member; staff work through the queue.

Two blueprints: ``reports`` (guest pages, ``/report``) and ``moderation``
(staff pages, ``/staff/moderation``). The staff pages show display names, post
text and reasons, never the contact details guests exchanged.
"""
from __future__ import annotations

from flask import Response, flash, render_template, request, url_for

from hotel_community.forms import ReportForm
from hotel_community.i18n import gettext as _
from hotel_community.services import moderation, properties
from hotel_community.views import id_arg
from hotel_community.views.guest_base import (
    current_member,
    guest_blueprint,
    member_required,
    message_page,
)
from hotel_community.views.staff_auth import staff_required
from hotel_community.views.staff_base import (
    back_to,
    current_property,
    staff_blueprint,
    staff_name,
)

reports = guest_blueprint("reports", __name__)
bp = staff_blueprint("moderation", __name__)

DONE = {"hide": "Post hidden.", "mute": "Member muted.", "remove": "Member removed.",
        "dismiss": "Report dismissed.", "unhide": "Post shown again.",
        "unmute": "Member unmuted.", "restore": "Member back in the group."}
RESTRICT = {"mute": moderation.mute_member, "remove": moderation.remove_member}
LIFT = {"unmute": moderation.unmute_member, "restore": moderation.restore_member}


# --- guests ----------------------------------------------------------------------------------

@reports.route("/post/<hc_id:post_id>", methods=["GET", "POST"])
@member_required
def report_post(post_id: int) -> str | tuple[str, int]:
    member = current_member()
    post = moderation.reportable_post(member, post_id)
    form = ReportForm()
    if form.validate_on_submit():
        moderation.report_post(member, post, form.reason.data)
        return _thank_you()
    return render_template("hotel_community/guest/report.html", form=form, about="post")


@reports.route("/member/<hc_id:member_id>", methods=["GET", "POST"])
@member_required
def report_member(member_id: int) -> str | tuple[str, int]:
    member = current_member()
    reported, _group = moderation.reportable_member(member, member_id)
    form = ReportForm()
    if form.validate_on_submit():
        moderation.report_member(member, reported, form.reason.data)
        return _thank_you()
    return render_template("hotel_community/guest/report.html", form=form, about="member",
                           name=moderation.name_for_reporter(member, reported))


def _thank_you() -> tuple[str, int]:
    return message_page(_("Thank you for telling us. The hotel staff will look at it; "
                          "nobody else sees who reported."), 200)


# --- staff -----------------------------------------------------------------------------------

@bp.get("/")
@staff_required
def queue() -> str:
    prop = current_property()
    items = moderation.open_reports(prop, id_arg(request.args, "after"))
    return render_template("hotel_community/staff/moderation_queue.html", property=prop,
                           items=items, properties=properties.list_properties())


@bp.get("/members")
@staff_required
def restricted() -> str:
    prop = current_property()
    rows = moderation.restrictions(prop, id_arg(request.args, "after"))
    return render_template("hotel_community/staff/moderation_members.html", property=prop,
                           rows=rows, properties=properties.list_properties())


@bp.post("/reports/<hc_id:report_id>/<any(hide, mute, remove, dismiss):action>")
@staff_required
def handle(report_id: int, action: str) -> Response:
    moderation.handle_report(report_id, action, staff_name())
    return _done(action)


@bp.post("/posts/<hc_id:post_id>/hide")
@staff_required
def hide_post(post_id: int) -> Response:
    moderation.hide_post(post_id, staff_name())
    return _done("hide")


@bp.post("/posts/<hc_id:post_id>/unhide")
@staff_required
def unhide_post(post_id: int) -> Response:
    moderation.unhide_post(post_id)
    return _done("unhide")


@bp.post("/groups/<hc_id:group_id>/members/<hc_id:member_id>/"
         "<any(mute, unmute, remove, restore):action>")
@staff_required
def member_action(group_id: int, member_id: int, action: str) -> Response:
    if action in RESTRICT:
        RESTRICT[action](member_id, group_id, staff_name())
    else:
        LIFT[action](member_id, group_id)
    return _done(action)


def _done(action: str) -> Response:
    flash(DONE[action], "success")
    return back_to(url_for(".queue"))
