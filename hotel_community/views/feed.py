"""A group's feed for its members: read, post, reply, react, and poll for new posts.

New posts reach an open page by polling ``/updates?after=<cursor>``: a plain
read of the database, so any of several workers can answer it.
"""
from __future__ import annotations

from datetime import datetime
from typing import Callable

from babel import Locale
from babel.dates import format_timedelta
from flask import (
    Flask,
    Response,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale
from flask_limiter import Limiter
from werkzeug.exceptions import TooManyRequests

from hotel_community.database import utcnow
from hotel_community.errors import (
    AuthenticationFailed,
    CommunityError,
    ValidationFailed,
)
from hotel_community.forms import ActionForm
from hotel_community.i18n import gettext as _
from hotel_community.services import community, feed, storage
from hotel_community.settings import PREFIX, config_value
from hotel_community.views import id_arg
from hotel_community.views.guest_base import (
    MEMBER_KEY,
    current_member,
    guest_blueprint,
    member_required,
    message_page,
)

bp = guest_blueprint("feed", __name__)
POSTS_TEMPLATE = "hotel_community/guest/_feed_posts.html"


@bp.context_processor
def feed_context() -> dict:
    return {"photo_url": storage.photo_url, "reaction_kinds": feed.REACTIONS,
            "max_body": feed.MAX_BODY, "ago": _ago_in(get_locale())}


@bp.errorhandler(TooManyRequests)
def too_many_posts(error: TooManyRequests) -> tuple[str, int]:
    return message_page(_("You are posting very quickly. Please wait a minute and try again."), 429)


@bp.get("/<hc_id:group_id>/")
@member_required
def page(group_id: int) -> str:
    return _render_feed(group_id, id_arg(request.args, "before"))


@bp.post("/<hc_id:group_id>/posts")
@member_required
def new_post(group_id: int) -> Response | tuple[str, int]:
    body = request.form.get("body", "")
    try:
        feed.create_post(current_member(), group_id, body, request.files.get("photo"))
    except ValidationFailed as error:  # keep what they wrote
        return _render_feed(group_id, None, draft=body, error=str(error.message)), error.status
    return redirect(url_for(".page", group_id=group_id))


@bp.post("/<hc_id:group_id>/posts/<hc_id:post_id>/replies")
@member_required
def reply(group_id: int, post_id: int) -> Response:
    try:
        feed.reply(current_member(), group_id, post_id, request.form.get("body", ""))
    except ValidationFailed as error:
        flash(str(error.message), "error")
    return redirect(url_for(".page", group_id=group_id, _anchor=f"post-{post_id}"))


@bp.post("/<hc_id:group_id>/posts/<hc_id:post_id>/react")
@member_required
def react(group_id: int, post_id: int) -> Response:
    feed.react(current_member(), group_id, post_id, request.form.get("kind", ""))
    return redirect(url_for(".page", group_id=group_id, _anchor=f"post-{post_id}"))


@bp.get("/<hc_id:group_id>/updates")
def updates(group_id: int) -> tuple[Response, int]:
    """JSON for the polling script: the new posts as HTML, and the cursor to ask from next."""
    try:
        member = current_member()
        if member is None:
            raise AuthenticationFailed(_("Please sign in again."))
        update = feed.new_since(member, group_id, id_arg(request.args, "after") or 0)
    except CommunityError as error:
        return _no_store(jsonify(error.to_json())), error.status
    html = render_template(POSTS_TEMPLATE, posts=update.posts, group_id=group_id,
                           can_post=update.can_post, form=ActionForm()) if update.posts else ""
    return _no_store(jsonify({"html": html, "cursor": update.cursor})), 200


def rate_limit_posting(app: Flask, limiter: Limiter) -> None:
    """Posts and replies share one limit per member, kept where the limiter keeps its counts.

    Called by ``init_app``; with ``RATELIMIT_STORAGE_URI`` on Redis, every
    worker counts against the same limit.
    """
    limit = app.config[PREFIX + "POST_RATE_LIMIT"]
    for endpoint in ("hotel_community.feed.new_post", "hotel_community.feed.reply"):
        app.view_functions[endpoint] = limiter.shared_limit(
            limit, scope="hotel_community.feed:posting", key_func=_member_key,
            methods=["POST"])(app.view_functions[endpoint])


def _member_key() -> str:
    return f"member:{session.get(MEMBER_KEY)}"


def _render_feed(group_id: int, before: int | None, draft: str = "",
                 error: str | None = None) -> str:
    member = current_member()
    return render_template("hotel_community/guest/feed.html",
                           page=feed.feed_page(member, group_id, before), member=member,
                           groups=community.groups_of_member(member.id), before=before,
                           draft=draft, error=error, form=ActionForm(),
                           poll_seconds=config_value("FEED_POLL_SECONDS"))


def _ago_in(locale: Locale) -> Callable[[datetime], str]:
    """``ago(moment)``: "5 minutes ago" in the guest's language; no time zone needed.

    The locale and "just now" are looked up once per page, not once per post.
    """
    now, just_now = utcnow(), _("just now")

    def ago(moment: datetime) -> str:
        elapsed = now - moment
        if elapsed.total_seconds() < 60:
            return just_now
        return format_timedelta(-elapsed, granularity="minute", add_direction=True, locale=locale)
    return ago


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response
