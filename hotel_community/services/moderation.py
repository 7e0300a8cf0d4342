"""Reports and what staff do about them: hide a post, mute or remove a member, dismiss.

A guest reports a post or another member of a group they are in. Reports go
to the staff queue of the group's property. Every staff action on a report
closes it (``handled_at``, ``handled_by``, ``action``); hiding a post also
closes the other open reports of that post, and muting or removing a member
closes the open reports of that member at the property, so the queue does not
ask twice (reports of the member's posts stay: the posts may still need hiding).
Staff can hide, mute and remove directly too (from a post or a member), and
undo each.

What staff see here is what guests showed each other in the group: display
names, post text and the reporter's reason. Never the contact details two
connected guests exchanged: nothing here reads ``Profile.contact_*`` or
:class:`Connection`.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Iterable

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.orm import aliased, joinedload, selectinload

from hotel_community.database import session, transaction, utcnow
from hotel_community.errors import Conflict, Forbidden, NotFound, ValidationFailed
from hotel_community.i18n import lazy_gettext as _l
from hotel_community.models import (
    Block, Group, GroupKind, Member, Membership, Post, Property, Report,
)
from hotel_community.services import feed
from hotel_community.services.community import require_membership
from hotel_community.settings import config_value

REASON_MIN, REASON_MAX = 3, 500

#: What staff can do about a report.
ACTIONS = ("hide", "mute", "remove", "dismiss")


# --- guests report -------------------------------------------------------------------------

def reportable_post(member: Member, post_id: int) -> Post:
    """A post the member may report: one the feed shows them (their group, not hidden,
    not blocked either way, of their stay period)."""
    group_id = session.scalar(select(Post.group_id).where(Post.id == post_id))
    if group_id is None:
        raise NotFound(_l("This post is no longer there."))
    membership = require_membership(member.id, group_id)
    try:
        return feed.readable_post(member.id, membership, post_id, replies=True)
    except NotFound as exc:
        raise NotFound(_l("This post is no longer there.")) from exc


def reportable_member(member: Member, reported_id: int) -> tuple[Member, Group]:
    """Another member and a group the two share (their stay group first)."""
    reported = session.get(Member, reported_id)
    if reported is None or reported.deleted_at is not None:
        raise NotFound(_l("This guest is no longer here."))
    if reported.id == member.id:
        raise ValidationFailed(_l("You cannot report yourself."))
    group = _shared_group(member.id, reported.id)
    if group is None:
        raise Forbidden(_l("You can only report guests of a group you are in."))
    require_membership(member.id, group.id)
    return reported, group


def name_for_reporter(member: Member, reported: Member) -> str | None:
    """The reported member's display name, only if the reporter may see it anyway.

    An invisible member, or one of two members who blocked each other, is not
    named on the reporter's page (nothing of them may leak into it).
    """
    if not reported.visible:
        return None
    blocked = session.scalar(select(Block.blocker_id).where(
        ((Block.blocker_id == member.id) & (Block.blocked_id == reported.id))
        | ((Block.blocker_id == reported.id) & (Block.blocked_id == member.id))).limit(1))
    return None if blocked is not None else reported.display_name


def report_post(member: Member, post: Post, reason: str) -> Report:
    """Report a post of a group the member is in, for the staff of its property."""
    reason = _clean_reason(reason)
    with transaction():
        post = reportable_post(member, post.id)
        if post.author_id == member.id:
            raise ValidationFailed(_l("You cannot report your own post."))
        _refuse_second_open_report(member.id, Report.post_id == post.id)
        report = Report(property_id=post.group.property_id, reporter_id=member.id,
                        post_id=post.id, reason=reason)
        session.add(report)
    return report


def report_member(member: Member, reported_member: Member, reason: str) -> Report:
    """Report another member of a group the member is in (their stay group first)."""
    reason = _clean_reason(reason)
    with transaction():
        reported, group = reportable_member(member, reported_member.id)
        _refuse_second_open_report(member.id, Report.reported_member_id == reported.id)
        report = Report(property_id=group.property_id, reporter_id=member.id,
                        reported_member_id=reported.id, reason=reason)
        session.add(report)
    return report


def _clean_reason(reason: str | None) -> str:
    reason = (reason or "").strip()
    if not REASON_MIN <= len(reason) <= REASON_MAX:
        raise ValidationFailed(
            _l("Please say what is wrong in %(min)d to %(max)d characters.",
               min=REASON_MIN, max=REASON_MAX),
            {"reason": [f"{REASON_MIN} to {REASON_MAX} characters"]})
    return reason


def _refuse_second_open_report(reporter_id: int, target: ColumnElement[bool]) -> None:
    open_report = session.scalar(select(Report.id).where(
        Report.reporter_id == reporter_id, target, Report.handled_at.is_(None)).limit(1))
    if open_report is not None:
        raise Conflict(_l("You have already reported this. The staff will look at it."))


def _shared_group(member_id: int, other_id: int) -> Group | None:
    """A group both are in now (the reporter not removed from it), stay groups first."""
    theirs = aliased(Membership)
    return session.scalar(
        select(Group)
        .join(Membership, (Membership.group_id == Group.id) & (Membership.member_id == member_id))
        .join(theirs, (theirs.group_id == Group.id) & (theirs.member_id == other_id))
        .where(Membership.left_at.is_(None), Membership.removed_at.is_(None),
               theirs.left_at.is_(None))
        .order_by(Group.kind.desc(), Group.id).limit(1))


# --- the staff queue -----------------------------------------------------------------------

@dataclass(frozen=True)
class QueueItem:
    """One open report as the staff queue shows it: names and text, no contact details."""

    report_id: int
    created_at: datetime
    reason: str
    reporter_name: str
    #: Set for a report of a post.
    post_id: int | None = None
    post_body: str | None = None
    post_hidden: bool = False
    #: The member the actions mute or remove: the reported member, or the post's author.
    member_id: int | None = None
    member_name: str | None = None
    group_name: str | None = None

    @property
    def kind(self) -> str:
        return "post" if self.post_id is not None else "member"


def open_reports(prop: Property, after: int | None = None,
                 limit: int | None = None) -> list[QueueItem]:
    """The property's open reports, oldest first; ``after`` is the last report id shown."""
    query = (select(Report).options(selectinload(Report.post).selectinload(Post.group))
             .where(Report.property_id == prop.id, Report.handled_at.is_(None))
             .order_by(Report.id).limit(limit or config_value("PAGE_SIZE")))
    if after is not None:
        query = query.where(Report.id > after)
    reports = list(session.scalars(query))
    ids = {r.reporter_id for r in reports} | {r.reported_member_id for r in reports} | {
        r.post.author_id for r in reports if r.post is not None}
    names = _display_names(i for i in ids if i is not None)
    return [_queue_item(report, names) for report in reports]


def _queue_item(report: Report, names: dict[int, str]) -> QueueItem:
    post = report.post
    member_id = post.author_id if post is not None else report.reported_member_id
    return QueueItem(
        report_id=report.id, created_at=report.created_at, reason=report.reason,
        reporter_name=names.get(report.reporter_id, "A former guest"),
        post_id=post.id if post else None, post_body=post.body if post else None,
        post_hidden=bool(post and post.hidden_at), member_id=member_id,
        member_name=names.get(member_id) if member_id else None,
        group_name=post.group.name if post else None)


def _display_names(member_ids: Iterable[int]) -> dict[int, str]:
    """Display names of members, in one query (with their profiles)."""
    ids = set(member_ids)
    if not ids:
        return {}
    members = session.scalars(select(Member).options(selectinload(Member.profile))
                              .where(Member.id.in_(ids)))
    return {m.id: m.display_name for m in members}


# --- staff act on a report -----------------------------------------------------------------

def handle_report(report_id: int, action: str, staff_name: str) -> Report:
    """Do ``action`` ("hide", "mute", "remove" or "dismiss") about an open report, closing it.

    Muting or removing acts in the reported post's group; for a report of a
    member, in every group of the report's property the member is in.
    """
    if action not in ACTIONS:
        raise ValidationFailed(f"Unknown action {action!r}.")
    with transaction():
        report = session.get(Report, report_id, options=[joinedload(Report.post)])
        if report is None:
            raise NotFound("No such report.")
        if report.handled_at is not None:
            raise Conflict(f"This report was already handled ({report.action} by "
                           f"{report.handled_by}).")
        if action == "hide":
            _hide(_post_of(report), staff_name)
        elif action in ("mute", "remove"):
            _restrict(*_member_and_groups(report), action, staff_name)
        _close(report, action, staff_name)
    return report


def _post_of(report: Report) -> Post:
    if report.post is None:
        raise ValidationFailed("This report is about a member, not a post: mute, remove or "
                               "dismiss it.")
    return report.post


def _member_and_groups(report: Report) -> tuple[int, list[int]]:
    if report.post is not None:
        if report.post.author_id is None:
            raise ValidationFailed("This post has no guest author (a staff announcement or a "
                                   "deleted account): hide or dismiss it.")
        return report.post.author_id, [report.post.group_id]
    group_ids = session.scalars(select(Group.id).where(Group.property_id == report.property_id))
    return report.reported_member_id, list(group_ids)


def _close(report: Report, action: str, staff_name: str) -> None:
    report.handled_at, report.handled_by, report.action = utcnow(), staff_name, action


def _close_open_reports(target: ColumnElement[bool], action: str, staff_name: str) -> None:
    session.execute(update(Report).where(target, Report.handled_at.is_(None))
                    .values(handled_at=utcnow(), handled_by=staff_name, action=action)
                    .execution_options(synchronize_session=False))


# --- staff act directly ----------------------------------------------------------------------

def hide_post(post_id: int, staff_name: str) -> Post:
    """Hide a post from everyone (and close the open reports about it)."""
    with transaction():
        post = session.get(Post, post_id)
        if post is None:
            raise NotFound("No such post.")
        _hide(post, staff_name)
    return post


def unhide_post(post_id: int) -> Post:
    with transaction():
        post = session.get(Post, post_id)
        if post is None:
            raise NotFound("No such post.")
        post.hidden_at = None
    return post


def mute_member(member_id: int, group_id: int, staff_name: str) -> None:
    """The member still reads the group but can no longer post in it."""
    with transaction():
        _restrict(member_id, [group_id], "mute", staff_name)


def remove_member(member_id: int, group_id: int, staff_name: str) -> None:
    """The member loses the group until their next stay starts a new membership."""
    with transaction():
        _restrict(member_id, [group_id], "remove", staff_name)


def unmute_member(member_id: int, group_id: int) -> None:
    with transaction():
        _open_membership(member_id, [group_id])[0].muted_at = None


def restore_member(member_id: int, group_id: int) -> None:
    """Undo a removal: the member is back in the group."""
    with transaction():
        _open_membership(member_id, [group_id])[0].removed_at = None


def _hide(post: Post, staff_name: str) -> None:
    if post.hidden_at is None:
        post.hidden_at = utcnow()
    _close_open_reports(Report.post_id == post.id, "hide", staff_name)


def _restrict(member_id: int, group_ids: list[int], action: str, staff_name: str) -> None:
    """Mute or remove the member in each of the groups they are in now."""
    now = utcnow()
    for membership in _open_membership(member_id, group_ids):
        if action == "mute" and membership.muted_at is None:
            membership.muted_at = now
        if action == "remove" and membership.removed_at is None:
            membership.removed_at = now
    properties = select(Group.property_id).where(Group.id.in_(group_ids))
    _close_open_reports((Report.reported_member_id == member_id)
                        & Report.property_id.in_(properties), action, staff_name)


def _open_membership(member_id: int, group_ids: list[int]) -> list[Membership]:
    memberships = list(session.scalars(select(Membership).where(
        Membership.member_id == member_id, Membership.group_id.in_(group_ids),
        Membership.left_at.is_(None))))
    if not memberships:
        raise ValidationFailed("This member is no longer in the group (they checked out or "
                               "the group changed); there is nothing to change.")
    return memberships


# --- muted and removed members ---------------------------------------------------------------

@dataclass(frozen=True)
class Restriction:
    """A member muted or removed in one of the property's groups, for the undo list."""

    membership_id: int
    member_id: int
    member_name: str
    group_id: int
    group_name: str
    group_kind: GroupKind
    muted_at: datetime | None
    removed_at: datetime | None


def restrictions(prop: Property, after: int | None = None,
                 limit: int | None = None) -> list[Restriction]:
    """Open memberships of the property's groups that are muted or removed, oldest first."""
    query = (select(Membership)
             .join(Group, Group.id == Membership.group_id)
             .options(joinedload(Membership.group),
                      joinedload(Membership.member).selectinload(Member.profile))
             .where(Group.property_id == prop.id, Membership.left_at.is_(None),
                    Membership.muted_at.is_not(None) | Membership.removed_at.is_not(None))
             .order_by(Membership.id).limit(limit or config_value("PAGE_SIZE")))
    if after is not None:
        query = query.where(Membership.id > after)
    return [Restriction(m.id, m.member_id, m.member.display_name, m.group_id, m.group.name,
                        m.group.kind, m.muted_at, m.removed_at)
            for m in session.scalars(query)]
