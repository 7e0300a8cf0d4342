"""Suggestions: members going to the same event (an occurrence today or later) are introduced."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from hotel_community.database import session, transaction
from hotel_community.i18n import activate
from hotel_community.models import EventAudience, EventOccurrence
from hotel_community.services import connections, events, people
from hotel_community.services.access import today_at
from tests.services.test_events import make_event, occurrence_of
from tests.services.test_people import check_out, guest, stay_group, suggested


def going(occurrence, *members) -> None:
    for member in members:
        events.rsvp(occurrence.id, member)


def starts_at(occurrence, moment) -> None:
    with transaction():
        session.execute(update(EventOccurrence).where(EventOccurrence.id == occurrence.id)
                        .values(starts_at=moment))


def test_going_to_the_same_event_outweighs_a_shared_interest_and_says_so(app, prop):
    me = guest(prop, "Mei", interests=("Tea",))
    guest(prop, "Tea", interests=("Tea",))
    mixer_goer = guest(prop, "Goer")
    occurrence = occurrence_of(make_event(prop))
    going(occurrence, me, mixer_goer)

    result = people.suggestions(me, stay_group(prop))
    assert [s.card.member.first_name for s in result] == ["Goer", "Tea"]
    assert result[0].score - result[1].score == people.EVENT_WEIGHT - people.INTEREST_WEIGHT
    with app.test_request_context():
        assert [str(r) for r in result[0].reasons] == [
            "You're both going to Nightly mixer", "here together for 2 more nights"]
        activate("zh")  # the event's Chinese title for a reader in Chinese
        assert "晚间交友会" in str(result[0].reasons[0])


def test_only_confirmed_tickets_of_todays_or_later_occurrences_count(app, prop):
    me = guest(prop, "Mei", nights=0)
    waiting, yesterday, today, cancelled = (guest(prop, name, nights=0) for name in
                                            ("Waiting", "Yesterday", "Today", "Cancelled"))
    full = occurrence_of(make_event(prop, capacity=1, title_en="Full"))
    going(full, me, waiting)  # Waiting is on the waitlist
    past, earlier = (occurrence_of(make_event(prop, title_en=title)) for title in ("Past", "Now"))
    going(past, me, yesterday)
    going(earlier, me, today)
    day_start = events.local_day_bounds(prop, today_at(prop))[0]
    starts_at(past, day_start - timedelta(minutes=1))
    starts_at(earlier, day_start)
    off = make_event(prop, title_en="Off")
    going(occurrence_of(off), me, cancelled)
    events.cancel_event(off.id, "staff:ana")

    assert suggested(me, prop) == ["Today"]


def test_the_usual_rules_still_hold_for_people_going_to_the_same_event(app, prop):
    me = guest(prop, "Mei")
    hidden = guest(prop, "Hidden", visible=False)
    blocked = guest(prop, "Blocked")
    alumna = guest(prop, "Alumna")
    fine = guest(prop, "Fine")
    occurrence = occurrence_of(make_event(prop, audience=EventAudience.members))
    going(occurrence, me, hidden, blocked, alumna, fine)
    connections.block(me.id, blocked.id)
    check_out(alumna)  # left the stay group; her ticket stands

    assert suggested(me, prop) == ["Fine"]
    assert suggested(fine, prop) == ["Blocked", "Mei"]  # the block is between Mei and Blocked
    assert hidden.id and "Mei" not in suggested(blocked, prop)
