"""The door check-in page: staff only, one property's occurrences, and a JSON answer per scan."""
from __future__ import annotations

from hotel_community.database import session
from hotel_community.models import Ticket
from hotel_community.services import events
from hotel_community.services.properties import create_property
from tests.factories import csrf_token
from tests.services.test_events import guests, make_event, occurrence_of
from tests.views.test_staff import text

DOOR = "/community/staff/door"


def door_event(prop, capacity: int = 10):
    return occurrence_of(make_event(prop, capacity=capacity))


def scan(client, occurrence_id: int, code: str, scan_id: str = "", token: str | None = None):
    token = token if token is not None else csrf_token(client.get(f"{DOOR}/{occurrence_id}"))
    return client.post(f"{DOOR}/{occurrence_id}/check-in",
                       data={"csrf_token": token, "code": code, "scan_id": scan_id})


def stored(ticket: Ticket) -> Ticket:
    session.expire_all()
    return session.get(Ticket, ticket.id)


def test_the_page_shows_the_event_counts_and_the_qr_reader(app, desk, prop):
    occurrence = door_event(prop)
    [guest] = guests(prop, 1)
    events.rsvp(occurrence.id, guest)

    page = desk.get(f"{DOOR}/{occurrence.id}")

    assert page.status_code == 200
    html = text(page)
    assert "Nightly mixer" in html and "Lobby bar" in html
    assert "19:00" in html  # the property's local time
    assert "data-checked-in>0<" in html and "data-taken>1<" in html
    assert 'name="code"' in html and "jsQR(" in html
    library = f"{DOOR}/static/vendor/jsQR.js"
    assert f'src="{library}"' in html
    script = desk.get(library)
    assert script.status_code == 200
    assert "jsQR" in script.get_data(as_text=True)


def test_only_staff_get_in(app, client, prop):
    occurrence = door_event(prop)
    [guest] = guests(prop, 1)
    ticket = events.rsvp(occurrence.id, guest)

    page = client.get(f"{DOOR}/{occurrence.id}")
    assert page.status_code == 302 and "/staff/login" in page.headers["Location"]
    token = csrf_token(client.get("/community/staff/login"))
    refused = scan(client, occurrence.id, ticket.code, token=token)
    assert refused.status_code == 401
    assert refused.get_json()["error"]["code"] == "authentication_failed"
    assert stored(ticket).checked_in_at is None


def test_another_propertys_occurrence_is_not_found(app, desk, prop):
    other = create_property("OTHR", "Other Hotel", "Asia/Shanghai", "CNY")
    occurrence = door_event(other)
    [guest] = guests(other, 1)
    ticket = events.rsvp(occurrence.id, guest)

    assert desk.get(f"{DOOR}/{occurrence.id}?property=TEST").status_code == 404
    token = csrf_token(desk.get("/community/staff/"))
    refused = scan(desk, occurrence.id, ticket.code, token=token)
    assert refused.status_code == 404 and refused.get_json()["error"]["code"] == "not_found"
    assert stored(ticket).checked_in_at is None


def test_a_valid_ticket_is_admitted_once_then_said_to_be_used(app, desk, prop):
    occurrence = door_event(prop)
    [guest] = guests(prop, 1)
    ticket = events.rsvp(occurrence.id, guest)

    first = scan(desk, occurrence.id, ticket.code, "door1-1")
    assert first.status_code == 200
    assert first.get_json() == {
        "result": "admitted", "name": "G0 Guest", "places": 1, "checked_in": 1, "taken": 1,
        "used_at": first.get_json()["used_at"], "used_by": "Front Desk", "ticket_for": None}
    used_at = events.local_time(prop, stored(ticket).checked_in_at).strftime("%H:%M")
    assert first.get_json()["used_at"].startswith(used_at)

    again = scan(desk, occurrence.id, ticket.code, "door1-2").get_json()
    assert again["result"] == "already_used"
    assert again["used_at"] == first.get_json()["used_at"] and again["used_by"] == "Front Desk"
    assert again["checked_in"] == 1


def test_a_scan_sent_again_is_the_same_admission(app, desk, prop):
    occurrence = door_event(prop)
    [guest] = guests(prop, 1)
    ticket = events.rsvp(occurrence.id, guest)

    answers = [scan(desk, occurrence.id, ticket.code, "tablet-7").get_json() for _ in range(3)]

    assert [a["result"] for a in answers] == ["admitted"] * 3
    assert [a["checked_in"] for a in answers] == [1] * 3
    assert stored(ticket).check_in_scan == "tablet-7"


def test_every_other_answer(app, desk, prop):
    occurrence, other_date = door_event(prop, capacity=1), door_event(prop)
    first, second = guests(prop, 2)
    events.rsvp(occurrence.id, first)
    waitlisted = events.rsvp(occurrence.id, second)
    elsewhere = events.rsvp(other_date.id, first)
    cancelled = events.rsvp(other_date.id, second)
    events.cancel_ticket(cancelled.id, second)

    def result(occurrence_id: int, code: str) -> dict:
        answer = scan(desk, occurrence_id, code)
        assert answer.status_code == 200
        return answer.get_json()

    assert result(occurrence.id, waitlisted.code)["result"] == "not_a_place"
    assert result(occurrence.id, "no-such-code")["result"] == "unknown"
    wrong = result(occurrence.id, elsewhere.code)
    assert wrong["result"] == "wrong_occurrence" and wrong["name"] == "G0 Guest"
    assert wrong["ticket_for"].startswith("Nightly mixer, 19:00")
    gone = result(other_date.id, cancelled.code)
    assert gone["result"] == "cancelled" and gone["checked_in"] == 0


def test_a_scan_needs_the_csrf_token_and_a_code(app, desk, prop):
    occurrence = door_event(prop)
    [guest] = guests(prop, 1)
    ticket = events.rsvp(occurrence.id, guest)

    forged = scan(desk, occurrence.id, ticket.code, token="")
    assert forged.status_code == 400 and forged.get_json()["error"]["code"] == "csrf_failed"
    empty = scan(desk, occurrence.id, "  ")
    assert empty.status_code == 422 and "code" in empty.get_json()["error"]["details"]
    overlong = scan(desk, occurrence.id, ticket.code, scan_id="x" * 65)
    assert overlong.status_code == 422
    assert stored(ticket).checked_in_at is None
