"""What a signed-in guest sees: their stay group, or the alumni community."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from hotel_community.database import session, transaction
from hotel_community.errors import Forbidden
from hotel_community.i18n import lazy_gettext as _l
from hotel_community.models import (
    Group, GroupKind, Member, Membership, Property, Stay, StayGuest,
)
from hotel_community.services.properties import groups_by_kind

#: How many co-guests the stay group page lists (the feed comes with paging).
WHO_IS_HERE_LIMIT = 200


@dataclass
class GuestHome:
    #: Template to show: ``stay_group``, ``alumni`` or ``not_in_house``.
    kind: str
    property: Property
    stay: Stay
    members: list[Member]
    member_count: int


def get_member(member_id: int | None) -> Member | None:
    return session.get(Member, member_id) if member_id else None


def guest_home(member: Member, stay_id: int | None) -> GuestHome | None:
    """The member's page at the property of the stay they signed in with.

    Only ever the groups of that stay's property, and only while the member is
    still a guest on that stay (else their latest stay); None when they have
    no stay at all any more.
    """
    stay = session.scalar(select(Stay).join(StayGuest, StayGuest.stay_id == Stay.id)
                          .where(Stay.id == stay_id, StayGuest.member_id == member.id))
    if stay is None:
        stay = _latest_stay(member)
    if stay is None:
        return None
    groups = groups_by_kind(stay.property)
    open_groups = set(session.scalars(
        select(Membership.group_id).where(Membership.member_id == member.id,
                                          Membership.left_at.is_(None))))
    for kind in (GroupKind.stay, GroupKind.alumni):
        if groups[kind].id in open_groups:
            members, count = _visible_members(groups[kind].id, member.id)
            page = "stay_group" if kind is GroupKind.stay else "alumni"
            return GuestHome(page, stay.property, stay, members, count)
    return GuestHome("not_in_house", stay.property, stay, [], 0)


def set_visible(member_id: int, visible: bool) -> None:
    with transaction():
        session.get(Member, member_id).visible = visible


def _latest_stay(member: Member) -> Stay | None:
    return session.scalar(select(Stay).join(StayGuest, StayGuest.stay_id == Stay.id)
                          .where(StayGuest.member_id == member.id)
                          .order_by(Stay.arrival.desc(), Stay.id.desc()).limit(1))


def _visible_members(group_id: int, viewer_id: int) -> tuple[list[Member], int]:
    """Members of the group who opted in to be seen, and how many are in it."""
    open_members = (select(Membership.member_id)
                    .where(Membership.group_id == group_id, Membership.left_at.is_(None)))
    count = session.scalar(select(func.count()).select_from(open_members.subquery()))
    members = session.scalars(
        select(Member).options(selectinload(Member.profile))
        .where(Member.id.in_(open_members), Member.visible.is_(True),
                             Member.id != viewer_id)
        .order_by(Member.first_name, Member.id).limit(WHO_IS_HERE_LIMIT))
    return list(members), count


def membership_in(member_id: int, group_id: int) -> Membership | None:
    """The member's open membership of the group, unless staff removed them from it."""
    return session.scalar(
        select(Membership).where(Membership.member_id == member_id,
                                 Membership.group_id == group_id,
                                 Membership.left_at.is_(None), Membership.removed_at.is_(None)))


def require_membership(member_id: int, group_id: int) -> Membership:
    """Every read or write of a group goes through here: members only."""
    membership = membership_in(member_id, group_id)
    if membership is None:
        raise Forbidden(_l("This group is only for the guests in it."))
    return membership


def groups_of_member(member_id: int) -> list[Group]:
    """The groups a member is in now: stay groups and alumni communities, every property."""
    return list(session.scalars(
        select(Group).join(Membership, Membership.group_id == Group.id)
        .options(selectinload(Group.property))
        .where(Membership.member_id == member_id, Membership.left_at.is_(None),
               Membership.removed_at.is_(None))
        .order_by(Group.kind.desc(), Group.id)))
