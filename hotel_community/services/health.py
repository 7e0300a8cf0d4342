"""How a property's community is doing, for staff: who is in, who talks, who connects.

Every figure is an aggregate query (counts, grouped by day), so the cost does
not depend on how many rows are loaded: nothing here reads a whole table into
Python. Days are the property's calendar days: each of the last 30 days is the
span between two local midnights, turned into UTC (timestamps are stored as
naive UTC), so daylight saving changes and half-hour time zones bucket exactly
alike on SQLite and PostgreSQL. A row falls into its day by a ``CASE`` over
those 31 boundaries, grouped in SQL.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, case, func, select

from hotel_community.database import session
from hotel_community.models import (
    Connection, ConnectionStatus, GroupKind, Member, Membership, Post, PostKind, Property, Stay,
    StayGuest, StayStatus,
)
from hotel_community.services.access import today_at
from hotel_community.services.properties import groups_by_kind

#: How many days the charts cover, today included.
WINDOW_DAYS = 30
#: A connection "lasts" once both guests checked out at least this long ago.
LASTING_AFTER = timedelta(days=30)


@dataclass(frozen=True)
class Health:
    """A property's community over the last :data:`WINDOW_DAYS` days (``days``, oldest first)."""

    property: Property
    days: list[date]
    #: Members in the stay group now, and how many of them chose to be visible.
    in_house: int
    opted_in: int
    #: Per day of ``days``: posts and replies guests wrote in the property's groups.
    posts: list[int]
    #: Per day: "say hello" requests made at the property, and acceptances.
    introductions: list[int]
    accepted: list[int]
    #: Accepted connections made here whose two guests both checked out
    #: :data:`LASTING_AFTER` ago or more, and every accepted connection made here.
    lasting: int
    connections: int

    @property
    def opted_in_share(self) -> float | None:
        return self.opted_in / self.in_house if self.in_house else None

    @property
    def lasting_share(self) -> float | None:
        return self.lasting / self.connections if self.connections else None


def community_health(prop: Property, today: date | None = None) -> Health:
    """The figures for ``prop``, for the 30 days up to ``today`` (the property's today)."""
    today = today or today_at(prop)
    days = [today - timedelta(days=n) for n in range(WINDOW_DAYS - 1, -1, -1)]
    bounds = day_bounds(prop, days)
    in_house, opted_in = _in_house(prop)
    introductions, accepted = _introductions(prop, bounds)
    lasting, connections = _lasting_connections(prop, today - LASTING_AFTER)
    return Health(property=prop, days=days, in_house=in_house, opted_in=opted_in,
                  posts=_posts(prop, bounds), introductions=introductions, accepted=accepted,
                  lasting=lasting, connections=connections)


def day_bounds(prop: Property, days: list[date]) -> list[datetime]:
    """Naive-UTC instants of the local midnights starting each day, and ending the last."""
    zone = ZoneInfo(prop.timezone)
    midnights = [*days, days[-1] + timedelta(days=1)]
    return [datetime.combine(day, time.min, tzinfo=zone).astimezone(timezone.utc)
            .replace(tzinfo=None) for day in midnights]


def count_per_day(moment: ColumnElement[Any], bounds: list[datetime],
                  *criteria: ColumnElement[bool]) -> list[int]:
    """How many rows matching ``criteria`` have ``moment`` in each span of ``bounds``.

    The day index is computed in a subquery and grouped outside it: PostgreSQL
    would not see a ``CASE`` with bound parameters in ``SELECT`` and in
    ``GROUP BY`` as the same expression.
    """
    day = case(*((moment < end, index) for index, end in enumerate(bounds[1:])))
    rows = (select(day.label("day"))
            .where(moment >= bounds[0], moment < bounds[-1], *criteria).subquery())
    counts = [0] * (len(bounds) - 1)
    for index, count in session.execute(
            select(rows.c.day, func.count()).group_by(rows.c.day)):
        counts[index] = count
    return counts


def _in_house(prop: Property) -> tuple[int, int]:
    stay_group = groups_by_kind(prop)[GroupKind.stay]
    row = session.execute(
        select(func.count(), func.coalesce(func.sum(case((Member.visible.is_(True), 1),
                                                          else_=0)), 0))
        .select_from(Membership).join(Member, Member.id == Membership.member_id)
        .where(Membership.group_id == stay_group.id, Membership.left_at.is_(None))).one()
    return int(row[0]), int(row[1])


def _posts(prop: Property, bounds: list[datetime]) -> list[int]:
    group_ids = [group.id for group in prop.groups]
    return count_per_day(Post.created_at, bounds, Post.group_id.in_(group_ids),
                         Post.kind == PostKind.post)


def _introductions(prop: Property, bounds: list[datetime]) -> tuple[list[int], list[int]]:
    here = Connection.property_id == prop.id
    made = count_per_day(Connection.created_at, bounds, here)
    accepted_at = func.coalesce(Connection.responded_at, Connection.created_at)
    accepted = count_per_day(accepted_at, bounds, here,
                             Connection.status == ConnectionStatus.accepted)
    return made, accepted


def _lasting_connections(prop: Property, cutoff: date) -> tuple[int, int]:
    """(Accepted connections whose two guests both left by ``cutoff``, all accepted ones)."""
    def checked_out_by_cutoff(member_id: ColumnElement[int]) -> ColumnElement[bool]:
        return (select(StayGuest.id).join(Stay, Stay.id == StayGuest.stay_id)
                .where(StayGuest.member_id == member_id, Stay.property_id == prop.id,
                       Stay.status == StayStatus.checked_out, Stay.departure <= cutoff)
                .exists())

    both_left = and_(checked_out_by_cutoff(Connection.requester_id),
                     checked_out_by_cutoff(Connection.addressee_id))
    row = session.execute(
        select(func.coalesce(func.sum(case((both_left, 1), else_=0)), 0), func.count())
        .where(Connection.property_id == prop.id,
               Connection.status == ConnectionStatus.accepted)).one()
    return int(row[0]), int(row[1])
