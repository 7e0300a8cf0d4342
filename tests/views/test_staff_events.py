"""The front desk's events pages: create, edit, capacity, cancel, one date's attendees,
waitlist, chart and CSV."""
from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET
from datetime import date, timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select, update

from hotel_community.database import session, transaction
from hotel_community.hookspecs import PaymentUpdate
from hotel_community.models import (
    Event, EventOccurrence, Member, OrderStatus, Ticket, TicketStatus,
)
from hotel_community.services import events, orders
from hotel_community.services.properties import create_property
from tests.factories import csrf_token
from tests.services.test_events import guests, make_event, occurrence_of
from tests.views.test_staff import text

EVENTS = "/community/staff/events"


def event_form(**changes) -> dict:
    start = date.today() + timedelta(days=3)
    return {"title_en": "Nightly mixer", "title_zh": "晚间交友会", "description_en": "Drinks.",
            "description_zh": "", "place": "Lobby bar", "audience": "in_house",
            "start_date": start.isoformat(), "start_time": "19:00", "duration_minutes": "90",
            "repeat_daily_until": "", "capacity": "20", "price": "", "rsvp_closes_minutes": "30",
            **changes}


def post(client, path: str, data: dict | None = None, page: str = EVENTS):
    token = csrf_token(client.get(f"{EVENTS}/new" if page == EVENTS else page))
    return client.post(path, data={"csrf_token": token, **(data or {})}, follow_redirects=True)


def created(title: str = "Nightly mixer") -> Event:
    session.expire_all()
    return session.scalar(select(Event).where(Event.title_en == title))


def fresh_ticket(ticket: Ticket) -> Ticket:
    session.expire_all()
    return session.get(Ticket, ticket.id)


def table_rows(page, name: str) -> list[int]:
    table = re.search(rf"<table data-{name}>(.*?)</table>", text(page), flags=re.S).group(1)
    return [int(n) for n in re.findall(r'<tr data-ticket="(\d+)"', table)]


# --------------------------------------------------------------------------- access

@pytest.mark.parametrize("method, path", [
    ("get", ""), ("get", "/new"), ("post", "/new"), ("get", "/{event}"), ("post", "/{event}"),
    ("post", "/{event}/cancel"), ("get", "/occurrences/{occurrence}"),
    ("get", "/occurrences/{occurrence}/attendees.csv"),
    ("post", "/occurrences/{occurrence}/capacity"), ("post", "/occurrences/{occurrence}/cancel")])
def test_strangers_are_sent_to_sign_in(app, client, prop, method, path):
    event = make_event(prop)
    token = csrf_token(client.get("/community/staff/login"))
    url = EVENTS + path.format(event=event.id, occurrence=occurrence_of(event).id)
    response = getattr(client, method)(url, data={"csrf_token": token, "capacity": "1"})
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/community/staff/login"
    assert occurrence_of(event).cancelled_at is None and occurrence_of(event).capacity == 10


def test_a_guest_is_not_staff(app, prop):
    from tests.factories import signed_in

    (mei,) = guests(prop, 1)
    response = signed_in(app, mei).get(EVENTS)
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/community/staff/login"


def test_a_post_without_the_csrf_token_is_refused(app, desk, prop):
    event = make_event(prop)
    occurrence = occurrence_of(event)
    assert desk.post(f"{EVENTS}/{event.id}/cancel").status_code == 400
    assert desk.post(f"{EVENTS}/occurrences/{occurrence.id}/capacity",
                     data={"csrf_token": "forged", "capacity": "3"}).status_code == 400
    assert desk.post(f"{EVENTS}/new", data=event_form(title_en="Sneaky")).status_code == 400
    assert occurrence_of(event).cancelled_at is None and occurrence_of(event).capacity == 10
    assert created("Sneaky") is None


def test_another_propertys_event_is_not_found(app, desk, prop):
    other = create_property("OTHR", "Other Hotel", "UTC", "CNY")
    event = make_event(other)
    occurrence = occurrence_of(event)
    assert desk.get(EVENTS, query_string={"property": prop.code}).status_code == 200
    for path in (f"/{event.id}", f"/occurrences/{occurrence.id}",
                 f"/occurrences/{occurrence.id}/attendees.csv"):
        assert desk.get(EVENTS + path).status_code == 404, path
    token = csrf_token(desk.get(f"{EVENTS}/new"))
    for path in (f"/{event.id}/cancel", f"/occurrences/{occurrence.id}/capacity",
                 f"/occurrences/{occurrence.id}/cancel"):
        response = desk.post(EVENTS + path, data={"csrf_token": token, "capacity": "1"})
        assert response.status_code == 404, path
    assert occurrence_of(event).cancelled_at is None and occurrence_of(event).capacity == 10
    assert f'data-event="{event.id}"' not in text(desk.get(EVENTS))


# --------------------------------------------------------------------------- creating

def test_create_a_one_off_event(app, desk, prop):
    page = post(desk, f"{EVENTS}/new", event_form(price="88.00", plus_ones="y"))
    assert "Created “Nightly mixer” (1 date) and announced it in the stay group." in text(page)
    event = created()
    assert (event.price, event.currency, event.plus_ones, event.capacity,
            event.duration_minutes, event.rsvp_closes_minutes) == (8800, "CNY", True, 20, 90, 30)
    (occurrence,) = event.occurrences
    local = events.local_time(prop, occurrence.starts_at)
    assert (local.date(), local.hour, local.minute) == (date.today() + timedelta(days=3), 19, 0)
    assert occurrence.ends_at - occurrence.starts_at == timedelta(minutes=90)
    assert event.announcement_post_id is not None

    listing = text(desk.get(EVENTS))
    assert f'data-event="{event.id}"' in listing and "0/20 places" in listing
    assert local.strftime("%a %d %b %Y 19:00") in listing and "CN¥88.00" in listing
    assert 'href="/community/staff/events"' in listing  # the nav link


def test_create_a_daily_event(app, desk, prop):
    start = date.today() + timedelta(days=1)
    post(desk, f"{EVENTS}/new", event_form(start_date=start.isoformat(), start_time="19:30",
                                            repeat_daily_until=(start + timedelta(days=6))
                                            .isoformat()))
    starts = [events.local_time(prop, o.starts_at) for o in created().occurrences]
    assert [moment.date() for moment in starts] == [start + timedelta(days=n) for n in range(7)]
    assert {(moment.hour, moment.minute) for moment in starts} == {(19, 30)}
    listing = text(desk.get(EVENTS))
    assert listing.count("0/20 places") == 3 and "and 4 more dates" in listing


@pytest.mark.parametrize("changes, message", [
    ({"title_en": ""}, "This field is required."),
    ({"capacity": "0"}, "From 1 to 100,000."),
    ({"duration_minutes": "0"}, "From 1 minute to a day."),
    ({"price": "1,200"}, "Enter the price as a number"),
    ({"price": "-5"}, "Enter the price as a number"),
    ({"repeat_daily_until": date.today().isoformat()}, "Before the first date."),
    ({"start_time": ""}, "This field is required."),
])
def test_bad_details_are_refused_readably(app, desk, prop, changes, message):
    page = post(desk, f"{EVENTS}/new", event_form(**changes))
    assert page.status_code == 200 and message in text(page)
    assert session.scalar(select(Event)) is None


# --------------------------------------------------------------------------- editing

def test_edit_changes_what_it_says_but_not_the_dates(app, desk, prop):
    event = make_event(prop, price=5000)
    page = desk.get(f"{EVENTS}/{event.id}")
    assert "Dates are fixed after creation" in text(page) and 'value="50.00"' in text(page)
    assert 'name="start_date"' not in text(page)
    page = post(desk, f"{EVENTS}/{event.id}", event_form(title_en="Rooftop mixer", price="0",
                                                           audience="members",
                                                           start_date="2000-01-01"),
                page=f"{EVENTS}/{event.id}")
    assert "Saved." in text(page)
    changed = created("Rooftop mixer")
    assert (changed.id, changed.price, changed.audience.value) == (event.id, 0, "members")
    assert changed.starts_at == event.starts_at and len(changed.occurrences) == 1


# --------------------------------------------------------------------------- capacity

def test_capacity_lower_than_taken_is_refused_readably(app, desk, prop):
    event = make_event(prop, capacity=3)
    occurrence = occurrence_of(event)
    for member in guests(prop, 2):
        events.rsvp(occurrence.id, member)
    page = post(desk, f"{EVENTS}/occurrences/{occurrence.id}/capacity", {"capacity": "1"})
    assert "2 places are taken: the capacity cannot be lower." in text(page)
    assert occurrence_of(event).capacity == 3


def test_more_capacity_promotes_the_waitlist(app, desk, prop):
    event = make_event(prop, capacity=1)
    occurrence = occurrence_of(event)
    holder, first, second = guests(prop, 3)
    events.rsvp(occurrence.id, holder)
    waiting = [events.rsvp(occurrence.id, member) for member in (first, second)]
    page = post(desk, f"{EVENTS}/occurrences/{occurrence.id}/capacity", {"capacity": "2"})
    assert "Capacity is now 2 (2 taken)." in text(page)
    assert [fresh_ticket(t).status for t in waiting] == [TicketStatus.confirmed,
                                                         TicketStatus.waitlisted]


# --------------------------------------------------------------------------- cancelling

def test_cancelling_the_event_refunds_paid_tickets(app, desk, prop, card):
    event = make_event(prop, capacity=5, price=8800)
    occurrence = occurrence_of(event)
    mei, wei = guests(prop, 2)
    paid = events.rsvp(occurrence.id, mei, provider_name="fake_card")
    order = orders.get_order(paid.order_id)
    orders.apply_payment_update("fake_card",
                                PaymentUpdate(order.provider_ref, "succeeded", 8800, "CNY"))
    unpaid = events.rsvp(occurrence.id, wei, provider_name="fake_card")

    page = post(desk, f"{EVENTS}/{event.id}/cancel")
    assert ("Event cancelled. 2 tickets cancelled and every holder told; paid ones are "
            "refunded.") in text(page)
    assert [fresh_ticket(t).status for t in (paid, unpaid)] == [TicketStatus.cancelled] * 2
    assert card.refunds and card.refunds[0][0] == 8800
    assert orders.get_order(paid.order_id).status == OrderStatus.refunded
    assert created().cancelled_at is not None and occurrence_of(event).taken == 0
    assert "data-cancelled" in text(desk.get(f"{EVENTS}/{event.id}"))
    assert "Cancelled" in text(desk.get(EVENTS))


def test_cancelling_one_date_leaves_the_others(app, desk, prop):
    start = date.today() + timedelta(days=1)
    post(desk, f"{EVENTS}/new", event_form(start_date=start.isoformat(),
                                            repeat_daily_until=(start + timedelta(days=1))
                                            .isoformat()))
    first, second = created().occurrences
    (mei,) = guests(prop, 1)
    ticket = events.rsvp(first.id, mei)
    page = post(desk, f"{EVENTS}/occurrences/{first.id}/cancel")
    assert "This date is cancelled. 1 ticket cancelled" in text(page)
    assert fresh_ticket(ticket).status == TicketStatus.cancelled
    session.expire_all()
    assert session.get(EventOccurrence, first.id).cancelled_at is not None
    assert session.get(EventOccurrence, second.id).cancelled_at is None
    assert created().cancelled_at is None


# --------------------------------------------------------------------------- one date

def test_the_occurrence_page_lists_attendees_the_line_and_counts(app, desk, prop):
    event = make_event(prop, capacity=2)
    occurrence = occurrence_of(event)
    holder, other, late, later = guests(prop, 4)
    tickets = [events.rsvp(occurrence.id, member) for member in (holder, other, late, later)]
    events.check_in(occurrence.id, tickets[0].code, "staff:Ana")

    page = desk.get(f"{EVENTS}/occurrences/{occurrence.id}")
    assert table_rows(page, "attendees") == [tickets[0].id, tickets[1].id]
    assert table_rows(page, "waitlist") == [tickets[2].id, tickets[3].id]
    body = text(page)
    assert "G0 Guest" in body and ">1200<" in body and "by staff:Ana" in body
    counts = dict(re.findall(r'data-count="(\w+)"><div class="value">([^<]*)</div>', body))
    assert counts == {"taken": "2/2", "checked_in": "1", "no_shows": "0", "waitlisted": "2"}
    assert f'href="/community/staff/door/{occurrence.id}"' in body and "Door check-in" in body

    chart = ET.fromstring(re.search(r"<svg\b.*?</svg>", body, flags=re.S).group(0))
    assert chart.tag.endswith("svg") and chart.get("id") == "chart-attendance"
    assert "places taken: 2 in all; checked in: 1 in all." in ET.tostring(chart, "unicode")


def test_the_waitlist_serves_guests_in_house_first(app, desk, prop):
    from tests.services.test_people import check_out

    event = make_event(prop, capacity=1, audience=events.EventAudience.members)
    occurrence = occurrence_of(event)
    holder, alumna, staying = guests(prop, 3)
    events.rsvp(occurrence.id, holder)
    gone = events.rsvp(occurrence.id, alumna)
    check_out(alumna)
    here = events.rsvp(occurrence.id, staying)
    assert table_rows(desk.get(f"{EVENTS}/occurrences/{occurrence.id}"),
                      "waitlist") == [here.id, gone.id]


def test_attendees_csv(app, desk, prop):
    event = make_event(prop)
    occurrence = occurrence_of(event)
    (mei,) = guests(prop, 1)
    with transaction():
        member = session.get(Member, mei.id)
        member.first_name, member.email = "=HYPERLINK(1)", "mei@example.com"
    ticket = events.rsvp(occurrence.id, mei)
    events.check_in(occurrence.id, ticket.code, "staff:Ana")

    response = desk.get(f"{EVENTS}/occurrences/{occurrence.id}/attendees.csv")
    assert response.mimetype == "text/csv"
    day = events.local_time(prop, occurrence.starts_at).date().isoformat()
    assert f"attendees-TEST-{event.id}-{day}.csv" in response.headers["Content-Disposition"]
    body = response.get_data(as_text=True)
    assert body.startswith("\ufeff")
    header, row = list(csv.reader(io.StringIO(body[1:])))
    assert header == ["Name", "Email", "Room", "Places", "Status", "Checked in at",
                      "Checked in by"]
    checked_in = events.local_time(prop, fresh_ticket(ticket).checked_in_at)
    assert row == ["'=HYPERLINK(1) Guest", "mei@example.com", "1200", "1", "Confirmed",
                   checked_in.strftime("%Y-%m-%d %H:%M"), "staff:Ana"]


def test_a_cancel_cut_short_can_be_finished_from_the_event_page(app, desk, prop):
    event = make_event(prop, capacity=2)
    for member in guests(prop, 2):
        events.rsvp(occurrence_of(event).id, member)
    started = occurrence_of(event).starts_at
    with transaction():  # the first cancel stopped after marking the dates
        session.execute(update(Event).where(Event.id == event.id).values(cancelled_at=started))
        session.execute(update(EventOccurrence).where(EventOccurrence.event_id == event.id)
                        .values(cancelled_at=started))

    page = text(desk.get(f"{EVENTS}/{event.id}"))
    assert "2 tickets of cancelled dates are still open" in page
    done = post(desk, f"{EVENTS}/{event.id}/cancel")
    assert "2 tickets cancelled" in text(done)
    assert "Finish cancelling" not in text(desk.get(f"{EVENTS}/{event.id}"))
