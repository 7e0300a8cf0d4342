"""The check-in service: stay snapshots in, stay group and alumni memberships out."""
from __future__ import annotations

import random
from contextlib import ExitStack, contextmanager
from datetime import date
from typing import Any, Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select

from hotel_community import signals
from hotel_community.database import session
from hotel_community.models import GuestIdentity, Member, Membership, PmsEvent, Stay, StayStatus
from hotel_community.services import checkin
from hotel_community.services.properties import create_property, get_property
from tests.factories import community_state, event, guest, load_event, run_at_once


def apply(prop, **kwargs: Any) -> checkin.Outcome:
    return checkin.apply_event(prop, load_event(event(prop=prop.code, **kwargs)))


def state(prop) -> dict[str, Any]:
    return community_state(prop)


def member_named(first: str, last: str) -> Member:
    return session.scalars(select(Member).where(Member.first_name == first,
                                                Member.last_name == last)).one()


def inbox(prop, event_id: str) -> PmsEvent:
    session.expire_all()
    return session.scalars(select(PmsEvent).where(PmsEvent.property_id == prop.id,
                                                  PmsEvent.event_id == event_id)).one()


@contextmanager
def received(app, *watched) -> Iterator[list[tuple[str, dict[str, Any]]]]:
    """Record (signal name, kwargs) of every signal in ``watched`` sent by ``app``."""
    calls: list[tuple[str, dict[str, Any]]] = []
    with ExitStack() as stack:
        for signal in watched:
            def receiver(sender, _name=signal.name, **kwargs):
                assert sender is app
                calls.append((_name, kwargs))
            stack.enter_context(signal.connected_to(receiver, sender=app))
        yield calls


ALL_SIGNALS = (signals.member_checked_in, signals.member_checked_out,
               signals.member_moved_room, signals.member_stay_ended)
MEI, WEI = guest("Mei", "Chen"), guest("Wei", "Li")


# -- check-in, check-out, cancellation ---------------------------------------------------

def test_check_in_puts_every_guest_of_the_stay_in_the_stay_group(prop):
    outcome = apply(prop, guests=[MEI, WEI], room="1204")

    assert outcome.result == "applied"
    assert outcome.stay.status is StayStatus.in_house and outcome.stay.room == "1204"
    assert state(prop) == {"stays": {"R1": ("in_house", "1204", ("Mei Chen", "Wei Li"))},
                           "stay_group": ["Mei Chen", "Wei Li"], "alumni": [], "members": 2}


def test_an_expected_stay_puts_nobody_in_a_group(prop):
    apply(prop, status="expected", guests=[MEI])

    assert state(prop)["stay_group"] == [] and state(prop)["alumni"] == []
    assert session.scalar(select(func.count()).select_from(Membership)) == 0


def test_check_out_moves_the_guests_from_the_stay_group_to_the_alumni(prop):
    apply(prop, guests=[MEI, WEI], minute=0)
    apply(prop, status="checked_out", guests=[MEI, WEI], minute=10)

    result = state(prop)
    assert result["stay_group"] == []
    assert result["alumni"] == ["Mei Chen", "Wei Li"]
    mei = member_named("Mei", "Chen")
    rows = session.scalars(select(Membership).where(Membership.member_id == mei.id)
                           .order_by(Membership.id)).all()
    # The stay-group membership is closed, not deleted; the alumni one is open.
    assert [(row.role, row.left_at is None) for row in rows] == [("guest", False), ("alumni", True)]


@pytest.mark.parametrize("status", ["cancelled", "no_show"])
def test_cancelled_or_no_show_takes_the_guests_out_without_alumni(prop, status):
    apply(prop, guests=[MEI, WEI], minute=0)
    outcome = apply(prop, status=status, guests=[MEI, WEI], minute=5)

    assert outcome.result == "applied"
    assert state(prop) == {"stays": {"R1": (status, "1204", ("Mei Chen", "Wei Li"))},
                           "stay_group": [], "alumni": [], "members": 2}


def test_a_room_change_is_a_room_move(app, prop):
    apply(prop, guests=[MEI, WEI], room="1204", minute=0)
    membership_ids = {m.id for m in checkin.stay_group_members(prop)}

    with received(app, *ALL_SIGNALS) as calls:
        outcome = apply(prop, guests=[MEI, WEI], room="1510", minute=5)

    assert outcome.result == "applied" and outcome.stay.room == "1510"
    assert sorted((name, kw["member"].first_name, kw["old_room"], kw["new_room"])
                  for name, kw in calls) == [
        ("member-moved-room", "Mei", "1204", "1510"), ("member-moved-room", "Wei", "1204", "1510")]
    # The guests stay in the group: same memberships, nobody left and re-joined.
    assert {m.id for m in checkin.stay_group_members(prop)} == membership_ids
    assert state(prop)["stays"]["R1"][1] == "1510"


def test_a_reversed_check_in_takes_the_guests_out_of_the_stay_group(app, prop):
    apply(prop, guests=[MEI], minute=0)
    with received(app, *ALL_SIGNALS) as calls:
        outcome = apply(prop, status="expected", guests=[MEI], minute=5)

    assert outcome.result == "applied"
    assert state(prop)["stay_group"] == [] and state(prop)["alumni"] == []
    assert [(name, kw["status"]) for name, kw in calls] == [("member-stay-ended", "expected")]

    apply(prop, guests=[MEI], minute=10)  # checked in again, for real this time
    assert state(prop)["stay_group"] == ["Mei Chen"]


def test_a_reversed_check_out_puts_the_guests_back_in_the_stay_group(app, prop):
    apply(prop, guests=[MEI], minute=0)
    apply(prop, status="checked_out", guests=[MEI], minute=5)
    with received(app, *ALL_SIGNALS) as calls:
        outcome = apply(prop, status="in_house", guests=[MEI], minute=10)

    assert outcome.result == "applied"
    result = state(prop)
    assert result["stay_group"] == ["Mei Chen"]
    # The check-out was a mistake: the only stay is in house, so no alumni membership.
    assert result["alumni"] == []
    assert [name for name, _ in calls] == ["member-checked-in"]


def test_several_guests_share_a_reservation_and_join_and_leave_together(prop):
    guests = [guest("Mei", "Chen", primary=True), WEI, guest("Ana", "Silva")]
    outcome = apply(prop, guests=guests)

    assert [(g.member.first_name, g.is_primary) for g in outcome.stay.guests] == [
        ("Mei", True), ("Wei", False), ("Ana", False)]
    assert state(prop)["stay_group"] == ["Ana Silva", "Mei Chen", "Wei Li"]
    apply(prop, status="checked_out", guests=guests, minute=5)
    assert state(prop)["stay_group"] == []
    assert state(prop)["alumni"] == ["Ana Silva", "Mei Chen", "Wei Li"]


def test_a_guest_taken_off_the_stay_leaves_the_stay_group(app, prop):
    apply(prop, guests=[MEI, WEI], minute=0)
    with received(app, *ALL_SIGNALS) as calls:
        apply(prop, guests=[MEI], minute=5)

    assert state(prop) == {"stays": {"R1": ("in_house", "1204", ("Mei Chen",))},
                           "stay_group": ["Mei Chen"], "alumni": [], "members": 1}
    assert [(name, kw["member"].first_name, kw["status"]) for name, kw in calls] == [
        ("member-stay-ended", "Wei", "removed")]


def test_a_guest_added_to_an_in_house_stay_joins_the_stay_group(app, prop):
    apply(prop, guests=[MEI], minute=0)
    with received(app, *ALL_SIGNALS) as calls:
        apply(prop, guests=[MEI, WEI], minute=5)

    assert state(prop)["stay_group"] == ["Mei Chen", "Wei Li"]
    assert [(name, kw["member"].first_name) for name, kw in calls] == [("member-checked-in", "Wei")]


def test_a_returning_guest_with_the_same_pms_guest_id_is_the_same_member(prop):
    first = apply(prop, reservation_id="R1", guests=[guest("Mei", "Chen", "G-7")], minute=0)
    member_id = first.stay.guests[0].member_id
    apply(prop, reservation_id="R1", status="checked_out", guests=[guest("Mei", "Chen", "G-7")],
          minute=5)
    # Months later, with a new surname spelling and an e-mail: still the same person.
    again = apply(prop, reservation_id="R2", arrival=date(2027, 3, 1), minute=60,
                  guests=[guest("Mei", "Chen-Wu", "G-7", email="mei@example.com")])

    assert again.stay.guests[0].member_id == member_id
    assert session.scalar(select(func.count()).select_from(Member)) == 1
    result = state(prop)
    assert result["stay_group"] == ["Mei Chen-Wu"] and result["alumni"] == ["Mei Chen-Wu"]
    assert session.get(Member, member_id).email == "mei@example.com"


def test_a_returning_guest_with_the_same_email_at_another_property_is_the_same_member(prop):
    other = create_property("SECOND", "Second Hotel")
    here = apply(prop, guests=[guest("Mei", "Chen", "G-1", email="Mei@Example.com")])
    there = apply(other, guests=[guest("Mei", "Chen", "X-99", email="MEI@example.COM")])

    assert here.stay.guests[0].member_id == there.stay.guests[0].member_id
    assert session.scalar(select(func.count()).select_from(Member)) == 1
    assert state(prop)["stay_group"] == ["Mei Chen"] and state(other)["stay_group"] == ["Mei Chen"]
    # Her PMS id at the second property now leads to her too.
    identities = session.scalars(select(GuestIdentity.pms_guest_id)
                                 .order_by(GuestIdentity.pms_guest_id)).all()
    assert identities == ["G-1", "X-99"]


def test_a_guest_without_ids_is_recognised_on_the_same_stay_by_name(prop):
    nameless = {"pms_guest_id": None, "first_name": "Ana", "last_name": "Silva"}
    apply(prop, guests=[nameless], minute=0)
    apply(prop, guests=[{**nameless, "email": "ana@example.com"}], room="0801", minute=5)

    assert session.scalar(select(func.count()).select_from(Member)) == 1
    assert state(prop)["stay_group"] == ["Ana Silva"]


def test_a_member_with_two_in_house_stays_stays_in_the_group_when_one_checks_out(prop):
    mei = guest("Mei", "Chen", "G-7")
    apply(prop, reservation_id="R1", room="1204", guests=[mei], minute=0)
    apply(prop, reservation_id="R2", room="1205", guests=[mei], minute=1)  # a second room
    apply(prop, reservation_id="R1", status="checked_out", room="1204", guests=[mei], minute=5)

    result = state(prop)
    assert result["stay_group"] == ["Mei Chen"]
    assert result["members"] == 1

    apply(prop, reservation_id="R2", status="checked_out", room="1205", guests=[mei], minute=9)
    assert state(prop)["stay_group"] == []
    assert state(prop)["alumni"] == ["Mei Chen"]


def test_staff_changes_are_applied_like_pms_events(prop):
    snapshot = load_event(event(guests=[MEI])).stay
    checkin.apply_staff_change(prop, snapshot)
    stay = checkin.find_stay(prop, "R1")
    checkin.apply_staff_change(prop, checkin.snapshot_of(stay, status=StayStatus.checked_out))

    assert state(prop)["stay_group"] == [] and state(prop)["alumni"] == ["Mei Chen"]
    sources = session.scalars(select(PmsEvent.source)).all()
    assert sources == ["staff", "staff"]


# -- signals -----------------------------------------------------------------------------

def test_signals_are_sent_after_commit_with_the_documented_arguments(app, prop):
    engine = app.extensions["sqlalchemy"].engine
    seen: list[tuple[str, Any, Any]] = []

    def stored_status(reservation_id: str) -> str | None:
        # A connection of its own: it sees only what has been committed.
        with engine.connect() as connection:
            return connection.scalar(sa.text(
                "SELECT status FROM hc_stay WHERE reservation_id = :r"), {"r": reservation_id})

    def on_in(sender, member, stay, property):
        seen.append(("in", member.full_name, stored_status(stay.reservation_id)))
        assert property.code == "TEST"

    def on_out(sender, member, stay, property):
        seen.append(("out", member.full_name, stored_status(stay.reservation_id)))

    def on_moved(sender, member, stay, property, old_room, new_room):
        seen.append(("moved", member.full_name, (old_room, new_room, stay.room)))

    with signals.member_checked_in.connected_to(on_in, sender=app), \
            signals.member_checked_out.connected_to(on_out, sender=app), \
            signals.member_moved_room.connected_to(on_moved, sender=app):
        apply(prop, guests=[MEI], room="1204", minute=0)
        apply(prop, guests=[MEI], room="0801", minute=1)
        apply(prop, status="checked_out", guests=[MEI], room="0801", minute=2)

    assert seen == [("in", "Mei Chen", "in_house"),
                    ("moved", "Mei Chen", ("1204", "0801", "0801")),
                    ("out", "Mei Chen", "checked_out")]


def test_no_signal_when_the_transaction_fails(app, prop):
    from hotel_community.errors import ServiceUnavailable

    with received(app, *ALL_SIGNALS) as calls:
        with pytest.raises(ServiceUnavailable):
            with _failing_inserts_into(app, "hc_membership"):
                apply(prop, guests=[MEI])
    assert calls == []


def test_a_check_out_that_overtakes_its_check_in_still_signals_the_check_out(app, prop):
    with received(app, *ALL_SIGNALS) as calls:
        apply(prop, status="checked_out", guests=[MEI], minute=10)  # arrives first
        late = apply(prop, status="in_house", guests=[MEI], minute=0)

    assert late.result == "stale"
    assert [(name, kw["member"].first_name) for name, kw in calls] == [
        ("member-checked-out", "Mei")]
    assert state(prop)["alumni"] == ["Mei Chen"]


# -- exactly once, newest wins -----------------------------------------------------------

def test_the_same_event_id_twice_is_a_duplicate_and_changes_nothing(app, prop):
    first = event(guests=[MEI], event_id="evt-A", minute=0)
    assert checkin.apply_event(prop, load_event(first)).result == "applied"
    before = state(prop)

    # Redelivered, even with a different body (and a newer time), the id decides.
    again = event(status="checked_out", guests=[WEI], event_id="evt-A", minute=30)
    with received(app, *ALL_SIGNALS) as calls:
        outcome = checkin.apply_event(prop, load_event(again))

    assert outcome.result == "duplicate"
    assert outcome.stay.reservation_id == "R1"
    assert calls == []
    assert state(prop) == before
    row = inbox(prop, "evt-A")
    assert (row.deliveries, row.result) == (2, "applied")
    assert session.scalar(select(func.count()).select_from(PmsEvent)) == 1


def test_the_same_event_id_at_two_properties_is_two_events(prop):
    other = create_property("SECOND", "Second Hotel")
    assert apply(prop, event_id="evt-A").result == "applied"
    assert apply(other, event_id="evt-A").result == "applied"


def test_a_snapshot_older_than_the_stored_one_is_stale_and_changes_nothing(app, prop):
    apply(prop, guests=[MEI], room="1204", minute=10, event_id="new")
    before = state(prop)

    with received(app, *ALL_SIGNALS) as calls:
        outcome = apply(prop, status="cancelled", guests=[WEI], room="0101", minute=5,
                        event_id="old")

    assert outcome.result == "stale"
    assert calls == []
    assert state(prop) == before
    stay = checkin.find_stay(prop, "R1")
    assert stay.last_event_id == "new"
    assert inbox(prop, "old").result == "stale"
    assert session.scalar(select(func.count()).where(Member.first_name == "Wei")) == 0


def test_a_database_failure_leaves_nothing_half_written(app, prop):
    from hotel_community.errors import ServiceUnavailable

    with pytest.raises(ServiceUnavailable), _failing_inserts_into(app, "hc_membership"):
        apply(prop, guests=[MEI], event_id="evt-A")

    for model in (Stay, PmsEvent, Member, Membership, GuestIdentity):
        assert session.scalar(select(func.count()).select_from(model)) == 0, model
    # The PMS retries the same event: it is applied, not taken for a duplicate.
    assert apply(prop, guests=[MEI], event_id="evt-A").result == "applied"
    assert state(prop)["stay_group"] == ["Mei Chen"]


@contextmanager
def _failing_inserts_into(app, table: str) -> Iterator[None]:
    """Make the database fail (a real driver-level error) on INSERTs into ``table``."""
    engine = app.extensions["sqlalchemy"].engine

    def fail(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith(f"INSERT INTO {table.upper()}"):
            raise sa.exc.OperationalError(statement, parameters, Exception("database went away"))

    sa.event.listen(engine, "before_cursor_execute", fail)
    try:
        yield
    finally:
        sa.event.remove(engine, "before_cursor_execute", fail)


# -- the acceptance test: a messy replay ends where the ordered events end ----------------

def _story(code: str) -> list[dict[str, Any]]:
    """A day at a hotel: check-ins, a shared room, moves, check-outs, a cancellation."""
    mei, wei = guest("Mei", "Chen", "G-MEI"), guest("Wei", "Li", "G-WEI")
    anna, tom = guest("Anna", "Berg", "G-ANNA"), guest("Tom", "Berg", "G-TOM")
    sam, olu = guest("Sam", "Park", "G-SAM"), guest("Olu", "Ade", "G-OLU")
    kai_first = guest("Kai", "Wu", "G-KAI-1", email=f"kai.{code.lower()}@example.com")
    kai_again = guest("Kai", "Wu", "G-KAI-2", email=f"KAI.{code}@example.com")
    noor = guest("Noor", "Haddad", "G-NOOR")

    def ev(minute: int, reservation_id: str, status: str, room: str | None, guests):
        return event(reservation_id=reservation_id, status=status, room=room, guests=guests,
                     minute=minute, prop=code, event_id=f"{code}-{reservation_id}-{minute}")

    return [
        ev(0, "R1", "expected", None, [mei]),
        ev(2, "R3", "expected", None, [sam]),
        ev(5, "R2", "in_house", "0801", [anna]),
        ev(8, "R7", "in_house", "0303", [kai_first]),
        ev(10, "R1", "in_house", "1204", [mei, wei]),         # a second guest on arrival
        ev(12, "R5", "in_house", "0505", [olu]),
        ev(14, "R5", "expected", None, [olu]),                # checked in by mistake
        ev(15, "R3", "cancelled", None, [sam]),
        ev(18, "R6", "no_show", None, [noor]),
        ev(20, "R2", "in_house", "0801", [anna, tom]),        # Tom joins Anna
        ev(30, "R1", "in_house", "1510", [mei, wei]),         # room move
        ev(35, "R7", "checked_out", "0303", [kai_first]),
        ev(40, "R2", "in_house", "0802", [tom]),              # Anna leaves, Tom moves
        ev(50, "R4", "in_house", "1602", [mei]),              # Mei takes a second room
        ev(60, "R5", "in_house", "0506", [olu]),
        ev(70, "R8", "in_house", "0707", [kai_again]),        # Kai is back: same e-mail
        ev(90, "R5", "checked_out", "0506", [olu]),
        ev(95, "R5", "in_house", "0506", [olu]),              # the check-out is reversed
        ev(100, "R1", "checked_out", "1510", [mei, wei]),     # Mei still has R4
    ]


def _messy(events: list[dict[str, Any]], seed: int) -> list[dict[str, Any]]:
    """The same events shuffled, a third of them delivered again, some re-sent late."""
    rng = random.Random(seed)
    messy = list(events)
    for original in rng.sample(events, len(events) // 3):        # duplicates: same id
        messy.insert(rng.randrange(len(messy) + 1), original)
    for original in rng.sample(events, 3):                         # late re-sends: new id
        messy.append({**original, "id": original["id"] + "-resent"})
    rng.shuffle(messy)
    return messy


EXPECTED_END = {
    "stays": {
        "R1": ("checked_out", "1510", ("Mei Chen", "Wei Li")),
        "R2": ("in_house", "0802", ("Tom Berg",)),
        "R3": ("cancelled", None, ("Sam Park",)),
        "R4": ("in_house", "1602", ("Mei Chen",)),
        "R5": ("in_house", "0506", ("Olu Ade",)),
        "R6": ("no_show", None, ("Noor Haddad",)),
        "R7": ("checked_out", "0303", ("Kai Wu",)),
        "R8": ("in_house", "0707", ("Kai Wu",)),
    },
    "stay_group": ["Kai Wu", "Mei Chen", "Olu Ade", "Tom Berg"],
    "alumni": ["Kai Wu", "Mei Chen", "Wei Li"],
    # Mei and Kai are one member each across their two stays; Anna left R2, so no stay names her.
    "members": 7,
}


@pytest.mark.parametrize("seed", [1, 7, 2026])
def test_a_replay_of_duplicated_late_and_out_of_order_events_ends_like_the_ordered_events(
        prop, seed):
    replay = create_property("REPLAY", "Replay Hotel")
    for payload in _story(prop.code):
        assert checkin.apply_event(prop, load_event(payload)).result == "applied"
    in_order = state(prop)
    assert in_order == EXPECTED_END

    messy = _messy(_story(replay.code), seed)
    results = [checkin.apply_event(replay, load_event(payload)).result for payload in messy]

    assert state(replay) == in_order
    # The replay was really messy: some events were duplicates and some came too late.
    assert results.count("duplicate") == len(_story("X")) // 3
    assert results.count("stale") > 0
    # Each event id is stored once, with every delivery counted.
    deliveries = {row.event_id: row.deliveries for row in session.scalars(
        select(PmsEvent).where(PmsEvent.property_id == replay.id))}
    assert sum(deliveries.values()) == len(messy)
    assert len(deliveries) == len({payload["id"] for payload in messy})


# -- concurrency (PostgreSQL: row locks) ---------------------------------------------------

def _run_concurrently(app, payloads: list[dict[str, Any]]) -> list[Any]:
    """Apply each payload in its own thread and app context, all released at once."""
    def apply(payload: dict[str, Any]):
        return lambda: checkin.apply_event(get_property(payload["property"]), load_event(payload)).result

    return run_at_once(app, [apply(payload) for payload in payloads])


@pytest.mark.usefixtures("postgresql_only")
def test_concurrent_events_for_one_stay_apply_each_event_exactly_once(app, prop):
    rooms = ["1204", "1205", "1206", "1207"]
    distinct = [event(reservation_id="R1", room=room, minute=i, event_id=f"evt-{i}",
                      guests=[MEI, WEI] if i % 2 else [MEI])
                for i, room in enumerate(rooms)]
    newest = distinct[-1]
    # Every event is delivered twice, at the same moment, to different workers.
    results = _run_concurrently(app, distinct + distinct)

    assert not [r for r in results if isinstance(r, BaseException)], results
    by_event: dict[str, list[str]] = {}
    for payload, result in zip(distinct + distinct, results):
        by_event.setdefault(payload["id"], []).append(result)
    for event_id, outcomes in by_event.items():
        assert sorted(outcomes) in (["applied", "duplicate"], ["duplicate", "stale"]), \
            (event_id, outcomes)
    assert "applied" in by_event[newest["id"]]

    assert state(prop) == {"stays": {"R1": ("in_house", "1207", ("Mei Chen", "Wei Li"))},
                           "stay_group": ["Mei Chen", "Wei Li"], "alumni": [], "members": 2}
    assert checkin.find_stay(prop, "R1").last_event_id == newest["id"]
    assert session.scalar(select(func.count()).select_from(Stay)) == 1
    assert {row.event_id: row.deliveries for row in session.scalars(select(PmsEvent))} == {
        payload["id"]: 2 for payload in distinct}


@pytest.mark.usefixtures("postgresql_only")
def test_the_same_event_delivered_to_many_workers_at_once_is_applied_once(app, prop):
    payload = event(guests=[MEI, WEI], event_id="evt-A")
    results = _run_concurrently(app, [payload] * 6)

    assert sorted(results) == ["applied"] + ["duplicate"] * 5, results
    assert inbox(prop, "evt-A").deliveries == 6
    assert state(prop)["stay_group"] == ["Mei Chen", "Wei Li"]
    assert session.scalar(select(func.count()).select_from(Membership)) == 2


@pytest.mark.usefixtures("postgresql_only")
def test_one_new_guest_on_several_stays_checked_in_at_once_is_one_member(app, prop):
    # A booker with several rooms: the PMS sends their check-ins in one burst.
    mei = guest("Mei", "Chen", "G-MEI", email="mei@example.com")
    payloads = [event(reservation_id=f"R{i}", room=f"120{i}", guests=[mei, guest(f"Kid{i}", "Chen")])
                for i in range(4)]
    results = _run_concurrently(app, payloads)

    assert results == ["applied"] * 4
    assert session.scalar(select(func.count()).select_from(Member)) == 5
    assert state(prop)["stay_group"] == ["Kid0 Chen", "Kid1 Chen", "Kid2 Chen", "Kid3 Chen",
                                         "Mei Chen"]
