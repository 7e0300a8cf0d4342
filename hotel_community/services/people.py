"""Meeting people: who is here, introductions, the chain's places; who may see whom.

Who may see whom, in one place (:func:`shown_to`): another member appears to
a viewer only when they opted in (``visible``), still have an account, and
neither of the two blocked the other. An accepted connection is the one
exception to ``visible``: both agreed to it, so it stays on each one's
connections page, after check-out too, until one of them blocks the other
(a block ends it). Requests, connections and blocks: services/connections.py.

Every list here costs a fixed number of queries whatever the group's size:
profiles are eager-loaded, interests and connection states come in one query
per page, suggestions are ranked by the database.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import Enum

from babel import Locale, UnknownLocaleError
from flask_babel import get_locale
from flask_babel.speaklater import LazyString
from sqlalchemy import (
    ColumnElement, Select, Subquery, Text, and_, case, cast, exists, func, literal, or_, select,
    union,
)
from sqlalchemy.orm import aliased, contains_eager, joinedload, selectinload

from hotel_community.database import session
from hotel_community.i18n import lazy_gettext as _l
from hotel_community.i18n import lazy_ngettext as _ln
from hotel_community.models import (
    Block, Connection, ConnectionStatus, Event, EventOccurrence, Group, GroupKind, Interest,
    Member, MemberInterest, Membership, Profile, Stay, StayGuest, StayStatus, Ticket,
    TicketStatus,
)
from hotel_community.services import storage
from hotel_community.services.access import today_at
from hotel_community.services.community import groups_of_member, require_membership
from hotel_community.services.events import local_day_bounds
from hotel_community.services.profiles import LANGUAGES

#: Members per page of "who is here".
PAGE_SIZE = 24
#: How many introductions the people page suggests.
SUGGESTION_COUNT = 6
#: What two members share, weighted: two shared interests outweigh a language,
#: a home city and the nights left together put together; going to the same
#: event (an occurrence, today or later, both with a confirmed ticket) outweighs
#: one shared interest.
INTEREST_WEIGHT, LANGUAGE_WEIGHT, CITY_WEIGHT, NIGHT_WEIGHT = 6, 3, 2, 1
EVENT_WEIGHT = 8
#: Nights still to spend together count up to this many.
MAX_NIGHTS = 3
#: A language filter or profile language: "en", "zh", "pt-BR"...
LANGUAGE_CODE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


class Relation(str, Enum):
    """Where a viewer stands with another member, as a card shows it."""

    none = "none"            # may say hello
    sent = "sent"            # the viewer said hello (pending, or declined: not told apart)
    received = "received"    # the other said hello: saying hello back accepts
    connected = "connected"


@dataclass
class Card:
    """Another member as a viewer may see them."""

    member: Member
    #: (slug, name) of each of the member's interests.
    interests: list[tuple[str, str]] = field(default_factory=list)
    relation: Relation = Relation.none
    cursor: int | None = None

    @property
    def name(self) -> str:
        return self.member.display_name

    @property
    def photo_url(self) -> str | None:
        profile = self.member.profile
        return storage.photo_url(profile.photo) if profile is not None else None

    @property
    def home_city(self) -> str | None:
        profile = self.member.profile
        return profile.home_city if profile is not None else None

    @property
    def languages(self) -> list[str]:
        return [language_name(code) for code in languages_of(self.member)]


@dataclass
class WhoIsHere:
    group: Group
    cards: list[Card]
    #: Pass as ``before`` for the next page; None on the last page.
    next_cursor: int | None
    #: (slug, name) of the interests the listed members have, for the filter.
    interests: list[tuple[str, str]]

    @property  # last: the name shadows the builtin in the class body
    def property(self):
        return self.group.property


@dataclass
class Suggestion:
    card: Card
    reasons: list[str]
    score: int


@dataclass
class Place:
    """A property of the chain where the member stayed, and its community they are in."""

    group: Group
    last_departure: date | None

    @property
    def in_house(self) -> bool:
        return self.group.kind is GroupKind.stay

    @property  # last: the name shadows the builtin in the class body
    def property(self):
        return self.group.property


# --- who may see whom -----------------------------------------------------------------------

def blocked_either_way(member_id: int) -> Select:
    """Ids of the members ``member_id`` blocked or was blocked by: never shown to each other."""
    return union(select(Block.blocked_id).where(Block.blocker_id == member_id),
                 select(Block.blocker_id).where(Block.blocked_id == member_id))


def shown_to(viewer_id: int) -> ColumnElement[bool]:
    """Condition on ``Member``: this member may appear to the viewer at all."""
    return and_(Member.visible.is_(True), Member.deleted_at.is_(None), Member.id != viewer_id,
                not_blocked(viewer_id))


def not_blocked(viewer_id: int) -> ColumnElement[bool]:
    return and_(Member.id.not_in(select(Block.blocked_id).where(Block.blocker_id == viewer_id)),
                Member.id.not_in(select(Block.blocker_id).where(Block.blocked_id == viewer_id)))


def in_group(group_id: int) -> ColumnElement[bool]:
    """Condition on ``Membership``: an open membership of the group, not removed by staff."""
    return and_(Membership.group_id == group_id, Membership.left_at.is_(None),
                Membership.removed_at.is_(None))


def _members_shown(viewer_id: int, group_id: int) -> Select:
    """The group's members the viewer may see, with their membership id (the page cursor)."""
    return (select(Member, Membership.id)
            .join(Membership, Membership.member_id == Member.id)
            .where(in_group(group_id), shown_to(viewer_id)))


def between(a: int, b: int) -> ColumnElement[bool]:
    """Condition on ``Connection``: a request or connection between the two, either way."""
    return or_(and_(Connection.requester_id == a, Connection.addressee_id == b),
               and_(Connection.requester_id == b, Connection.addressee_id == a))


def _speaks(code: str) -> ColumnElement[bool]:
    """Condition on ``Profile``: ``code`` is one of the profile's languages.

    The JSON list is matched as text (``"zh"`` with its quotes), which reads
    the same on SQLite and PostgreSQL; codes are checked against
    :data:`LANGUAGE_CODE` first and LIKE's wildcards are escaped anyway.
    """
    return cast(Profile.languages, Text).contains(json.dumps(code), autoescape=True)


def _has_interest(slug: str) -> ColumnElement[bool]:
    return exists().where(MemberInterest.member_id == Member.id,
                          MemberInterest.interest_id == Interest.id, Interest.slug == slug)


# --- the member's groups ------------------------------------------------------------------

def current_group(member_id: int, stay_id: int | None) -> Group | None:
    """The group the people page opens on: at the property of the stay the member signed
    in with, the stay group while in house, else the alumni community; else any of theirs."""
    groups = groups_of_member(member_id)
    stay_property = session.scalar(select(Stay.property_id).where(Stay.id == stay_id)) \
        if stay_id else None
    here = [g for g in groups if g.property_id == stay_property]
    for candidates in (here, groups):
        for kind in (GroupKind.stay, GroupKind.alumni):
            found = next((g for g in candidates if g.kind is kind), None)
            if found is not None:
                return found
    return None


def group_for(member_id: int, group_id: int) -> Group:
    """A group the member is in now (not removed from): refused otherwise."""
    require_membership(member_id, group_id)
    return session.scalar(select(Group).options(joinedload(Group.property))
                          .where(Group.id == group_id))


def places(member_id: int) -> list[Place]:
    """Each property of the chain the member stayed at, with the community they are in there:
    the stay group while in house, else the alumni community."""
    by_property: dict[int, Group] = {}
    for group in groups_of_member(member_id):  # stay groups come first
        by_property.setdefault(group.property_id, group)
    departures = dict(session.execute(
        select(Stay.property_id, func.max(Stay.departure))
        .join(StayGuest, StayGuest.stay_id == Stay.id)
        .where(StayGuest.member_id == member_id,
               Stay.status.in_([StayStatus.in_house, StayStatus.checked_out]))
        .group_by(Stay.property_id)).all())
    found = [Place(group, departures.get(pid)) for pid, group in by_property.items()]
    return sorted(found, key=lambda p: (not p.in_house, -(p.last_departure or date.min).toordinal(),
                                        p.property.name))


# --- who is here -----------------------------------------------------------------------------

def who_is_here(viewer: Member, group: Group, interest: str | None = None,
                language: str | None = None, before: int | None = None,
                limit: int | None = None) -> WhoIsHere:
    """The group's members who opted in, newest arrivals first, a page at a time."""
    require_membership(viewer.id, group.id)
    limit = limit or PAGE_SIZE
    query = _members_shown(viewer.id, group.id).options(selectinload(Member.profile))
    if interest:
        query = query.where(_has_interest(interest))
    if language and LANGUAGE_CODE.match(language):
        query = query.where(exists().where(Profile.member_id == Member.id, _speaks(language)))
    if before is not None:
        anchor = (select(Membership.joined_at).where(Membership.id == before)
                  .scalar_subquery())
        query = query.where(or_(Membership.joined_at < anchor,
                                and_(Membership.joined_at == anchor, Membership.id < before)))
    rows = session.execute(query.order_by(Membership.joined_at.desc(), Membership.id.desc())
                           .limit(limit + 1)).all()
    cards = [Card(member, cursor=cursor) for member, cursor in rows[:limit]]
    _fill_interests(cards)
    _fill_relations(viewer.id, cards)
    next_cursor = cards[-1].cursor if len(rows) > limit else None
    return WhoIsHere(group, cards, next_cursor, _interest_choices(viewer.id, group))


def _fill_interests(cards: list[Card]) -> None:
    by_id = {card.member.id: card for card in cards}
    if not by_id:
        return
    for member_id, slug, name in session.execute(
            select(MemberInterest.member_id, Interest.slug, Interest.name)
            .join(Interest, Interest.id == MemberInterest.interest_id)
            .where(MemberInterest.member_id.in_(by_id)).order_by(Interest.name)):
        by_id[member_id].interests.append((slug, name))


def _fill_relations(viewer_id: int, cards: list[Card]) -> None:
    by_id = {card.member.id: card for card in cards}
    if not by_id:
        return
    rows = session.scalars(select(Connection).where(or_(
        and_(Connection.requester_id == viewer_id, Connection.addressee_id.in_(by_id)),
        and_(Connection.addressee_id == viewer_id, Connection.requester_id.in_(by_id)))))
    for row in rows:
        sent = row.requester_id == viewer_id
        card = by_id[row.addressee_id if sent else row.requester_id]
        if row.status is ConnectionStatus.accepted:
            card.relation = Relation.connected
        elif card.relation is Relation.connected:
            continue
        elif sent:
            card.relation = Relation.sent
        elif row.status is ConnectionStatus.pending and card.relation is Relation.none:
            card.relation = Relation.received


def _interest_choices(viewer_id: int, group: Group) -> list[tuple[str, str]]:
    """The interest filter's choices: in a stay group, the interests of the members the viewer
    may see; in an alumni community (too many members to ask), the hotel's curated list."""
    query = select(Interest.slug, Interest.name)
    if group.kind is GroupKind.stay:
        shown = (select(Member.id).join(Membership, Membership.member_id == Member.id)
                 .where(in_group(group.id), shown_to(viewer_id)))
        query = (query.join(MemberInterest, MemberInterest.interest_id == Interest.id)
                 .where(MemberInterest.member_id.in_(shown)).distinct())
    else:
        query = query.where(Interest.curated.is_(True))
    return [tuple(row) for row in session.execute(query.order_by(Interest.name).limit(60))]


# --- suggestions -----------------------------------------------------------------------------

@dataclass
class _Mine:
    """What the viewer brings to the comparison."""

    interest_ids: list[int]
    languages: list[str]
    city: str | None
    today: date
    departure: date | None
    #: Nights left together that count in the score: at most :data:`MAX_NIGHTS`.
    nights_left: int
    member_id: int
    property_id: int
    #: When the property's today began (naive UTC): events from then on count.
    day_start: datetime


def suggestions(viewer: Member, group: Group, limit: int = SUGGESTION_COUNT) -> list[Suggestion]:
    """Members of the viewer's stay group to meet, best first, each with why.

    Only visible members who share something, never anyone blocked either way,
    already connected or asked (either way). A hidden viewer gets none: you are
    introduced to others only while they can see you too.
    """
    require_membership(viewer.id, group.id)
    if group.kind is not GroupKind.stay or not viewer.visible:
        return []
    mine = _mine(viewer, group)
    shared, stays = _shared_interests(mine, group.id), _stays_at(group.property_id)
    pairs = _going_together(mine).subquery()
    going = (select(pairs.c.member_id, func.count().label("n"))
             .group_by(pairs.c.member_id).subquery())
    nights = sum((case((stays.c.departure >= mine.today + timedelta(days=k), 1), else_=0)
                  for k in range(1, mine.nights_left + 1)), literal(0))
    languages = sum((case((_speaks(code), 1), else_=0) for code in mine.languages), literal(0))
    city = (case((func.lower(func.trim(Profile.home_city)) == mine.city, 1), else_=0)
            if mine.city else literal(0))
    score = (INTEREST_WEIGHT * func.coalesce(shared.c.n, 0) + LANGUAGE_WEIGHT * languages
             + CITY_WEIGHT * city + NIGHT_WEIGHT * nights
             + EVENT_WEIGHT * func.coalesce(going.c.n, 0))
    rows = session.execute(
        _members_shown(viewer.id, group.id).add_columns(score, stays.c.departure)
        .outerjoin(Profile, Profile.member_id == Member.id)
        .outerjoin(shared, shared.c.member_id == Member.id)
        .outerjoin(stays, stays.c.member_id == Member.id)
        .outerjoin(going, going.c.member_id == Member.id)
        .options(contains_eager(Member.profile))
        .where(~exists().where(between(viewer.id, Member.id)), score > 0)
        .order_by(score.desc(), Membership.joined_at.desc(), Membership.id.desc())
        .limit(limit)).all()
    ids = [row[0].id for row in rows]
    names, titles = _shared_interest_names(mine, ids), _shared_event_titles(mine, ids)
    return [Suggestion(Card(member, cursor=cursor),
                       _event_reasons(titles.get(member.id, []))
                       + _reasons(mine, member, names.get(member.id, []), departure), score)
            for member, cursor, score, departure in rows]


def _mine(viewer: Member, group: Group) -> _Mine:
    interest_ids = list(session.scalars(
        select(MemberInterest.interest_id).where(MemberInterest.member_id == viewer.id)))
    profile = session.get(Profile, viewer.id)
    today = today_at(group.property)
    departure = session.scalar(
        select(func.max(Stay.departure)).join(StayGuest, StayGuest.stay_id == Stay.id)
        .where(StayGuest.member_id == viewer.id, Stay.property_id == group.property_id,
               Stay.status == StayStatus.in_house))
    nights_left = min(max((departure - today).days, 0), MAX_NIGHTS) if departure else 0
    city = (profile.home_city or "").strip().lower() if profile else ""
    return _Mine(interest_ids, languages_of(viewer), city or None, today, departure,
                 nights_left, viewer.id, group.property_id,
                 local_day_bounds(group.property, today)[0])


def _shared_interests(mine: _Mine, group_id: int) -> Subquery:
    """Per member of the group: how many of the viewer's interests they have."""
    members = select(Membership.member_id).where(in_group(group_id))
    return (select(MemberInterest.member_id, func.count().label("n"))
            .where(MemberInterest.interest_id.in_(mine.interest_ids),
                   MemberInterest.member_id.in_(members))
            .group_by(MemberInterest.member_id).subquery())


def _stays_at(property_id: int) -> Subquery:
    """Per in-house guest of the property: their (last) departure day."""
    return (select(StayGuest.member_id, func.max(Stay.departure).label("departure"))
            .join(Stay, Stay.id == StayGuest.stay_id)
            .where(Stay.property_id == property_id, Stay.status == StayStatus.in_house)
            .group_by(StayGuest.member_id).subquery())


def _going_together(mine: _Mine) -> Select:
    """(other member, occurrence) for each occurrence at the property, today or later and
    not cancelled, where both the viewer and the other hold a confirmed ticket."""
    own = aliased(Ticket)
    return (select(Ticket.member_id, Ticket.occurrence_id)
            .join(own, and_(own.occurrence_id == Ticket.occurrence_id,
                            own.member_id == mine.member_id,
                            own.status == TicketStatus.confirmed))
            .join(EventOccurrence, EventOccurrence.id == Ticket.occurrence_id)
            .join(Event, Event.id == EventOccurrence.event_id)
            .where(Ticket.status == TicketStatus.confirmed, Ticket.member_id != mine.member_id,
                   Event.property_id == mine.property_id, Event.cancelled_at.is_(None),
                   EventOccurrence.cancelled_at.is_(None),
                   EventOccurrence.starts_at >= mine.day_start))


def _shared_interest_names(mine: _Mine, member_ids: list[int]) -> dict[int, list[str]]:
    names: dict[int, list[str]] = {}
    if not member_ids or not mine.interest_ids:
        return names
    for member_id, name in session.execute(
            select(MemberInterest.member_id, Interest.name)
            .join(Interest, Interest.id == MemberInterest.interest_id)
            .where(MemberInterest.member_id.in_(member_ids),
                   MemberInterest.interest_id.in_(mine.interest_ids)).order_by(Interest.name)):
        names.setdefault(member_id, []).append(name)
    return names


def _shared_event_titles(mine: _Mine, member_ids: list[int]) -> dict[int, list[tuple[str, str]]]:
    """Per member: the (English, Chinese) titles of the events the two are going to,
    soonest first, each once."""
    titles: dict[int, list[tuple[str, str]]] = {}
    if not member_ids:
        return titles
    rows = session.execute(_going_together(mine).where(Ticket.member_id.in_(member_ids))
                           .add_columns(Event.title_en, Event.title_zh)
                           .order_by(EventOccurrence.starts_at, Event.id))
    for member_id, _occurrence_id, title_en, title_zh in rows:
        known = titles.setdefault(member_id, [])
        if (title_en, title_zh) not in known:
            known.append((title_en, title_zh))
    return titles


def _event_reasons(titles: list[tuple[str, str]]) -> list:
    """The strongest reason first; the titles too are read in the viewer's language."""
    if not titles:
        return []
    return [_l("You're both going to %(events)s", events=LazyString(_titles_text, titles))]


def _titles_text(titles: list[tuple[str, str]]) -> str:
    chinese = str(get_locale() or "").startswith("zh")
    return ", ".join((chinese and title_zh) or title_en for title_en, title_zh in titles)


def _reasons(mine: _Mine, other: Member, interests: list[str],
             departure: date | None) -> list:
    """Why two members are introduced, as lazy strings (read in the viewer's language)."""
    reasons = []
    if interests:
        reasons.append(_l("You both like %(interests)s", interests=", ".join(interests)))
    theirs = set(languages_of(other))
    spoken = [language_name(code) for code in mine.languages if code in theirs]
    if spoken:
        reasons.append(_l("both speak %(languages)s", languages=", ".join(spoken)))
    city = (other.profile.home_city or "").strip() if other.profile is not None else ""
    if mine.city and city.lower() == mine.city:
        reasons.append(_l("both from %(city)s", city=city))
    nights = (min(departure, mine.departure) - mine.today).days \
        if departure and mine.departure else 0
    if nights > 0:
        reasons.append(_l("here together tonight") if nights == 1 else _ln(
            "here together for %(num)d more night", "here together for %(num)d more nights",
            nights))
    return reasons


def languages_of(member: Member) -> list[str]:
    """The member's profile languages that look like language codes, at most ten."""
    profile = member.profile
    codes = profile.languages if profile is not None and profile.languages else []
    return [c for c in codes if isinstance(c, str) and LANGUAGE_CODE.match(c)][:10]


def language_name(code: str) -> str:
    """A language by its own name: "English", "中文", "Français"."""
    if code in LANGUAGES:
        return LANGUAGES[code]
    try:
        name = Locale.parse(code.replace("-", "_")).get_display_name(code.replace("-", "_"))
    except (ValueError, UnknownLocaleError):
        return code
    return name[:1].upper() + name[1:] if name else code
