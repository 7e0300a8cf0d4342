"""Meeting people: who is here, suggestions, say hello, connections, blocks, places."""
from __future__ import annotations

from contextlib import contextmanager
from datetime import timedelta
from typing import Iterator

import pytest
import sqlalchemy as sa

from hotel_community.database import session, transaction, utcnow
from hotel_community.errors import Forbidden
from hotel_community.models import (
    Connection, GroupKind, Interest, Member, MemberInterest, Membership,
    Profile, StayStatus,
)
from hotel_community.services import connections, people
from hotel_community.services.access import today_at
from hotel_community.services.checkin import (
    GuestSnapshot, StaySnapshot, apply_staff_change, snapshot_of,
)
from hotel_community.services.properties import create_property, groups_by_kind
from tests.factories import check_in_by_hand, member_stay

_rooms = iter(range(100, 10_000))


# --- helpers -----------------------------------------------------------------------------------

def guest(prop, first: str, last: str = "Guest", visible: bool = True, *,
          interests: tuple[str, ...] = (), languages: tuple[str, ...] = (),
          home_city: str | None = None, contact: tuple[str, str] | None = None,
          nights: int = 2, **stay) -> Member:
    """A member checked in at ``prop`` (until ``nights`` from today), with a profile."""
    today = today_at(prop)
    stay.setdefault("departure", today + timedelta(days=nights))
    member = check_in_by_hand(prop, str(next(_rooms)), (first, last), **stay).guests[0].member
    with transaction():
        member.visible = visible
        session.add(Profile(member_id=member.id, languages=list(languages), home_city=home_city,
                            contact_kind=contact and contact[0],
                            contact_value=contact and contact[1]))
        for name in interests:
            interest = session.scalar(sa.select(Interest).where(Interest.slug == name.lower()))
            if interest is None:
                interest = Interest(slug=name.lower(), name=name)
                session.add(interest)
                session.flush()
            session.add(MemberInterest(member_id=member.id, interest_id=interest.id))
    session.expire_all()
    return session.get(Member, member.id)


def stay_group(prop):
    return groups_by_kind(prop)[GroupKind.stay]


def alumni(prop):
    return groups_by_kind(prop)[GroupKind.alumni]


def names(cards) -> list[str]:
    return [card.member.first_name for card in cards]


def suggested(member, prop) -> list[str]:
    return [s.card.member.first_name for s in people.suggestions(member, stay_group(prop))]


def check_out(member) -> None:
    stay = member_stay(member)
    apply_staff_change(stay.property, snapshot_of(stay, status=StayStatus.checked_out))
    session.expire_all()




def connect(a, b, prop) -> Connection:
    request = connections.say_hello(a.id, b.id, stay_group(prop).id)
    return connections.respond(b.id, request.id, accept=True)


@contextmanager
def counted() -> Iterator[list[str]]:
    engine = session.get_bind()
    seen: list[str] = []

    def listener(conn, cursor, statement, *args) -> None:
        seen.append(statement)

    sa.event.listen(engine, "before_cursor_execute", listener)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", listener)


# --- who is here -------------------------------------------------------------------------------

def test_who_is_here_lists_only_the_visible_in_house_members_of_the_group(app, prop):
    me = guest(prop, "Mei")
    shown = guest(prop, "Vera", home_city="Lisbon", languages=("pt",), interests=("Surfing",))
    guest(prop, "Hugo", visible=False)
    blocked_by_me = guest(prop, "Bob")
    blocking_me = guest(prop, "Ben")
    removed = guest(prop, "Rita")
    gone = guest(prop, "Otto")
    check_out(gone)
    other_prop = create_property("OTHER", "Other Hotel", "Asia/Shanghai")
    guest(other_prop, "Ines")
    connections.block(me.id, blocked_by_me.id)
    connections.block(blocking_me.id, me.id)
    with transaction():
        session.scalar(sa.select(Membership).where(
            Membership.member_id == removed.id, Membership.left_at.is_(None))).removed_at = utcnow()

    page = people.who_is_here(me, stay_group(prop))
    assert names(page.cards) == ["Vera"]
    card = page.cards[0]
    assert card.home_city == "Lisbon" and card.languages == ["Português"]
    assert card.interests == [("surfing", "Surfing")]
    assert card.relation is people.Relation.none
    assert page.next_cursor is None
    assert page.interests == [("surfing", "Surfing")]
    # The blocked and the blocking see nothing of the other either.
    assert "Mei" not in names(people.who_is_here(blocked_by_me, stay_group(prop)).cards)
    assert "Mei" not in names(people.who_is_here(blocking_me, stay_group(prop)).cards)
    assert shown.id in [c.member.id for c in people.who_is_here(blocking_me, stay_group(prop)).cards]


def test_the_filter_choices_name_no_interest_of_hidden_or_blocked_members(app, prop):
    me = guest(prop, "Mei")
    guest(prop, "Vera", interests=("Tea",))
    guest(prop, "Hugo", visible=False, interests=("Secret Hobby",))
    blocker = guest(prop, "Ben", interests=("Blocked Hobby",))
    connections.block(blocker.id, me.id)

    assert people.who_is_here(me, stay_group(prop)).interests == [("tea", "Tea")]


def test_an_alumni_community_offers_the_curated_interests_to_filter_by(app, prop):
    me = guest(prop, "Mei")
    guest(prop, "Vera", interests=("Free Hobby",))
    with transaction():
        session.add(Interest(slug="hiking", name="Hiking", curated=True))
    check_out(me)
    assert people.who_is_here(session.get(Member, me.id), alumni(prop)).interests == [
        ("hiking", "Hiking")]


def test_who_is_here_is_refused_outside_the_group(app, prop):
    me = guest(prop, "Mei")
    other_prop = create_property("OTHER", "Other Hotel", "Asia/Shanghai")
    with pytest.raises(Forbidden):
        people.who_is_here(me, stay_group(other_prop))
    check_out(me)
    with pytest.raises(Forbidden):
        people.who_is_here(me, stay_group(prop))
    # ...and the checked-out guest now sees the alumni community.
    assert people.who_is_here(me, alumni(prop)).cards == []


def test_who_is_here_filters_by_interest_and_language(app, prop):
    me = guest(prop, "Mei")
    guest(prop, "Ann", interests=("Hiking",), languages=("en",))
    guest(prop, "Bo", interests=("Hiking", "Tea"), languages=("zh", "en"))
    guest(prop, "Cy", interests=("Tea",), languages=("zh",))
    group = stay_group(prop)

    assert sorted(names(people.who_is_here(me, group, interest="hiking").cards)) == ["Ann", "Bo"]
    assert sorted(names(people.who_is_here(me, group, language="zh").cards)) == ["Bo", "Cy"]
    assert names(people.who_is_here(me, group, interest="tea", language="en").cards) == ["Bo"]
    assert names(people.who_is_here(me, group, interest="nothing").cards) == []
    # A language that is not a code is ignored rather than matched as a pattern.
    assert len(people.who_is_here(me, group, language='%"').cards) == 3


def test_who_is_here_pages_by_keyset_without_gaps_or_repeats(app, prop):
    me = guest(prop, "Mei")
    everyone = {guest(prop, f"P{n}").first_name for n in range(7)}
    group = stay_group(prop)

    seen, before = [], None
    for _ in range(5):
        page = people.who_is_here(me, group, before=before, limit=3)
        seen += names(page.cards)
        before = page.next_cursor
        if before is None:
            break
    assert sorted(seen) == sorted(everyone) and len(seen) == 7
    assert seen[0] == "P6"  # newest arrivals first


def test_who_is_here_costs_the_same_statements_for_3_or_30_members(app, prop):
    me = guest(prop, "Mei", interests=("Tea",), languages=("en",))

    def statements() -> int:
        session.expire_all()
        viewer = session.get(Member, me.id)
        group = stay_group(prop)
        with counted() as seen:
            page = people.who_is_here(viewer, group)
            [(c.name, c.photo_url, c.languages, c.interests) for c in page.cards]
            people.suggestions(viewer, group)
        return len(seen)

    for n in range(3):
        guest(prop, f"A{n}", interests=("Tea", f"X{n}"), languages=("en",))
    few = statements()
    for n in range(27):
        guest(prop, f"B{n}", interests=("Tea", f"Y{n}"), languages=("zh",))
    assert statements() == few


# --- suggestions -------------------------------------------------------------------------------

def test_suggestions_rank_by_what_two_share_and_say_why(app, prop):
    me = guest(prop, "Mei", interests=("Hiking", "Tea", "Jazz"), languages=("en", "zh"),
               home_city="Shanghai", nights=5)
    guest(prop, "Two", interests=("Hiking", "Tea"), nights=1)
    guest(prop, "Lang", languages=("zh",), home_city=" shanghai ", nights=4)
    guest(prop, "One", interests=("jazz",), nights=1)
    guest(prop, "Nothing", nights=0)

    result = people.suggestions(me, stay_group(prop))
    assert [s.card.member.first_name for s in result] == ["Two", "Lang", "One"]
    two, lang, one = result
    with app.test_request_context():  # reasons are read in the viewer's language
        assert [str(r) for r in two.reasons] == ["You both like Hiking, Tea",
                                                 "here together tonight"]
        assert [str(r) for r in lang.reasons] == ["both speak 中文", "both from shanghai",
                                                  "here together for 4 more nights"]
        assert [str(r) for r in one.reasons] == ["You both like Jazz", "here together tonight"]
    # Two shared interests beat a shared language, a home city and three nights together.
    assert two.score > lang.score > one.score


def test_suggestions_never_show_hidden_blocked_connected_or_asked_members(app, prop):
    me = guest(prop, "Mei", interests=("Tea",))
    group = stay_group(prop)
    hidden = guest(prop, "Hidden", visible=False, interests=("Tea",))
    blocked = guest(prop, "Blocked", interests=("Tea",))
    blocker = guest(prop, "Blocker", interests=("Tea",))
    connected = guest(prop, "Connected", interests=("Tea",))
    asked = guest(prop, "Asked", interests=("Tea",))
    asker = guest(prop, "Asker", interests=("Tea",))
    declined = guest(prop, "Declined", interests=("Tea",))
    guest(prop, "Fine", interests=("Tea",))
    elsewhere = create_property("OTHER", "Other Hotel", "Asia/Shanghai")
    guest(elsewhere, "Away", interests=("Tea",))
    connections.block(me.id, blocked.id)
    connections.block(blocker.id, me.id)
    connect(me, connected, prop)
    connections.say_hello(me.id, asked.id, group.id)
    connections.say_hello(asker.id, me.id, group.id)
    request = connections.say_hello(declined.id, me.id, group.id)
    connections.respond(me.id, request.id, accept=False)

    assert suggested(me, prop) == ["Fine"]
    assert hidden.id and "Mei" not in suggested(blocker, prop)
    assert "Mei" not in suggested(blocked, prop)


def test_a_hidden_member_gets_no_suggestions_and_an_alumnus_none_either(app, prop):
    me = guest(prop, "Mei", visible=False, interests=("Tea",))
    guest(prop, "Vera", interests=("Tea",))
    assert suggested(me, prop) == []
    with transaction():
        me.visible = True
    assert suggested(me, prop) == ["Vera"]
    check_out(me)
    assert people.suggestions(session.get(Member, me.id), alumni(prop)) == []


# --- the chain -------------------------------------------------------------------------------------

def chain_stay(prop, status: str, arrival, departure) -> Member:
    """Mei's stay at ``prop``: her e-mail makes her one member across the chain."""
    snapshot = StaySnapshot(
        reservation_id=f"R-{next(_rooms)}", status=StayStatus(status), room="1",
        arrival=arrival, departure=departure,
        guests=(GuestSnapshot("Mei", "Chen", email="mei@example.com", primary=True),))
    return apply_staff_change(prop, snapshot).stay.guests[0].member


def test_places_lists_each_property_of_the_chain_the_member_stayed_at(app, prop):
    harbour = create_property("HARB", "Harbour Hotel", "Asia/Shanghai")
    hill = create_property("HILL", "Hill Hotel", "Asia/Shanghai")
    create_property("NEVER", "Never Hotel", "Asia/Shanghai")
    today = today_at(prop)
    day = timedelta(days=1)
    mei = chain_stay(harbour, "checked_out", today - 30 * day, today - 27 * day)
    assert chain_stay(hill, "checked_out", today - 9 * day, today - 7 * day).id == mei.id
    assert chain_stay(prop, "in_house", today - day, today + day).id == mei.id

    found = people.places(mei.id)
    assert [(p.property.code, p.in_house, p.group.kind) for p in found] == [
        ("TEST", True, GroupKind.stay), ("HILL", False, GroupKind.alumni),
        ("HARB", False, GroupKind.alumni)]
    assert found[2].last_departure == today - 27 * day
    # Back at the harbour: in its stay group again, first in the list.
    chain_stay(harbour, "in_house", today, today + day)
    assert [p.property.code for p in people.places(mei.id)][:2] == ["HARB", "TEST"] or \
        [p.property.code for p in people.places(mei.id)][:2] == ["TEST", "HARB"]


def test_current_group_prefers_the_signed_in_stays_property(app, prop):
    other = create_property("OTHER", "Other Hotel", "Asia/Shanghai")
    mei = guest(prop, "Mei")
    assert people.current_group(mei.id, None).id == stay_group(prop).id
    assert people.current_group(mei.id, member_stay(mei).id).id == stay_group(prop).id
    check_out(mei)
    assert people.current_group(mei.id, member_stay(mei).id).id == alumni(prop).id
    assert people.current_group(guest(other, "Ines").id, member_stay(mei).id).id == \
        stay_group(other).id
