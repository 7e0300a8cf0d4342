"""Staff announcements in a property's stay group or alumni community; pin and unpin them."""
from __future__ import annotations

from flask import Response, flash, redirect, render_template, request, url_for

from hotel_community.forms import AnnouncementForm
from hotel_community.models import GroupKind
from hotel_community.services import feed
from hotel_community.services.properties import groups_by_kind, list_properties
from hotel_community.views import id_arg
from hotel_community.views.staff_auth import staff_required
from hotel_community.views.staff_base import (
    current_property,
    staff_blueprint,
    staff_name,
)

bp = staff_blueprint("staff_feed", __name__)


@bp.route("/", methods=["GET", "POST"])
@staff_required
def index() -> Response | str:
    prop = current_property()
    form = AnnouncementForm()
    if form.validate_on_submit():
        group = groups_by_kind(prop)[GroupKind(form.group.data)]
        feed.announce(staff_name(), group.id, form.body.data, form.pinned.data)
        flash(f"Announcement posted to {group.name}.", "success")
        return redirect(url_for(".index", property=prop.code))
    before = id_arg(request.args, "before")
    posts = feed.announcements(prop, before)
    return render_template("hotel_community/staff/announcements.html", property=prop, form=form,
                           posts=posts, before=before, properties=list_properties())


@bp.post("/announcements/<hc_id:post_id>/pin")
@staff_required
def pin(post_id: int) -> Response:
    return _set_pinned(post_id, True)


@bp.post("/announcements/<hc_id:post_id>/unpin")
@staff_required
def unpin(post_id: int) -> Response:
    return _set_pinned(post_id, False)


def _set_pinned(post_id: int, pinned: bool) -> Response:
    post = feed.set_pinned(post_id, pinned)
    flash("Pinned to the top of the feed." if pinned else "Unpinned.", "success")
    return redirect(url_for(".index", property=post.group.property.code))
