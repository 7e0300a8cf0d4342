"""A member's own data: download it, or delete the account.

Deleting keeps what other people and the hotel's records rely on, emptied of
the person: their stays keep their guest rows (room history, group counts),
their posts stay in the feed without an author (replies keep their thread),
the member row stays with its personal fields cleared. What is theirs alone
goes: profile, photo file, interests, reactions, connections (both sides'
view of them), blocks they made, their PMS identities (a later check-in makes
a new member) and their open group memberships.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import url_for
from sqlalchemy import and_, delete, exists, or_, select, update
from sqlalchemy.orm import selectinload

from hotel_community.database import session, transaction, utcnow
from hotel_community.errors import Forbidden
from hotel_community.i18n import lazy_gettext as _l
from hotel_community.models import (
    Block, Connection, ConnectionStatus, Group, GuestIdentity, Interest, Member, MemberInterest,
    Membership, Post, Profile, Reaction, Report, Stay, StayGuest,
)
from hotel_community.services import storage
from hotel_community.services.profiles import member_interests

#: Format of the download; bump it when its shape changes.
EXPORT_VERSION = 1


def export_data(member: Member) -> dict[str, Any]:
    """Everything stored about the member, as JSON-ready values.

    Other members appear by display name only: never their contact, and not
    at all when they blocked this member. A request this member sent that
    the other declined is left out (the product never tells a requester).
    """
    blocked_me = set(session.scalars(select(Block.blocker_id)
                                     .where(Block.blocked_id == member.id)))
    return {
        "format": EXPORT_VERSION,
        "exported_at": _when(utcnow()),
        "member": _member(member),
        "profile": _profile(member.profile),
        "interests": [{"name": i.name, "curated": i.curated} for i in member_interests(member.id)],
        "stays": _stays(member.id),
        "memberships": _memberships(member.id),
        "posts": _posts(member.id),
        "reactions": _reactions(member.id),
        "connections": _connections(member.id, blocked_me),
        "blocks": _blocks(member.id, blocked_me),
        "reports": _reports(member.id, blocked_me),
    }


def delete_account(member: Member) -> None:
    """Delete the member's account; see the module docstring for what stays."""
    if member.deleted_at is not None:
        raise Forbidden(_l("This account was deleted."))
    photo = member.profile.photo if member.profile is not None else None
    with transaction():
        _forget_activity(member.id)
        _forget_identity(member.id)
        session.expire_all()  # the bulk statements changed rows the session may hold
        member.first_name = member.last_name = ""
        member.email = member.phone = member.language = None
        member.visible = False
        member.deleted_at = utcnow()
    storage.delete_photo(photo)  # after the commit: a failed delete keeps the photo


def _forget_activity(member_id: int) -> None:
    session.execute(update(Post).where(Post.author_id == member_id).values(author_id=None)
                    .execution_options(synchronize_session=False))
    session.execute(update(Report).where(Report.reporter_id == member_id)
                    .values(reporter_id=None).execution_options(synchronize_session=False))
    for statement in (
        delete(Reaction).where(Reaction.member_id == member_id),
        delete(Connection).where(or_(Connection.requester_id == member_id,
                                     Connection.addressee_id == member_id)),
        delete(Block).where(Block.blocker_id == member_id),
        delete(MemberInterest).where(MemberInterest.member_id == member_id),
        delete(Profile).where(Profile.member_id == member_id),
    ):
        session.execute(statement.execution_options(synchronize_session=False))
    # A free interest only this member had typed could name them: drop unused ones.
    used = exists().where(MemberInterest.interest_id == Interest.id)
    session.execute(delete(Interest).where(Interest.curated.is_(False), ~used)
                    .execution_options(synchronize_session=False))


def _forget_identity(member_id: int) -> None:
    session.execute(delete(GuestIdentity).where(GuestIdentity.member_id == member_id)
                    .execution_options(synchronize_session=False))
    # Without its PMS id, the stay's guest row is not this member's any more
    # for the PMS: its next snapshot of the stay makes a new member.
    session.execute(update(StayGuest).where(StayGuest.member_id == member_id)
                    .values(pms_guest_id=None).execution_options(synchronize_session=False))
    session.execute(update(Membership).where(Membership.member_id == member_id,
                                             Membership.left_at.is_(None))
                    .values(left_at=utcnow()).execution_options(synchronize_session=False))


# --- the export's parts ------------------------------------------------------------------

def _when(moment: datetime | date | None) -> str | None:
    """ISO 8601; timestamps are stored in UTC, so they get a ``Z``."""
    if moment is None:
        return None
    return moment.isoformat() + ("Z" if isinstance(moment, datetime) else "")


def _photo(key: str | None) -> str | None:
    return url_for("hotel_community.media.photo", key=key, _external=True) if key else None


def _member(member: Member) -> dict[str, Any]:
    return {"id": member.id, "first_name": member.first_name, "last_name": member.last_name,
            "display_name": member.display_name, "email": member.email, "phone": member.phone,
            "language": member.language, "visible_to_other_guests": member.visible,
            "created_at": _when(member.created_at)}


def _profile(profile: Profile | None) -> dict[str, Any] | None:
    if profile is None:
        return None
    return {"display_name": profile.display_name, "photo": _photo(profile.photo),
            "home_city": profile.home_city, "languages": list(profile.languages or []),
            "contact": ({"kind": profile.contact_kind, "value": profile.contact_value}
                        if profile.contact_kind else None),
            "updated_at": _when(profile.updated_at)}


def _stays(member_id: int) -> list[dict[str, Any]]:
    stays = session.scalars(
        select(Stay).join(StayGuest, StayGuest.stay_id == Stay.id)
        .options(selectinload(Stay.property))
        .where(StayGuest.member_id == member_id).order_by(Stay.arrival, Stay.id))
    return [{"property": stay.property.name, "property_code": stay.property.code,
             "reservation": stay.reservation_id, "room": stay.room,
             "arrival": _when(stay.arrival), "departure": _when(stay.departure),
             "status": stay.status.value} for stay in stays]


def _memberships(member_id: int) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(Membership).options(selectinload(Membership.group).selectinload(Group.property))
        .where(Membership.member_id == member_id).order_by(Membership.joined_at, Membership.id))
    return [{"group": row.group.name, "kind": row.group.kind.value,
             "property_code": row.group.property.code, "role": row.role,
             "joined_at": _when(row.joined_at), "left_at": _when(row.left_at),
             "muted_at": _when(row.muted_at), "removed_at": _when(row.removed_at)}
            for row in rows]


def _posts(member_id: int) -> list[dict[str, Any]]:
    posts = session.scalars(
        select(Post).options(selectinload(Post.group).selectinload(Group.property))
        .where(Post.author_id == member_id).order_by(Post.id))
    return [{"id": post.id, "group": post.group.name, "property_code": post.group.property.code,
             "reply_to": post.parent_id, "body": post.body, "photo": _photo(post.photo),
             "created_at": _when(post.created_at), "hidden_by_staff": post.hidden_at is not None}
            for post in posts]


def _reactions(member_id: int) -> list[dict[str, Any]]:
    rows = session.scalars(select(Reaction).where(Reaction.member_id == member_id)
                           .order_by(Reaction.id))
    return [{"post": row.post_id, "kind": row.kind, "created_at": _when(row.created_at)}
            for row in rows]


def _connections(member_id: int, blocked_me: set[int]) -> list[dict[str, Any]]:
    mine = or_(Connection.requester_id == member_id, Connection.addressee_id == member_id)
    declined_mine = and_(Connection.requester_id == member_id,
                         Connection.status == ConnectionStatus.declined)
    rows = session.scalars(
        select(Connection).where(mine, ~declined_mine)
        .options(*(selectinload(side).selectinload(Member.profile)
                   for side in (Connection.requester, Connection.addressee)),
                 selectinload(Connection.property))
        .order_by(Connection.id))
    result = []
    for row in rows:
        sent = row.requester_id == member_id
        other = row.addressee if sent else row.requester
        if other.id in blocked_me:
            continue
        result.append({"with": other.display_name, "direction": "sent" if sent else "received",
                       "status": row.status.value, "met_at": row.property.name,
                       "created_at": _when(row.created_at),
                       "responded_at": _when(row.responded_at)})
    return result


def _blocks(member_id: int, blocked_me: set[int]) -> list[dict[str, Any]]:
    rows = session.execute(
        select(Block, Member).join(Member, Member.id == Block.blocked_id)
        .options(selectinload(Member.profile))
        .where(Block.blocker_id == member_id).order_by(Block.created_at)).all()
    return [{"member": _name_unless_blocked(row.Member, blocked_me),
             "created_at": _when(row.Block.created_at)} for row in rows]


def _reports(member_id: int, blocked_me: set[int]) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(Report).options(selectinload(Report.reported_member).selectinload(Member.profile))
        .where(Report.reporter_id == member_id).order_by(Report.id))
    return [{"post": row.post_id,
             "member": (_name_unless_blocked(row.reported_member, blocked_me)
                        if row.reported_member else None),
             "reason": row.reason, "created_at": _when(row.created_at),
             "handled": row.handled_at is not None} for row in rows]


def _name_unless_blocked(other: Member, blocked_me: set[int]) -> str | None:
    return None if other.id in blocked_me else other.display_name
