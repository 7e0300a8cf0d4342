"""Community health: exact figures for a seeded property, days in the property's time zone."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import event

from hotel_community.database import session, transaction
from hotel_community.models import (
    Connection, ConnectionStatus, GroupKind, Member, Post, PostKind, Property,
)
from hotel_community.services import community, health
from hotel_community.services.properties import create_property, groups_by_kind
from tests.factories import check_in_by_hand

TODAY = date(2026, 11, 24)  # at the test property, Asia/Shanghai (UTC+8, no DST)
ACCEPTED, PENDING, DECLINED = (ConnectionStatus.accepted, ConnectionStatus.pending,
                               ConnectionStatus.declined)


def day_index(day: date, today: date = TODAY) -> int:
    return health.WINDOW_DAYS - 1 - (today - day).days


def members_of(prop: Property, room: str, *names: tuple[str, str], **stay) -> list[Member]:
    return [g.member for g in check_in_by_hand(prop, room, *names, **stay).guests]


def checked_out(prop: Property, room: str, departure: date,
                *names: tuple[str, str]) -> list[Member]:
    return members_of(prop, room, *names, status="checked_out",
                      arrival=departure - timedelta(days=3), departure=departure)


def post(prop: Property, at: datetime, author: Member | None = None,
         group: GroupKind = GroupKind.stay, **columns) -> Post:
    with transaction():
        row = Post(group_id=groups_by_kind(prop)[group].id, author_id=author and author.id,
                   body="hello", created_at=at, **columns)
        session.add(row)
    return row


def connect(prop: Property, a: Member, b: Member, created: datetime,
            status: ConnectionStatus = ACCEPTED, responded: datetime | None = None) -> None:
    with transaction():
        session.add(Connection(requester_id=a.id, addressee_id=b.id, property_id=prop.id,
                               status=status, created_at=created, responded_at=responded))


@pytest.fixture
def other(app) -> Property:
    return create_property("OTHER", "Other Hotel", "Asia/Shanghai", "CNY")


def test_the_window_is_the_last_30_local_days(app, prop):
    figures = health.community_health(prop, TODAY)
    assert figures.days[0] == date(2026, 10, 26) and figures.days[-1] == TODAY
    assert len(figures.days) == len(figures.posts) == len(figures.introductions) == 30
    bounds = health.day_bounds(prop, figures.days)
    assert bounds[0] == datetime(2026, 10, 25, 16, 0) and bounds[-1] == datetime(2026, 11, 24, 16)


def test_in_house_members_and_the_share_who_opted_in(app, prop, other):
    mei, _ = members_of(prop, "1204", ("Mei", "Chen"), ("Ana", "Lopez"))
    members_of(prop, "1301", ("Tom", "Berg"))
    (gone,) = checked_out(prop, "900", date(2026, 11, 1), ("Old", "Guest"))
    (elsewhere,) = members_of(other, "1", ("Sam", "Roe"))
    for member in (mei, gone, elsewhere):
        community.set_visible(member.id, True)

    figures = health.community_health(prop, TODAY)

    assert (figures.in_house, figures.opted_in) == (3, 1)
    assert figures.opted_in_share == pytest.approx(1 / 3)


def test_nobody_in_house_has_no_share(app, prop):
    figures = health.community_health(prop, TODAY)
    assert (figures.in_house, figures.opted_in, figures.opted_in_share) == (0, 0, None)
    assert figures.posts == [0] * 30 and figures.lasting_share is None


def test_posts_per_local_day(app, prop, other):
    (mei,) = members_of(prop, "1204", ("Mei", "Chen"))
    (sam,) = members_of(other, "1", ("Sam", "Roe"))
    post(prop, datetime(2026, 11, 23, 15, 59, 59), mei)   # 23:59:59 on the 23rd in Shanghai
    post(prop, datetime(2026, 11, 23, 16, 0, 0), mei)     # midnight: the 24th
    post(prop, datetime(2026, 11, 24, 15, 59, 59), mei)   # the last second of today
    post(prop, datetime(2026, 11, 24, 16, 0, 0), mei)     # tomorrow: not counted
    post(prop, datetime(2026, 10, 25, 16, 0, 0), mei)     # the first second of the window
    post(prop, datetime(2026, 10, 25, 15, 59, 59), mei)   # before it: not counted
    parent = post(prop, datetime(2026, 11, 20, 1, 0), mei)
    post(prop, datetime(2026, 11, 20, 2, 0), mei, parent_id=parent.id)  # a reply counts
    post(prop, datetime(2026, 11, 20, 3, 0), mei, GroupKind.alumni)      # so does the alumni feed
    post(prop, datetime(2026, 11, 20, 4, 0), mei, hidden_at=datetime(2026, 11, 21))  # written
    announcement = {"kind": PostKind.announcement, "staff_author": "Desk"}
    post(prop, datetime(2026, 11, 20, 5, 0), None, **announcement)      # staff's: not counted
    post(other, datetime(2026, 11, 20, 6, 0), sam)                       # another hotel's

    posts = health.community_health(prop, TODAY).posts

    expected = [0] * 30
    expected[day_index(date(2026, 11, 23))] = 1
    expected[day_index(TODAY)] = 2
    expected[0] = 1
    expected[day_index(date(2026, 11, 20))] = 4
    assert posts == expected


def test_introductions_made_and_accepted_per_local_day(app, prop, other):
    a, b, c, d = members_of(prop, "1204", ("Ann", "A"), ("Bob", "B"), ("Cat", "C"), ("Dan", "D"))
    connect(prop, a, b, datetime(2026, 11, 1, 2, 0), ACCEPTED,
            responded=datetime(2026, 11, 2, 15, 30))          # made Nov 1, accepted Nov 2 23:30
    connect(prop, a, c, datetime(2026, 11, 2, 16, 30), PENDING)  # 00:30 on Nov 3 in Shanghai
    connect(prop, b, c, datetime(2026, 11, 3, 0, 0), DECLINED,
            responded=datetime(2026, 11, 3, 1, 0))             # made Nov 3, never accepted
    connect(prop, c, d, datetime(2026, 10, 1, 0, 0), ACCEPTED,
            responded=datetime(2026, 10, 27, 1, 0))            # made before, accepted in window
    connect(prop, b, d, datetime(2026, 11, 5, 0, 0), ACCEPTED)  # no response time: when made
    connect(other, a, d, datetime(2026, 11, 1, 2, 0), ACCEPTED,
            responded=datetime(2026, 11, 1, 3, 0))             # another hotel's

    figures = health.community_health(prop, TODAY)

    made, accepted = [0] * 30, [0] * 30
    made[day_index(date(2026, 11, 1))] = 1
    made[day_index(date(2026, 11, 3))] = 2
    made[day_index(date(2026, 11, 5))] = 1
    accepted[day_index(date(2026, 11, 2))] = 1
    accepted[day_index(date(2026, 10, 27))] = 1
    accepted[day_index(date(2026, 11, 5))] = 1
    assert figures.introductions == made
    assert figures.accepted == accepted


def test_connections_still_active_30_days_after_check_out(app, prop, other):
    cutoff = TODAY - timedelta(days=30)  # 25 Oct
    long_ago = checked_out(prop, "801", date(2026, 9, 1), ("Ann", "A"), ("Bob", "B"))
    just_30 = checked_out(prop, "802", cutoff, ("Cat", "C"), ("Dan", "D"))
    just_29 = checked_out(prop, "803", cutoff + timedelta(days=1), ("Eve", "E"), ("Fay", "F"))
    (early,) = checked_out(prop, "804", date(2026, 9, 1), ("Gus", "G"))
    (recent,) = checked_out(prop, "805", date(2026, 11, 10), ("Hal", "H"))
    elsewhere = checked_out(other, "806", date(2026, 9, 1), ("Ida", "I"), ("Jon", "J"))
    in_house = members_of(prop, "807", ("Kim", "K"), ("Lou", "L"))
    made = datetime(2026, 8, 1)

    connect(prop, *long_ago, made)                    # lasting
    connect(prop, *just_30, made)                     # lasting: checked out exactly 30 days ago
    connect(prop, *just_29, made)                     # not yet
    connect(prop, early, recent, made)                # one of them left only recently
    connect(prop, *elsewhere, made)                   # their stays were at another hotel
    connect(prop, *in_house, made)                    # still here
    connect(prop, long_ago[0], just_30[0], made, PENDING)   # never accepted
    connect(prop, long_ago[1], just_30[1], made, DECLINED)
    connect(other, long_ago[0], just_30[1], made)     # made at another hotel

    figures = health.community_health(prop, TODAY)

    assert (figures.lasting, figures.connections) == (2, 6)
    assert figures.lasting_share == pytest.approx(2 / 6)


def test_days_follow_daylight_saving_in_the_propertys_time_zone(app):
    new_york = create_property("NYC", "Hudson Hotel", "America/New_York", "USD")
    today = date(2026, 11, 10)                         # summer time ended on 1 Nov 2026
    post(new_york, datetime(2026, 10, 25, 3, 59, 59))  # 23:59:59 EDT on 24 Oct
    post(new_york, datetime(2026, 10, 25, 4, 0, 0))    # 00:00 EDT on 25 Oct
    post(new_york, datetime(2026, 11, 5, 4, 59, 59))   # 23:59:59 EST on 4 Nov
    post(new_york, datetime(2026, 11, 5, 5, 0, 0))     # 00:00 EST on 5 Nov

    figures = health.community_health(new_york, today)

    counted = {figures.days[i]: n for i, n in enumerate(figures.posts) if n}
    assert counted == {date(2026, 10, 24): 1, date(2026, 10, 25): 1, date(2026, 11, 4): 1,
                       date(2026, 11, 5): 1}
    bounds = health.day_bounds(new_york, figures.days)
    lengths = {figures.days[i]: bounds[i + 1] - bounds[i] for i in range(30)}
    assert lengths[date(2026, 11, 1)] == timedelta(hours=25)
    assert set(lengths.values()) == {timedelta(hours=24), timedelta(hours=25)}


def test_half_hour_time_zones(app):
    kolkata = create_property("BOM", "Bay Hotel", "Asia/Kolkata", "INR")  # UTC+5:30
    post(kolkata, datetime(2026, 11, 23, 18, 29, 59))  # 23:59:59 on the 23rd
    post(kolkata, datetime(2026, 11, 23, 18, 30, 0))   # midnight: the 24th
    posts = health.community_health(kolkata, TODAY).posts
    assert posts[-2:] == [1, 1] and sum(posts) == 2


def test_the_queries_do_not_grow_with_the_data(app, prop):
    engine = app.extensions["sqlalchemy"].engine

    def statements() -> int:
        seen: list[str] = []
        listener = lambda *args: seen.append(args[2])
        event.listen(engine, "before_cursor_execute", listener)
        try:
            session.expire_all()
            health.community_health(session.get(Property, prop.id), TODAY)
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        return len(seen)

    few = statements()
    members = members_of(prop, "1204", ("Ann", "A"), ("Bob", "B"), ("Cat", "C"))
    for n in range(40):
        post(prop, datetime(2026, 11, 1) + timedelta(hours=n * 7), members[n % 3])
    connect(prop, members[0], members[1], datetime(2026, 11, 2), ACCEPTED,
            responded=datetime(2026, 11, 3))
    connect(prop, members[1], members[2], datetime(2026, 11, 4), PENDING)
    assert statements() == few
