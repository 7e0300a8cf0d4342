"""A group's feed: posts, replies, reactions and staff announcements.

Every read and write goes through the member's open membership of the group
(:func:`~hotel_community.services.community.require_membership`): a guest of
another property, a checked-out guest in the stay group or a removed member
gets nothing. What a viewer reads never includes a hidden post (moderation) or
anything by a member they blocked or who blocked them.

A page of the feed costs a fixed number of SQL statements whatever the size of
the group: the posts with their authors and profiles (one joined SELECT), the
pinned announcements (first page only), the latest replies of every post on
the page with their counts (one SELECT with window functions) and the reaction
counts (one grouped SELECT).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from markupsafe import Markup
from sqlalchemy import ColumnElement, Select, case, delete, exists, func, select, true
from sqlalchemy.orm import joinedload
from werkzeug.datastructures import FileStorage

from hotel_community.database import insert_or_ignore, session, transaction
from hotel_community.errors import Forbidden, NotFound, ValidationFailed
from hotel_community.i18n import lazy_gettext as _l
from hotel_community.models import (
    Block, Group, GroupKind, Member, Membership, Post, PostKind, Property, Reaction,
)
from hotel_community.services import storage, text
from hotel_community.services.community import require_membership
from hotel_community.settings import config_value

#: The reactions a member can add to a post, in the order they are shown.
REACTIONS = ("like", "heart", "laugh", "wave")
#: Longest post or reply, in characters after trimming.
MAX_BODY = 2000
#: Replies shown under each post of a page: the latest ones.
LATEST_REPLIES = 3
#: Pinned announcements shown at the top of the feed, newest first.
PINNED_LIMIT = 5

_WITH_AUTHOR = joinedload(Post.author).joinedload(Member.profile)


@dataclass
class Author:
    """Who a post is shown as. ``kind`` decides the label the page shows:

    ``member`` (their display name and photo), ``you`` (the viewer's own),
    ``guest`` (a member who is not visible to other guests: nothing of them is
    shown), ``former`` (a deleted account) or ``staff`` (an announcement).
    """

    kind: str
    name: str | None = None
    photo: str | None = None


@dataclass
class FeedPost:
    id: int
    body: str
    photo: str | None
    created_at: datetime
    author: Author
    is_announcement: bool = False
    pinned: bool = False
    reply_count: int = 0
    replies: list[FeedPost] = field(default_factory=list)
    #: Reaction kind -> how many members reacted so.
    reactions: dict[str, int] = field(default_factory=dict)
    #: The kinds the viewer reacted with.
    mine: set[str] = field(default_factory=set)

    @property
    def html(self) -> Markup:
        return text.render(self.body)


@dataclass
class FeedPage:
    group: Group
    membership: Membership
    pinned: list[FeedPost]
    posts: list[FeedPost]
    #: ``before=`` of the next, older page; None on the last page.
    older: int | None
    #: The newest post id shown: where polling for new posts starts.
    cursor: int

    @property
    def can_post(self) -> bool:
        return self.membership.muted_at is None

    @property  # last: the name shadows the builtin in the class body
    def property(self) -> Property:
        """The group's hotel (the guest pages' header shows its name)."""
        return self.group.property


# --------------------------------------------------------------------------- reading

def feed_page(viewer: Member, group_id: int, before: int | None = None) -> FeedPage:
    """A page of the group's feed for ``viewer``: pinned announcements, then newest first.

    ``before`` is the id of the last post of the previous page (keyset
    pagination: no page repeats or skips a post when new ones arrive). Pinned
    announcements head the first page only and are not repeated below.
    """
    membership = require_membership(viewer.id, group_id)
    group = session.scalar(select(Group).options(joinedload(Group.property))
                           .where(Group.id == group_id))
    size = config_value("FEED_PAGE_SIZE")
    query = (_top_level(viewer.id, group_id).where(Post.pinned.is_(False))
             .where(_of_this_stay_period(group, membership)))
    if before is not None:
        query = query.where(Post.id < before)
    rows = list(session.scalars(query.order_by(Post.id.desc()).limit(size + 1)))
    pinned = [] if before is not None else list(session.scalars(
        # Announcements have no member author: that condition lets the
        # database find the few pinned ones through the author index.
        _top_level(viewer.id, group_id)
        .where(Post.pinned.is_(True), Post.author_id.is_(None))
        .order_by(Post.id.desc()).limit(PINNED_LIMIT)))
    shown = _decorate(viewer.id, pinned + rows[:size])
    cursor = max((post.id for post in shown), default=0)
    older = rows[size - 1].id if len(rows) > size else None
    return FeedPage(group, membership, shown[:len(pinned)], shown[len(pinned):], older, cursor)


@dataclass
class FeedUpdate:
    #: The new posts, newest first.
    posts: list[FeedPost]
    #: Where to ask from next time.
    cursor: int
    can_post: bool


def new_since(viewer: Member, group_id: int, after: int) -> FeedUpdate:
    """Posts newer than ``after`` (a cursor), newest first, for live updates.

    Read-only, so any worker can answer: the page polls it. At most a page of
    posts per call, the oldest new ones first, so none is skipped.
    """
    membership = require_membership(viewer.id, group_id)
    rows = list(session.scalars(
        _top_level(viewer.id, group_id).where(Post.id > after)
        .where(_of_this_stay_period(membership.group, membership))
        .order_by(Post.id).limit(config_value("FEED_PAGE_SIZE"))))
    posts = _decorate(viewer.id, rows[::-1])
    return FeedUpdate(posts, max([after] + [post.id for post in posts]),
                      membership.muted_at is None)


def _top_level(viewer_id: int, group_id: int) -> Select:
    return (select(Post).options(_WITH_AUTHOR)
            .where(Post.group_id == group_id, Post.parent_id.is_(None),
                   _readable_by(viewer_id)))


def _of_this_stay_period(group: Group, membership: Membership) -> ColumnElement[bool]:
    """In a stay group, the posts of the guests staying now, not of another stay period.

    A guest reads what was posted from ``HOTEL_COMMUNITY_STAY_FEED_LOOKBACK``
    before they joined; the alumni community keeps its whole history. The
    bound is turned into a post id (one indexed lookup inside the statement),
    so the feed still walks its id index.
    """
    if group.kind is not GroupKind.stay:
        return true()
    since = membership.joined_at - config_value("STAY_FEED_LOOKBACK")
    first = (select(func.min(Post.id))
             .where(Post.group_id == group.id, Post.created_at >= since).scalar_subquery())
    return Post.id >= first


def _readable_by(viewer_id: int) -> ColumnElement[bool]:
    """Not hidden by staff, and not by someone the viewer blocked or who blocked them."""
    blocked = exists().where(Block.blocker_id == viewer_id, Block.blocked_id == Post.author_id)
    blocking = exists().where(Block.blocker_id == Post.author_id, Block.blocked_id == viewer_id)
    return Post.hidden_at.is_(None) & ~blocked & ~blocking


def _decorate(viewer_id: int, posts: list[Post]) -> list[FeedPost]:
    """The posts as shown, with their latest replies and reactions: two queries."""
    shown = [_shown(post, viewer_id) for post in posts]
    if not shown:
        return shown
    by_id = {post.id: post for post in shown}
    for reply, total in _latest_replies(viewer_id, list(by_id)):
        parent = by_id[reply.parent_id]
        parent.reply_count = total
        parent.replies.append(_shown(reply, viewer_id))
    for post_id, kind, count, mine in _reaction_counts(viewer_id, list(by_id)):
        by_id[post_id].reactions[kind] = count
        if mine:
            by_id[post_id].mine.add(kind)
    return shown


def _latest_replies(viewer_id: int, post_ids: list[int]) -> list[tuple[Post, int]]:
    """The latest few readable replies of each post, oldest first, with each post's total."""
    ranked = (select(Post.id.label("id"),
                     func.row_number().over(partition_by=Post.parent_id,
                                            order_by=Post.id.desc()).label("rank"),
                     func.count().over(partition_by=Post.parent_id).label("total"))
              .where(Post.parent_id.in_(post_ids), _readable_by(viewer_id))
              .subquery())
    return list(session.execute(
        select(Post, ranked.c.total).join(ranked, ranked.c.id == Post.id)
        .where(ranked.c.rank <= LATEST_REPLIES).options(_WITH_AUTHOR).order_by(Post.id)))


def _reaction_counts(viewer_id: int, post_ids: list[int]) -> list[tuple[int, str, int, int]]:
    mine = func.max(case((Reaction.member_id == viewer_id, 1), else_=0))
    return list(session.execute(
        select(Reaction.post_id, Reaction.kind, func.count(), mine)
        .where(Reaction.post_id.in_(post_ids))
        .group_by(Reaction.post_id, Reaction.kind)))


def _shown(post: Post, viewer_id: int) -> FeedPost:
    return FeedPost(id=post.id, body=post.body, photo=post.photo, created_at=post.created_at,
                    author=_author(post, viewer_id),
                    is_announcement=post.kind is PostKind.announcement, pinned=post.pinned)


def _author(post: Post, viewer_id: int) -> Author:
    if post.kind is PostKind.announcement:
        return Author("staff", post.staff_author)
    member = post.author
    if member is None or member.deleted_at is not None:
        return Author("former")
    photo = member.profile.photo if member.profile is not None else None
    if member.id == viewer_id:
        return Author("you", member.display_name, photo)
    if not member.visible:
        return Author("guest")  # opted out of being seen: not even a name
    return Author("member", member.display_name, photo)


# --------------------------------------------------------------------------- writing

def create_post(member: Member, group_id: int, body: str,
                photo: FileStorage | None = None) -> Post:
    """A member's post in a group they are in; muted members cannot post."""
    key = None
    try:
        with transaction():
            _require_can_post(require_membership(member.id, group_id))
            body = _checked_body(body)
            if photo is not None and photo.filename:
                key = storage.save_photo(photo)
            post = Post(group_id=group_id, author_id=member.id, body=body, photo=key)
            session.add(post)
    except BaseException:
        storage.delete_photo(key)  # nothing refers to it
        raise
    return post


def reply(member: Member, group_id: int, post_id: int, body: str) -> Post:
    """A reply to a post the member can read, in a group they may post in."""
    with transaction():
        membership = require_membership(member.id, group_id)
        parent = readable_post(member.id, membership, post_id)
        _require_can_post(membership)
        post = Post(group_id=group_id, parent_id=parent.id, author_id=member.id,
                    body=_checked_body(body))
        session.add(post)
    return post


def react(member: Member, group_id: int, post_id: int, kind: str) -> bool:
    """Add the reaction, or take it back if it was there. True when it is there now.

    Muted members may still react: muting stops posting, not reading.
    """
    if kind not in REACTIONS:
        raise ValidationFailed(_l("Unknown reaction."), {"kind": [f"One of {', '.join(REACTIONS)}."]})
    with transaction():
        membership = require_membership(member.id, group_id)
        post = readable_post(member.id, membership, post_id)
        taken_back = session.execute(delete(Reaction).where(
            Reaction.post_id == post.id, Reaction.member_id == member.id, Reaction.kind == kind))
        if taken_back.rowcount:
            return False
        # Two quick taps: the second insert finds the first and does nothing.
        session.execute(insert_or_ignore(Reaction, "post_id", "member_id", "kind")
                        .values(post_id=post.id, member_id=member.id, kind=kind))
    return True


def readable_post(viewer_id: int, membership: Membership, post_id: int,
                  replies: bool = False) -> Post:
    """A post of the membership's group that the viewer can read: the feed's own rules.

    ``replies``: a reply may be named too (to report it).
    """
    query = select(Post).where(
        Post.id == post_id, Post.group_id == membership.group_id, _readable_by(viewer_id),
        Post.pinned.is_(True) | _of_this_stay_period(membership.group, membership))
    if not replies:
        query = query.where(Post.parent_id.is_(None))
    post = session.scalar(query)
    if post is None:
        raise NotFound(_l("This post is not available any more."))
    return post


def _require_can_post(membership: Membership) -> None:
    if membership.muted_at is not None:
        raise Forbidden(_l("The hotel has paused your posting in this group."))


def _checked_body(body: str | None, filtered: bool = True) -> str:
    body = (body or "").strip()
    if not body:
        raise ValidationFailed(_l("Please write something first."), {"body": ["Required."]})
    if len(body) > MAX_BODY:
        raise ValidationFailed(_l("Please keep it under %(max)d characters.", max=MAX_BODY),
                               {"body": [f"At most {MAX_BODY} characters."]})
    if filtered:
        text.check_words(body)
    return body


# --------------------------------------------------------------------------- staff

def announce(staff_name: str, group_id: int, body: str, pinned: bool = False) -> Post:
    """A staff announcement (tonight's mixer), optionally pinned to the top of the feed."""
    with transaction():
        if session.get(Group, group_id) is None:
            raise NotFound("No such group.")
        post = Post(group_id=group_id, kind=PostKind.announcement, staff_author=staff_name,
                    body=_checked_body(body, filtered=False), pinned=pinned)
        session.add(post)
    return post


def set_pinned(post_id: int, pinned: bool) -> Post:
    """Pin or unpin an announcement; members' posts are never pinned."""
    with transaction():
        post = session.get(Post, post_id)
        if post is None or post.kind is not PostKind.announcement:
            raise NotFound("No such announcement.")
        post.pinned = pinned
    return post


def announcements(prop: Property, before: int | None = None) -> list[Post]:
    """A page of the property's announcements (both groups), newest first, for staff."""
    groups = select(Group.id).where(Group.property_id == prop.id)
    # No member writes an announcement: the author index finds them.
    query = (select(Post).options(joinedload(Post.group))
             .where(Post.author_id.is_(None), Post.kind == PostKind.announcement,
                    Post.group_id.in_(groups)))
    if before is not None:
        query = query.where(Post.id < before)
    return list(session.scalars(query.order_by(Post.id.desc()).limit(config_value("PAGE_SIZE"))))
