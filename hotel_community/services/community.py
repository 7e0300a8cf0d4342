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

@dataclass
class GuestHome:
    #: Template to show: ``stay_group``, ``alumni`` or ``not_in_house``.
    kind: str
    property: Property
    stay: Stay
    #: The group the page is about (None when not in house and not alumni).
    group: Group | None
    member_count: int


def get_member(member_id: int | None) -> Member | None:
    """The member of a guest session; None once they deleted their account."""
    member = session.get(Member, member_id) if member_id else None
    return member if member is not None and member.deleted_at is None else None


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
                                          Membership.left_at.is_(None),
                                          Membership.removed_at.is_(None))))
    for kind in (GroupKind.stay, GroupKind.alumni):
        if groups[kind].id in open_groups:
            page = "stay_group" if kind is GroupKind.stay else "alumni"
            return GuestHome(page, stay.property, stay, groups[kind], _member_count(groups[kind].id))
    return GuestHome("not_in_house", stay.property, stay, None, 0)


def set_visible(member_id: int, visible: bool) -> None:
    with transaction():
        session.get(Member, member_id).visible = visible


def _latest_stay(member: Member) -> Stay | None:
    return session.scalar(select(Stay).join(StayGuest, StayGuest.stay_id == Stay.id)
                          .where(StayGuest.member_id == member.id)
                          .order_by(Stay.arrival.desc(), Stay.id.desc()).limit(1))


def _member_count(group_id: int) -> int:
    return session.scalar(select(func.count()).select_from(Membership).where(
        Membership.group_id == group_id, Membership.left_at.is_(None),
        Membership.removed_at.is_(None)))


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
