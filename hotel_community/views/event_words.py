"""Events in the guest's words and language: when, seats left, price, ticket status,
notifications, and the ticket as a calendar file."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from babel.dates import format_skeleton, format_time
from flask import url_for
from flask_babel import get_locale
from icalendar import Calendar
from icalendar import Event as CalendarEvent

from hotel_community.database import session
from hotel_community.i18n import domain
from hotel_community.i18n import gettext as _
from hotel_community.models import (
    Event, EventOccurrence, Member, Notification, Property, Ticket, TicketStatus,
)
from hotel_community.services import events
from hotel_community.services.products import format_price
from hotel_community.views import campaign_words


def locale() -> str:
    return str(get_locale() or "en")


def title(event: Event) -> str:
    """In the guest's language; Chinese falls back to English when staff left it empty."""
    return (locale() == "zh" and event.title_zh) or event.title_en


def description(event: Event) -> str:
    return (locale() == "zh" and event.description_zh) or event.description_en


def moment(prop: Property, utc: datetime) -> str:
    """A stored (naive UTC) time at the hotel's clock: "Wed, Nov 25 7:00 PM", "11月25日周三 19:00"."""
    local = events.local_time(prop, utc)
    return f"{format_skeleton('MMMEd', local, locale=locale())} {_clock(local)}"


def when(occurrence: EventOccurrence) -> str:
    """Start day and time, and the end time: "Wed, Nov 25 7:00 PM – 8:00 PM"."""
    prop = occurrence.event.property
    end = _clock(events.local_time(prop, occurrence.ends_at))
    return f"{moment(prop, occurrence.starts_at)} – {end}"


def _clock(local: datetime) -> str:
    return format_time(local, "short", locale=locale())


def price(event: Event) -> str:
    return format_price(event.price, event.currency, locale()) if event.price else _("Free")


def seats(occurrence: EventOccurrence) -> str:
    left = max(occurrence.capacity - occurrence.taken, 0)
    if not left:
        return _("Full: join the waitlist")
    return domain.ngettext("%(num)d place left", "%(num)d places left", left)


def status(ticket: Ticket) -> str:
    """The member's own standing: Going / On the waitlist (#2) / Place offered: pay by ..."""
    if ticket.status == TicketStatus.confirmed:
        return _("Going, with a guest") if ticket.places == 2 else _("Going")
    if ticket.status == TicketStatus.waitlisted:
        return _("On the waitlist (#%(position)d)", position=events.waitlist_position(ticket) or 1)
    if ticket.status == TicketStatus.offered:
        return _("Place offered: pay by %(time)s",
                 time=moment(ticket.occurrence.event.property, ticket.offered_until))
    if ticket.status == TicketStatus.pending_payment:
        return _("Waiting for payment")
    return _("Cancelled")


# --------------------------------------------------------------------------- notifications

@dataclass(frozen=True)
class Note:
    id: int
    text: str
    link: str


def note(notification: Notification, member: Member) -> Note:
    """A notification worded in the reader's language, with where it leads."""
    if notification.kind in campaign_words.KINDS:
        return Note(notification.id, *campaign_words.note(notification))
    occurrence = session.get(EventOccurrence, notification.params.get("occurrence") or 0)
    if notification.kind == events.EVENT_CANCELLED or occurrence is None:
        return Note(notification.id, _cancelled(notification),
                    url_for("hotel_community.events.my_tickets"))
    return Note(notification.id, _place(notification.kind, occurrence, member),
                url_for("hotel_community.events.occurrence", occurrence_id=occurrence.id))


def _cancelled(notification: Notification) -> str:
    event = session.get(Event, notification.params.get("event") or 0)
    name = title(event) if event is not None else _("An event")
    return " ".join((_("%(event)s has been cancelled.", event=name),
                     _("If you paid for a place, the payment is refunded.")))


def _place(kind: str, occurrence: EventOccurrence, member: Member) -> str:
    """PLACE_FREED or PLACE_OFFERED: the waitlist moved for the member."""
    name = title(occurrence.event)
    if kind == events.PLACE_FREED:
        return _("A place opened up for you at %(event)s: you're going.", event=name)
    ticket = events.open_ticket(member, occurrence.id)
    if ticket is None or ticket.status != TicketStatus.offered:
        return _("A place opened up for you at %(event)s, but the offer has ended.", event=name)
    return _("A place opened up for you at %(event)s: pay by %(time)s to keep it.",
             event=name, time=moment(occurrence.event.property, ticket.offered_until))


# --------------------------------------------------------------------------- calendar file

def calendar_file(ticket: Ticket, ticket_url: str, host: str) -> bytes:
    """The ticket's occurrence as an iCalendar VEVENT, times in UTC."""
    occurrence = ticket.occurrence
    event = occurrence.event
    entry = CalendarEvent()
    entry.add("uid", f"hc-ticket-{ticket.id}@{host}")
    entry.add("dtstamp", datetime.now(timezone.utc))
    entry.add("dtstart", occurrence.starts_at.replace(tzinfo=timezone.utc))
    entry.add("dtend", occurrence.ends_at.replace(tzinfo=timezone.utc))
    entry.add("summary", title(event))
    entry.add("location", ", ".join(part for part in (event.place, event.property.name) if part))
    entry.add("description", "\n\n".join(part for part in (description(event), ticket_url) if part))
    entry.add("url", ticket_url)
    calendar = Calendar()
    calendar.add("prodid", "-//hotel-community//events//EN")
    calendar.add("version", "2.0")
    calendar.add_component(entry)
    return calendar.to_ical()
