"""Reconciling stored stays with the PMS's full in-house list."""
from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select

from hotel_community.database import session
from hotel_community.errors import ValidationFailed
from hotel_community.models import PmsEvent
from hotel_community.services import checkin, reconcile
from tests.factories import community_state, event, guest, load_event


def stay(reservation_id: str, room: str, *guests: dict[str, Any], status: str = "in_house"):
    return event(reservation_id=reservation_id, room=room, status=status,
                 guests=list(guests))["stay"]


def document(*stays: dict[str, Any], generated_at: str = "2026-11-21T06:00:00+00:00"):
    return {"generated_at": generated_at, "stays": list(stays)}


def run(prop, doc: dict[str, Any]) -> reconcile.Report:
    return reconcile.apply(prop, reconcile.plan(prop, doc).events)


@pytest.fixture
def hotel(prop):
    """R1 and R2 in house, R3 checked out, as the PMS events reported them yesterday."""
    for payload in [
        event(reservation_id="R1", room="1204", guests=[guest("Mei", "Chen")], minute=0),
        event(reservation_id="R2", room="0801", guests=[guest("Wei", "Li")], minute=1),
        event(reservation_id="R3", room="0303", guests=[guest("Ana", "Silva")], minute=2),
        event(reservation_id="R3", room="0303", status="checked_out",
              guests=[guest("Ana", "Silva")], minute=3),
    ]:
        checkin.apply_event(prop, load_event(payload))
    return prop


def test_listed_stays_are_in_house_and_missing_ones_are_checked_out(hotel):
    doc = document(stay("R2", "0802", guest("Wei", "Li")),          # moved overnight
                   stay("R4", "1510", guest("Tom", "Berg")))          # arrived, event lost
    report = run(hotel, doc)

    assert report.results == {"applied": 3}
    assert community_state(hotel) == {
        "stays": {"R1": ("checked_out", "1204", ("Mei Chen",)),
                  "R2": ("in_house", "0802", ("Wei Li",)),
                  "R3": ("checked_out", "0303", ("Ana Silva",)),
                  "R4": ("in_house", "1510", ("Tom Berg",))},
        "stay_group": ["Tom Berg", "Wei Li"],
        "alumni": ["Ana Silva", "Mei Chen"],
        "members": 4}
    assert report.summary() == "Reconciled 3 stays: 3 applied."


def test_the_same_list_twice_changes_nothing_the_second_time(hotel):
    doc = document(stay("R2", "0802", guest("Wei", "Li")), stay("R4", "1510", guest("Tom", "Berg")))
    run(hotel, doc)
    after_first = community_state(hotel)
    events_after_first = session.scalar(select(func.count()).select_from(PmsEvent))

    report = run(hotel, doc)

    assert report.results == {"duplicate": 2}
    assert community_state(hotel) == after_first
    assert session.scalar(select(func.count()).select_from(PmsEvent)) == events_after_first


def test_a_list_older_than_a_stored_event_does_not_undo_it(hotel):
    # Mei checked out at 12:05 (a PMS event), after the list was generated at 06:00.
    checkin.apply_event(hotel, load_event(event(reservation_id="R1", room="1204",
                                                status="checked_out",
                                                guests=[guest("Mei", "Chen")], minute=5)))
    report = run(hotel, document(stay("R1", "1204", guest("Mei", "Chen")),
                                 stay("R2", "0801", guest("Wei", "Li")),
                                 generated_at="2026-11-20T12:01:00+00:00"))

    assert report.results == {"stale": 1, "applied": 1}
    assert community_state(hotel)["stays"]["R1"][0] == "checked_out"
    assert community_state(hotel)["stay_group"] == ["Wei Li"]


def test_an_empty_list_checks_everyone_out(hotel):
    report = run(hotel, document())

    assert report.results == {"applied": 2}
    assert community_state(hotel)["stay_group"] == []
    assert community_state(hotel)["alumni"] == ["Ana Silva", "Mei Chen", "Wei Li"]


def test_a_reconcile_that_changed_stays_refreshes_the_planner_statistics_on_postgresql(
        app, hotel, backend):
    engine = app.extensions["sqlalchemy"].engine
    statements: list[str] = []

    def seen(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    doc = document(stay("R2", "0802", guest("Wei", "Li")), stay("R4", "1510", guest("Tom", "Berg")))
    sa.event.listen(engine, "before_cursor_execute", seen)
    try:
        run(hotel, doc)
        analyzed_after_first = [s for s in statements if s.upper().startswith("ANALYZE")]
        run(hotel, doc)  # only duplicates: nothing loaded, nothing to analyze
    finally:
        sa.event.remove(engine, "before_cursor_execute", seen)

    analyzed = [s for s in statements if s.upper().startswith("ANALYZE")]
    assert analyzed == analyzed_after_first
    if backend == "postgresql":
        assert len(analyzed) == 1
        tables = {name.strip() for name in analyzed[0][len("ANALYZE"):].split(",")}
        assert {"hc_stay", "hc_stay_guest", "hc_member", "hc_guest_identity", "hc_membership",
                "hc_pms_event"} <= tables
    else:
        assert analyzed == []


def test_nothing_to_do_is_reported(prop):
    assert run(prop, document()).summary() == "Reconciled 0 stays: nothing to do."


@pytest.mark.parametrize("doc, field", [
    ({"stays": []}, "generated_at"),
    ({"generated_at": "2026-11-21T06:00:00", "stays": []}, "generated_at"),
    (document({"reservation_id": "R1", "status": "in_house"}), "stays"),
    (document(stay("R1", "1204", status="sleeping")), "stays"),
    ({"generated_at": "2026-11-21T06:00:00+00:00", "in_house": []}, "stays"),
    (["not", "an", "object"], "_schema"),
])
def test_an_invalid_list_is_refused_before_anything_changes(hotel, doc, field):
    before = community_state(hotel)
    with pytest.raises(ValidationFailed) as failure:
        reconcile.plan(hotel, doc)
    assert field in failure.value.details
    assert community_state(hotel) == before
