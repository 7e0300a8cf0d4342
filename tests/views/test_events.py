"""The guest side of events: the list, RSVP (+1, waitlist, paid), cancelling, the ticket
with its QR code and calendar file, notifications, attendees, Chinese, CSRF."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import zxingcpp
from icalendar import Calendar
from PIL import Image, ImageDraw
from sqlalchemy import select

from hotel_community.database import session, transaction
from hotel_community.models import EventAudience, Member, Notification, Ticket, TicketStatus
from hotel_community.services import events
from hotel_community.services.properties import create_property
from tests.factories import check_in_by_hand, csrf_token, member_of, signed_in
from tests.services.test_events import guests, make_event, occurrence_of
from tests.services.test_people import check_out

BASE = "/community/events"


def text(response) -> str:
    return response.get_data(as_text=True)


def rsvp(client, occurrence, **fields):
    """Open the event's page and send its RSVP form, as the guest's phone does."""
    page = client.get(f"{BASE}/{occurrence.id}")
    assert page.status_code == 200, text(page)[:300]
    return client.post(f"{BASE}/{occurrence.id}/rsvp",
                       data={"csrf_token": csrf_token(page), **fields})


def ticket_of(member, occurrence) -> Ticket:
    session.expire_all()
    return session.scalar(select(Ticket).where(Ticket.member_id == member.id,
                                               Ticket.occurrence_id == occurrence.id)
                          .order_by(Ticket.id.desc()))


def make_visible(*members) -> None:
    with transaction():
        for member in members:
            session.get(Member, member.id).visible = True


# --------------------------------------------------------------------------- the list

def test_the_list_shows_what_the_member_may_attend_soonest_first(app, prop):
    make_event(prop, title_en="Tea tasting", price=8800,
                       starts_local=occurrence_start(3))
    sooner = make_event(prop, title_en="Nightly mixer", capacity=3)
    make_event(prop, title_en="Alumni dinner", audience=EventAudience.members)
    elsewhere = create_property("OTHER", "Other Hotel", "Europe/Paris", "EUR")
    make_event(elsewhere, title_en="Harbour tour", audience=EventAudience.members)
    cancelled = make_event(prop, title_en="Rained off")
    events.cancel_event(cancelled.id, "staff:ana")
    (mei,) = guests(prop, 1)

    html = text(signed_in(app, mei).get(BASE))
    assert "Nightly mixer" in html and "Tea tasting" in html and "Alumni dinner" in html
    assert "Harbour tour" not in html and "Rained off" not in html
    assert html.index("Nightly mixer") < html.index("Tea tasting")
    assert "3 places left" in html and "CN¥88.00" in html and "Free" in html

    check_out(mei)
    html = text(signed_in(app, mei).get(BASE))
    assert "Alumni dinner" in html and "Nightly mixer" not in html and "Tea tasting" not in html
    # What is not for them is not found either.
    assert signed_in(app, mei).get(f"{BASE}/{occurrence_of(sooner).id}").status_code == 404


def occurrence_start(days: int) -> datetime:
    """19:00 local, ``days`` from now."""
    return (datetime.now() + timedelta(days=days)).replace(hour=19, minute=0, second=0,
                                                          microsecond=0)


def test_a_visitor_sees_the_public_events_of_the_hotel_or_is_asked_to_sign_in(app, client, prop):
    make_event(prop, title_en="Open jazz night", audience=EventAudience.public)
    make_event(prop, title_en="Nightly mixer")
    assert "Sign in with your room number" in text(client.get(BASE))
    html = text(client.get(f"{BASE}?property=TEST"))
    assert "Open jazz night" in html and "Nightly mixer" not in html
    assert "Sign in with your room number to RSVP" in html


# --------------------------------------------------------------------------- RSVP

def test_rsvp_free_then_full_joins_the_waitlist_with_its_position(app, prop):
    occurrence = occurrence_of(make_event(prop, capacity=1))
    mei, wei, li = guests(prop, 3)
    first, second, third = (signed_in(app, m) for m in (mei, wei, li))

    going = rsvp(first, occurrence)
    assert going.status_code == 303 and going.headers["Location"].endswith(f"/{occurrence.id}")
    page = text(first.get(going.headers["Location"]))
    assert "You&#39;re going!" in page and 'data-my-status="confirmed"' in page
    assert "Full: join the waitlist" in page

    rsvp(second, occurrence)
    waiting = rsvp(third, occurrence)
    assert "on the waitlist (#2)" in text(third.get(waiting.headers["Location"]))
    assert "On the waitlist (#2)" in text(third.get(BASE))
    assert ticket_of(li, occurrence).status == TicketStatus.waitlisted

    page = first.get(f"{BASE}/{occurrence.id}")  # no RSVP form now; its cancel form's token
    again = first.post(f"{BASE}/{occurrence.id}/rsvp", data={"csrf_token": csrf_token(page)})
    assert again.status_code == 409
    assert "You already have a place or are on the waitlist." in text(again)


def test_a_plus_one_takes_two_places_where_the_event_allows_it(app, prop):
    plain = occurrence_of(make_event(prop, title_en="Talk"))
    with_guests = occurrence_of(make_event(prop, capacity=3, plus_ones=True))
    (mei,) = guests(prop, 1)
    client = signed_in(app, mei)

    assert 'name="plus_one"' not in text(client.get(f"{BASE}/{plain.id}"))
    refused = rsvp(client, plain, plus_one="y")
    assert refused.status_code == 422 and "This event does not take a +1." in text(refused)

    assert 'name="plus_one"' in text(client.get(f"{BASE}/{with_guests.id}"))
    assert rsvp(client, with_guests, plus_one="y").status_code == 303
    assert ticket_of(mei, with_guests).places == 2 and occurrence_of(with_guests.event).taken == 2
    ticket = ticket_of(mei, with_guests)
    page = text(client.get(f"{BASE}/tickets/{ticket.id}"))
    assert 'data-places>2' in page and "Going, with a guest" in page


def test_cancelling_frees_the_place_for_the_first_in_line_who_is_told(app, prop):
    occurrence = occurrence_of(make_event(prop, capacity=1))
    mei, wei = guests(prop, 2)
    holder, waiting = signed_in(app, mei), signed_in(app, wei)
    rsvp(holder, occurrence)
    rsvp(waiting, occurrence)
    ticket = ticket_of(mei, occurrence)

    page = holder.get(f"{BASE}/{occurrence.id}")
    cancelled = holder.post(f"{BASE}/tickets/{ticket.id}/cancel",
                            data={"csrf_token": csrf_token(page)})
    assert cancelled.status_code == 303
    assert "Your place is cancelled." in text(holder.get(cancelled.headers["Location"]))
    assert ticket_of(mei, occurrence).status == TicketStatus.cancelled
    assert ticket_of(wei, occurrence).status == TicketStatus.confirmed

    group = waiting.get("/community/group")
    html = text(group)
    assert "A place opened up for you at Nightly mixer: you&#39;re going." in html
    assert f'href="{BASE}/{occurrence.id}"' in html and 'data-events-link' in html
    note = session.scalar(select(Notification).where(Notification.member_id == wei.id))
    dismissed = waiting.post(f"{BASE}/notifications/{note.id}/read",
                             data={"csrf_token": csrf_token(group), "next": "/community/group"})
    assert dismissed.status_code == 303 and dismissed.headers["Location"] == "/community/group"
    assert "A place opened up" not in text(waiting.get("/community/group"))


def test_a_cancelled_event_is_told_on_the_alumni_page_too(app, prop):
    event = make_event(prop, audience=EventAudience.members)
    (mei,) = guests(prop, 1)
    client = signed_in(app, mei)
    rsvp(client, occurrence_of(event))
    check_out(mei)
    events.cancel_event(event.id, "staff:ana")
    html = text(signed_in(app, mei).get("/community/group"))
    assert "Welcome back" in html and "Nightly mixer has been cancelled." in html


def test_refusals_are_readable_with_their_status(app, prop):
    (mei,) = guests(prop, 1)
    client = signed_in(app, mei)
    event = make_event(prop)
    occurrence = occurrence_of(event)
    page = client.get(f"{BASE}/{occurrence.id}")
    events.cancel_event(event.id, "staff:ana")
    late = client.post(f"{BASE}/{occurrence.id}/rsvp", data={"csrf_token": csrf_token(page)})
    assert late.status_code == 409 and "This event has been cancelled." in text(late)

    in_house = occurrence_of(make_event(prop, title_en="Guests only"))
    page = client.get(f"{BASE}/{in_house.id}")
    check_out(mei)
    refused = client.post(f"{BASE}/{in_house.id}/rsvp", data={"csrf_token": csrf_token(page)})
    assert refused.status_code == 403
    assert "This event is for guests staying at the hotel." in text(refused)


def test_posts_need_the_csrf_token(app, prop):
    occurrence = occurrence_of(make_event(prop))
    (mei,) = guests(prop, 1)
    client = signed_in(app, mei)
    assert client.post(f"{BASE}/{occurrence.id}/rsvp").status_code == 400
    assert ticket_of(mei, occurrence) is None
    rsvp(client, occurrence)
    ticket = ticket_of(mei, occurrence)
    assert client.post(f"{BASE}/tickets/{ticket.id}/cancel").status_code == 400
    assert ticket_of(mei, occurrence).status == TicketStatus.confirmed


# --------------------------------------------------------------------------- paid places

def test_a_paid_rsvp_goes_to_the_order_page(app, prop, card):
    occurrence = occurrence_of(make_event(prop, price=8800))
    (mei,) = guests(prop, 1)
    client = signed_in(app, mei)
    page = text(client.get(f"{BASE}/{occurrence.id}"))
    assert 'name="provider"' in page and 'value="fake_card"' in page and "Fake card" in page
    assert "CN¥88.00 a place" in page

    answer = rsvp(client, occurrence, provider="fake_card")
    ticket = ticket_of(mei, occurrence)
    assert ticket.status == TicketStatus.pending_payment
    assert answer.status_code == 303
    assert answer.headers["Location"] == f"/community/orders/{ticket.order.token}"
    assert "Waiting for payment" in text(client.get(f"{BASE}/{occurrence.id}"))


def test_an_offered_place_is_paid_from_the_event_page(app, prop, card):
    occurrence = occurrence_of(make_event(prop, capacity=1, price=8800))
    mei, wei = guests(prop, 2)
    events.rsvp(occurrence.id, mei, provider_name="fake_card")
    waiting = signed_in(app, wei)
    rsvp(waiting, occurrence, provider="fake_card")
    events.cancel_ticket(ticket_of(mei, occurrence).id, mei)
    assert ticket_of(wei, occurrence).status == TicketStatus.offered

    assert "pay by" in text(waiting.get("/community/group"))
    page = waiting.get(f"{BASE}/{occurrence.id}")
    assert "Place offered: pay by" in text(page) and "data-pay-form" in text(page)
    ticket = ticket_of(wei, occurrence)
    paid = waiting.post(f"{BASE}/tickets/{ticket.id}/pay",
                        data={"csrf_token": csrf_token(page), "provider": "fake_card"})
    assert paid.status_code == 303
    assert paid.headers["Location"] == f"/community/orders/{ticket_of(wei, occurrence).order.token}"


# --------------------------------------------------------------------------- the ticket

def test_the_ticket_shows_a_qr_code_of_its_code(app, prop):
    occurrence = occurrence_of(make_event(prop))
    (mei,) = guests(prop, 1)
    client = signed_in(app, mei)
    rsvp(client, occurrence)
    ticket = ticket_of(mei, occurrence)

    html = text(client.get(f"{BASE}/tickets/{ticket.id}"))
    assert f'data-ticket-code="{ticket.code}"' in html and f">{ticket.code}</p>" in html
    svg = re.search(r'data-ticket-code="[^"]+">(<svg.*?</svg>)', html, re.S).group(1)
    assert [code.text for code in zxingcpp.read_barcodes(rasterize(svg))] == [ticket.code]
    assert "Lobby bar" in html and "Going" in html
    mine = text(client.get(f"{BASE}/tickets"))
    assert f'href="{BASE}/tickets/{ticket.id}"' in mine and ticket.code not in mine


def rasterize(svg: str, scale: int = 8) -> Image.Image:
    """Draw the squares of qrcode's SVG path ("M4,4H5V5H4z..."), as a camera would see them."""
    size = int(re.search(r'viewBox="0 0 (\d+) \d+"', svg).group(1))
    image = Image.new("L", (size * scale, size * scale), 255)
    draw = ImageDraw.Draw(image)
    for x, y, right, bottom in re.findall(r"M(\d+),(\d+)H(\d+)V(\d+)H\d+z", svg):
        draw.rectangle((int(x) * scale, int(y) * scale,
                        int(right) * scale - 1, int(bottom) * scale - 1), fill=0)
    return image


def test_the_calendar_file_has_the_event_in_utc(app, prop):
    occurrence = occurrence_of(make_event(prop, duration_minutes=90))
    (mei,) = guests(prop, 1)
    client = signed_in(app, mei)
    rsvp(client, occurrence)
    ticket = ticket_of(mei, occurrence)

    ics = client.get(f"{BASE}/tickets/{ticket.id}.ics")
    assert ics.status_code == 200 and ics.mimetype == "text/calendar"
    assert ".ics" in ics.headers["Content-Disposition"]
    [entry] = Calendar.from_ical(ics.data).walk("VEVENT")
    start = entry.decoded("dtstart")
    assert start == occurrence.starts_at.replace(tzinfo=timezone.utc)
    assert entry.decoded("dtend") - start == occurrence.ends_at - occurrence.starts_at
    assert str(entry["summary"]) == "Nightly mixer" and "Lobby bar" in str(entry["location"])
    assert str(entry["uid"]) and f"/tickets/{ticket.id}" in str(entry["description"])


def test_another_members_ticket_is_not_found(app, prop):
    occurrence = occurrence_of(make_event(prop))
    mei, wei = guests(prop, 2)
    rsvp(signed_in(app, mei), occurrence)
    ticket = ticket_of(mei, occurrence)
    other = signed_in(app, wei)
    assert other.get(f"{BASE}/tickets/{ticket.id}").status_code == 404
    assert other.get(f"{BASE}/tickets/{ticket.id}.ics").status_code == 404
    page = other.get(f"{BASE}/{occurrence.id}")
    assert other.post(f"{BASE}/tickets/{ticket.id}/cancel",
                      data={"csrf_token": csrf_token(page)}).status_code == 404
    assert ticket_of(mei, occurrence).status == TicketStatus.confirmed


def test_attendees_see_the_visible_others_and_a_count_of_the_rest(app, prop):
    occurrence = occurrence_of(make_event(prop, capacity=3))
    mei, wei, li, oliver = guests(prop, 4)
    make_visible(wei)
    clients = {m.id: signed_in(app, m) for m in (mei, wei, li, oliver)}
    for member in (mei, wei, li, oliver):
        rsvp(clients[member.id], occurrence)

    html = text(clients[mei.id].get(f"{BASE}/{occurrence.id}"))
    assert "data-attendees" in html and wei.display_name in html
    assert li.display_name not in html and "1 more guest is going." in html
    waiting = text(clients[oliver.id].get(f"{BASE}/{occurrence.id}"))  # on the waitlist
    assert "Who is going" not in waiting and wei.display_name not in waiting


# --------------------------------------------------------------------------- languages

def test_the_event_in_chinese(app, prop):
    occurrence = occurrence_of(make_event(prop, description_en="Drinks on us",
                                          description_zh="免费饮品"))
    no_chinese = occurrence_of(make_event(prop, title_en="Tea tasting", title_zh=""))
    stay = check_in_by_hand(prop, "1301", ("Mei", "Chen"))
    client = signed_in(app, member_of(stay))
    zh = {"Accept-Language": "zh-CN,zh;q=0.9"}

    html = text(client.get(f"{BASE}/{occurrence.id}", headers=zh))
    assert "晚间交友会" in html and "免费饮品" in html and "Drinks on us" not in html
    assert "月" in re.search(r"data-when>([^<]+)<", html).group(1)
    assert 'lang="zh-Hans"' in html
    assert "Tea tasting" in text(client.get(f"{BASE}/{no_chinese.id}", headers=zh))
    assert "晚间交友会" in text(client.get(BASE, headers=zh))
