"""Introductions that become connections: say hello, accept or decline, block.

A request ("say hello") goes to a member the requester may see in a group
they share, and remembers the property where they met. Only once the other
accepts does each see the contact the other chose to share, on their own
connections page; nobody else ever does (no staff page shows it). A
connection outlives the stay. A block ends every request and connection
between the two, and keeps them apart (see :func:`people.shown_to`).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta, timezone
from zoneinfo import ZoneInfo

from limits import parse as parse_rate_limit
from sqlalchemy import case, delete, exists, func, or_, select
from sqlalchemy.orm import aliased, joinedload, selectinload

from hotel_community.database import insert_or_ignore, session, transaction, utcnow
from hotel_community.errors import Conflict, Forbidden, NotFound, ValidationFailed
from hotel_community.i18n import lazy_gettext as _l
from hotel_community.models import Block, Connection, ConnectionStatus, Group, Member, Membership
from hotel_community.services.community import require_membership
from hotel_community.services.people import (
    PAGE_SIZE, Card, between, in_group, not_blocked, shown_to,
)
from hotel_community.settings import config_value


@dataclass
class ConnectionEntry:
    """A connection or a request, from one member's side."""

    connection: Connection
    other: Member

    @property
    def card(self) -> Card:
        return Card(self.other)

    @property
    def met_on(self) -> date:
        """The day the two met (the request), at the property where they met."""
        moment = self.connection.created_at.replace(tzinfo=timezone.utc)
        return moment.astimezone(ZoneInfo(self.connection.property.timezone)).date()

    @property
    def contact(self) -> tuple[str, str] | None:
        """What the other chose to share: (kind, value). Only for an accepted connection."""
        profile = self.other.profile
        if self.connection.status is not ConnectionStatus.accepted or profile is None:
            return None
        if not profile.contact_value:
            return None
        return profile.contact_kind or "other", profile.contact_value


@dataclass
class BlockedEntry:
    member_id: int
    #: None when the member may not be named to the blocker (hidden, deleted, blocking them).
    name: str | None



# --- say hello, accept, decline --------------------------------------------------------------

def say_hello(requester_id: int, addressee_id: int, group_id: int | None) -> Connection:
    """Ask another member of a group to connect; they met at the group's property.

    Saying hello to someone who already said hello to you accepts their
    request. Refused to oneself, to a member the requester may not see (hidden,
    blocked either way, not in the group: one message, so a block is not
    revealed), twice, and over the rate limit.
    """
    if requester_id == addressee_id:
        raise ValidationFailed(_l("That is you."))
    with transaction():
        require_membership(requester_id, group_id)
        if not session.get(Member, requester_id).visible:
            raise Forbidden(_l("Turn on “Show me to other guests” first: then you can say hello."))
        _require_shown(requester_id, addressee_id, group_id)
        existing = list(session.scalars(select(Connection).where(
            between(requester_id, addressee_id)).with_for_update()))
        if any(c.status is ConnectionStatus.accepted for c in existing):
            raise Conflict(_l("You are already connected."))
        theirs = next((c for c in existing if c.requester_id == addressee_id
                       and c.status is ConnectionStatus.pending), None)
        if theirs is not None:
            _answer(theirs, accept=True)
            return theirs
        _check_rate_limit(requester_id)
        group = session.get(Group, group_id)
        new_id = session.scalar(
            insert_or_ignore(Connection, "requester_id", "addressee_id")
            .values(requester_id=requester_id, addressee_id=addressee_id,
                    property_id=group.property_id, status=ConnectionStatus.pending.value,
                    created_at=utcnow())
            .returning(Connection.id))
        if new_id is None:
            raise Conflict(_l("You already said hello."))
    return session.get(Connection, new_id)


def respond(member_id: int, connection_id: int, accept: bool) -> Connection:
    """The addressee accepts or declines a pending request."""
    with transaction():
        request = session.scalar(
            select(Connection).join(Member, Member.id == Connection.requester_id)
            .where(Connection.id == connection_id, Connection.addressee_id == member_id,
                   Connection.status == ConnectionStatus.pending, shown_to(member_id))
            .with_for_update(of=Connection))
        if request is None:
            raise NotFound(_l("This request is no longer open."))
        _answer(request, accept)
    return request


def _answer(request: Connection, accept: bool) -> None:
    request.status = ConnectionStatus.accepted if accept else ConnectionStatus.declined
    request.responded_at = utcnow()
    if accept:  # two people who said hello to each other at once: one connection
        session.execute(delete(Connection).where(
            Connection.requester_id == request.addressee_id,
            Connection.addressee_id == request.requester_id,
            Connection.status == ConnectionStatus.pending))


def _require_shown(viewer_id: int, member_id: int, group_id: int) -> None:
    shown = session.scalar(select(Member.id).join(Membership, Membership.member_id == Member.id)
                           .where(Member.id == member_id, in_group(group_id),
                                  shown_to(viewer_id)))
    if shown is None:
        raise NotFound(_l("This guest is not available."))


def _check_rate_limit(member_id: int) -> None:
    """Requests are counted in the database: every worker sees the same count."""
    limit = parse_rate_limit(config_value("HELLO_RATE_LIMIT"))
    since = utcnow() - timedelta(seconds=limit.get_expiry())
    sent = session.scalar(select(func.count()).select_from(Connection).where(
        Connection.requester_id == member_id, Connection.created_at >= since))
    if sent >= limit.amount:
        raise Conflict(_l("You have said hello to many guests already. Please try again later."))


# --- connections and requests ----------------------------------------------------------------

def connections(member_id: int, before: int | None = None,
                limit: int = PAGE_SIZE) -> tuple[list[ConnectionEntry], int | None]:
    """The member's accepted connections, newest first, and the next page's cursor.

    Shown whether or not the other is visible now (both agreed), never after a
    block either way nor once the other deleted their account.
    """
    other = case((Connection.requester_id == member_id, Connection.addressee_id),
                 else_=Connection.requester_id)
    query = (select(Connection, Member).join(Member, Member.id == other)
             .options(joinedload(Connection.property), selectinload(Member.profile))
             .where(or_(Connection.requester_id == member_id,
                        Connection.addressee_id == member_id),
                    Connection.status == ConnectionStatus.accepted,
                    Member.deleted_at.is_(None), not_blocked(member_id)))
    if before is not None:
        query = query.where(Connection.id < before)
    rows = session.execute(query.order_by(Connection.id.desc()).limit(limit + 1)).all()
    entries = [ConnectionEntry(c, m) for c, m in rows[:limit]]
    return entries, (entries[-1].connection.id if len(rows) > limit else None)


def incoming_requests(member_id: int, limit: int = 100) -> list[ConnectionEntry]:
    """Pending requests to the member from members they may see."""
    return _pending(member_id, Connection.addressee_id, Connection.requester_id, limit)


def outgoing_requests(member_id: int, limit: int = 100) -> list[ConnectionEntry]:
    """The member's own pending requests, to members they may still see."""
    return _pending(member_id, Connection.requester_id, Connection.addressee_id, limit)


def incoming_count(member_id: int) -> int:
    return session.scalar(
        select(func.count()).select_from(Connection)
        .join(Member, Member.id == Connection.requester_id)
        .where(Connection.addressee_id == member_id,
               Connection.status == ConnectionStatus.pending, shown_to(member_id)))


def _pending(member_id: int, mine, theirs, limit: int) -> list[ConnectionEntry]:
    rows = session.execute(
        select(Connection, Member).join(Member, Member.id == theirs)
        .options(joinedload(Connection.property), selectinload(Member.profile))
        .where(mine == member_id, Connection.status == ConnectionStatus.pending,
               shown_to(member_id))
        .order_by(Connection.id.desc()).limit(limit)).all()
    return [ConnectionEntry(c, m) for c, m in rows]


# --- blocks ------------------------------------------------------------------------------------

def block(blocker_id: int, blocked_id: int) -> None:
    """From now on neither sees the other; requests and any connection between them end."""
    if blocker_id == blocked_id:
        raise ValidationFailed(_l("That is you."))
    with transaction():
        if not _knows(blocker_id, blocked_id):
            raise NotFound(_l("This guest is not available."))
        session.execute(insert_or_ignore(Block, "blocker_id", "blocked_id")
                        .values(blocker_id=blocker_id, blocked_id=blocked_id,
                                created_at=utcnow()))
        session.execute(delete(Connection).where(between(blocker_id, blocked_id)))


def unblock(blocker_id: int, blocked_id: int) -> None:
    with transaction():
        session.execute(delete(Block).where(Block.blocker_id == blocker_id,
                                            Block.blocked_id == blocked_id))


def blocked_members(member_id: int, limit: int = 200) -> list[BlockedEntry]:
    """Whom the member blocked, newest first. Named only when they could be seen anyway."""
    blocks_me = exists().where(Block.blocker_id == Member.id, Block.blocked_id == member_id)
    mine = aliased(Block)
    rows = session.execute(
        select(Member, blocks_me).join(mine, mine.blocked_id == Member.id)
        .options(selectinload(Member.profile))
        .where(mine.blocker_id == member_id)
        .order_by(mine.created_at.desc(), Member.id.desc()).limit(limit)).all()
    return [BlockedEntry(m.id, m.display_name
                         if m.visible and m.deleted_at is None and not blocked_back else None)
            for m, blocked_back in rows]


def _knows(member_id: int, other_id: int) -> bool:
    """The other is someone the member can have seen: a visible member of a group they share,
    or someone they have a request or connection with."""
    other_membership = aliased(Membership)
    shared_group = (select(Membership.id)
                    .join(other_membership, other_membership.group_id == Membership.group_id)
                    .join(Member, Member.id == other_membership.member_id)
                    .where(Membership.member_id == member_id, Membership.left_at.is_(None),
                           other_membership.member_id == other_id,
                           other_membership.left_at.is_(None), Member.visible.is_(True),
                           Member.deleted_at.is_(None)))
    return bool(session.scalar(select(or_(exists(shared_group),
                                          exists().where(between(member_id, other_id))))))
