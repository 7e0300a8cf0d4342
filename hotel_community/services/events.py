"""Member events: occurrences, RSVPs, the waitlist and paid tickets, exact under concurrency.

- A place is taken with one conditional UPDATE of the occurrence
  (``taken = taken + n WHERE taken + n <= capacity``): of many members asking
  for the last place, exactly one gets it; the others join the waitlist, in
  the order they asked.
- When places free (a cancelled ticket, an offer or payment that ran out, more
  capacity), the line moves at once: guests in house first, then the others,
  each in the order they joined. A free event confirms the promoted ticket; a
  paid one offers the place until ``HOTEL_COMMUNITY_EVENT_OFFER_HOLD`` runs out.
- A paid ticket is an :class:`~hotel_community.models.Order` paid through the
  shop's payment providers; the order's signals confirm or release the ticket.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Sequence
from zoneinfo import ZoneInfo

from flask import Flask, current_app
from sqlalchemy import exists, func, select, update
from sqlalchemy.orm import joinedload

from hotel_community import signals
from hotel_community.database import session, to_naive_utc, transaction, utcnow
from hotel_community.errors import (
    Conflict, Forbidden, NotFound, PaymentProviderError, ValidationFailed,
)
from hotel_community.i18n import lazy_gettext as _l
from hotel_community.models import (
    Event, EventAudience, EventOccurrence, Member, Notification, Order, OrderStatus, Property,
    Stay, StayGuest, StayStatus, Ticket, TicketStatus,
)
from hotel_community.models.events import HOLDING
from hotel_community.services import orders
from hotel_community.settings import config_value

#: ``Order.delivery`` of an order that pays for a ticket.
TICKET_DELIVERY = "event_ticket"
#: Most occurrences one recurring event may have (a year of nightly mixers).
MAX_OCCURRENCES = 366
#: Ticket codes: 16 random bytes, URL-safe (22 characters).
CODE_BYTES = 16
MAX_CAPACITY = 100_000
#: RSVPs may close at most this many minutes (30 days) before the start.
MAX_RSVP_CLOSES = 30 * 24 * 60
#: Prices live in an INTEGER column (32 bits); a place costs less than that times two.
MAX_PRICE = 2**30 - 1

# Notification kinds (worded in the reader's language when shown).
PLACE_FREED = "place_freed"          # promoted from the waitlist (free event: confirmed)
PLACE_OFFERED = "place_offered"      # promoted, paid event: pay before the offer runs out
EVENT_CANCELLED = "event_cancelled"


@dataclass(frozen=True)
class EventFields:
    """What staff enter; times are the property's local time."""

    title_en: str
    starts_local: datetime
    capacity: int
    audience: EventAudience = EventAudience.in_house
    title_zh: str = ""
    description_en: str = ""
    description_zh: str = ""
    place: str = ""
    duration_minutes: int = 60
    plus_ones: bool = False
    #: Per place, in minor units; 0 is free.
    price: int = 0
    repeat_daily_until: date | None = None
    rsvp_closes_minutes: int = 0


# --------------------------------------------------------------------------- staff: events

def create_event(prop: Property, fields: EventFields, actor: str, announce: bool = True) -> Event:
    """Store the event and its occurrences; announce it in the stay group's feed."""
    _check_fields(fields)
    starts = occurrence_starts(prop, fields)
    with transaction():
        event = Event(property_id=prop.id, currency=prop.currency, created_by=actor[:100],
                      starts_at=starts[0], **_event_values(fields))
        duration = timedelta(minutes=fields.duration_minutes)
        event.occurrences = [EventOccurrence(starts_at=start, ends_at=start + duration,
                                             capacity=fields.capacity, taken=0)
                             for start in starts]
        session.add(event)
    if announce:
        _announce(prop, event, actor)
    return event


def _event_values(fields: EventFields) -> dict[str, Any]:
    return {name: getattr(fields, name) for name in (
        "title_en", "title_zh", "description_en", "description_zh", "place", "audience",
        "capacity", "plus_ones", "price", "duration_minutes", "repeat_daily_until",
        "rsvp_closes_minutes")}


def _check_fields(fields: EventFields) -> None:
    errors: dict[str, list[str]] = {}
    if not fields.title_en.strip():
        errors["title_en"] = ["Required."]
    if not 1 <= fields.capacity <= MAX_CAPACITY:
        errors["capacity"] = ["From 1 to 100,000."]
    if not 1 <= fields.duration_minutes <= 24 * 60:
        errors["duration_minutes"] = ["From 1 minute to a day."]
    if fields.price < 0:
        errors["price"] = ["Cannot be negative."]
    if not 0 <= fields.rsvp_closes_minutes <= MAX_RSVP_CLOSES:
        errors["rsvp_closes_minutes"] = ["From 0 to 30 days (43,200 minutes)."]
    if not 2000 <= fields.starts_local.year <= 2100:
        errors["starts_local"] = ["Not a date the hotel will see."]
    if fields.price > MAX_PRICE:
        errors["price"] = ["Too high."]
    if fields.repeat_daily_until and fields.repeat_daily_until < fields.starts_local.date():
        errors["repeat_daily_until"] = ["Before the first date."]
    if errors:
        raise ValidationFailed("Please correct the event's details.", errors)


def occurrence_starts(prop: Property, fields: EventFields) -> list[datetime]:
    """Naive UTC starts: the first, then every day at the same local time until the end date.

    The local time of day stays the same across a daylight saving change.
    """
    zone = ZoneInfo(prop.timezone)
    first, last = fields.starts_local.date(), fields.repeat_daily_until or fields.starts_local.date()
    days = (last - first).days + 1
    if days > MAX_OCCURRENCES:
        raise ValidationFailed(f"At most {MAX_OCCURRENCES} dates at a time.",
                               {"repeat_daily_until": ["Too far ahead."]})
    clock = fields.starts_local.time()
    return [to_naive_utc(datetime.combine(first + timedelta(days=n), clock, tzinfo=zone))
            for n in range(days)]


def update_event(event_id: int, fields: EventFields) -> Event:
    """Change what an event says (titles, descriptions, place, price for new tickets, RSVP
    deadline). Dates stay; capacity changes per occurrence with :func:`set_capacity`."""
    _check_fields(fields)
    with transaction():
        event = get_event(event_id)
        for name in ("title_en", "title_zh", "description_en", "description_zh", "place",
                     "audience", "plus_ones", "price", "rsvp_closes_minutes"):
            setattr(event, name, getattr(fields, name))
    return event


def set_capacity(occurrence_id: int, capacity: int) -> EventOccurrence:
    """More or fewer places; never fewer than are taken. More places promote the waitlist."""
    if not 1 <= capacity <= MAX_CAPACITY:
        raise ValidationFailed("From 1 to 100,000 places.", {"capacity": ["Out of range."]})
    with transaction():
        changed = session.execute(
            update(EventOccurrence).where(EventOccurrence.id == occurrence_id,
                                          EventOccurrence.taken <= capacity)
            .values(capacity=capacity).returning(EventOccurrence.id)).scalar()
    if changed is None:
        occurrence = get_occurrence(occurrence_id)
        raise Conflict(f"{occurrence.taken} places are taken: the capacity cannot be lower.")
    promote(occurrence_id)
    return get_occurrence(occurrence_id)


@dataclass(frozen=True)
class Cancelled:
    """What cancelling an event did."""

    tickets: int
    #: Paid tickets whose refund the payment system refused; staff refund them from
    #: the order page (and cancelling again retries nothing already done).
    refunds_failed: int


def cancel_event(event_id: int, actor: str, occurrence_id: int | None = None) -> Cancelled:
    """Cancel the event (or one occurrence): every ticket is cancelled, its holder told,
    and paid tickets refunded. Safe to run again: it picks up the tickets of every
    cancelled occurrence still open (a cancel cut short by a timeout)."""
    now = utcnow()
    with transaction():
        event = get_event(event_id)
        query = update(EventOccurrence).where(EventOccurrence.event_id == event_id,
                                              EventOccurrence.cancelled_at.is_(None))
        if occurrence_id is not None:
            query = query.where(EventOccurrence.id == occurrence_id)
        elif event.cancelled_at is None:
            event.cancelled_at = now
        session.execute(query.values(cancelled_at=now))
    cancelled = select(EventOccurrence.id).where(EventOccurrence.event_id == event_id,
                                                 EventOccurrence.cancelled_at.is_not(None))
    if occurrence_id is not None:
        cancelled = cancelled.where(EventOccurrence.id == occurrence_id)
    count = failed = 0
    for ticket_id in list(session.scalars(select(Ticket.id).where(
            Ticket.occurrence_id.in_(cancelled), Ticket.status != TicketStatus.cancelled))):
        try:
            cancelled_now = _cancel(ticket_id, actor, refund=True, promote_next=False)
        except PaymentProviderError:  # the ticket is cancelled; the order's history says why
            cancelled_now, failed = True, failed + 1
            current_app.logger.warning("Refund of ticket %s failed", ticket_id, exc_info=True)
        if cancelled_now:
            ticket = session.get(Ticket, ticket_id)
            notify(ticket.member_id, EVENT_CANCELLED, {"event": event.id}, "")
            count += 1
    return Cancelled(count, failed)


def open_after_cancel(event_id: int) -> int:
    """Tickets still open on cancelled dates of the event (a cancel cut short): staff
    finish it by cancelling again."""
    return session.scalar(
        select(func.count()).select_from(Ticket).join(Ticket.occurrence)
        .where(EventOccurrence.event_id == event_id, EventOccurrence.cancelled_at.is_not(None),
               Ticket.status != TicketStatus.cancelled)) or 0


# --------------------------------------------------------------------------- reading

def get_event(event_id: int, prop: Property | None = None) -> Event:
    event = session.get(Event, event_id)
    if event is None or (prop is not None and event.property_id != prop.id):
        raise NotFound(_l("There is no such event."))
    return event


def get_occurrence(occurrence_id: int) -> EventOccurrence:
    occurrence = session.scalar(select(EventOccurrence).where(EventOccurrence.id == occurrence_id)
                                .options(joinedload(EventOccurrence.event)))
    if occurrence is None:
        raise NotFound(_l("There is no such event."))
    session.refresh(occurrence)
    return occurrence


def ticket_by_code(code: str) -> Ticket | None:
    if not code or len(code) > 32:
        return None
    return session.scalar(select(Ticket).where(Ticket.code == code)
                          .options(joinedload(Ticket.member),
                                   joinedload(Ticket.occurrence).joinedload(EventOccurrence.event)))


def ticket_of_order(order_id: int) -> Ticket | None:
    """The ticket an order pays for (the ticket's latest order), with its occurrence."""
    return session.scalar(select(Ticket).where(Ticket.order_id == order_id)
                          .options(joinedload(Ticket.occurrence)))


def tickets_of_member(member: Member) -> Sequence[Ticket]:
    """The member's tickets and waitlist places, soonest first, cancelled ones last."""
    return session.scalars(
        select(Ticket).join(Ticket.occurrence).where(Ticket.member_id == member.id)
        .options(joinedload(Ticket.occurrence).joinedload(EventOccurrence.event))
        .order_by((Ticket.status == TicketStatus.cancelled), EventOccurrence.starts_at)).all()


def open_ticket(member: Member, occurrence_id: int) -> Ticket | None:
    return session.scalar(select(Ticket).where(Ticket.member_id == member.id,
                                               Ticket.occurrence_id == occurrence_id,
                                               Ticket.status != TicketStatus.cancelled))


def waitlist(occurrence_id: int) -> Sequence[Ticket]:
    """The occurrence's waitlist in the order it is served, with each member."""
    return session.scalars(_line(occurrence_id).with_only_columns(Ticket)
                           .options(joinedload(Ticket.member))).all()


def waitlist_position(ticket: Ticket) -> int | None:
    """1 for the first in line (counting as the line is served: guests in house first)."""
    if ticket.status != TicketStatus.waitlisted:
        return None
    line = list(session.scalars(_line(ticket.occurrence_id)))
    return line.index(ticket.id) + 1 if ticket.id in line else None


# --------------------------------------------------------------------------- who may come

def in_house_stay(member: Member, property_id: int) -> Stay | None:
    return session.scalar(
        select(Stay).join(StayGuest, StayGuest.stay_id == Stay.id)
        .where(StayGuest.member_id == member.id, Stay.property_id == property_id,
               Stay.status == StayStatus.in_house).order_by(Stay.id).limit(1))


def may_attend(member: Member | None, event: Event) -> bool:
    """In house events are for guests staying now; member events for anyone who has
    stayed; public events for any member."""
    if member is None:
        return False
    if event.audience == EventAudience.public:
        return True
    if event.audience == EventAudience.in_house:
        return in_house_stay(member, event.property_id) is not None
    return session.scalar(select(exists().where(
        StayGuest.member_id == member.id, StayGuest.stay_id == Stay.id,
        Stay.property_id == event.property_id,
        Stay.status.in_((StayStatus.in_house, StayStatus.checked_out))))) or False


def rsvp_closed(occurrence: EventOccurrence, now: datetime | None = None) -> bool:
    closes = occurrence.starts_at - timedelta(minutes=occurrence.event.rsvp_closes_minutes)
    return (now or utcnow()) >= closes or occurrence.cancelled_at is not None


# --------------------------------------------------------------------------- RSVP

def rsvp(occurrence_id: int, member: Member, plus_one: bool = False,
         provider_name: str | None = None, locale: str = "en") -> Ticket:
    """Take a place (or two with a +1), or join the waitlist when the occurrence is full.

    A paid event needs ``provider_name``: the place is held while the member
    pays (the order's hold), and the ticket is confirmed when the order is paid.
    """
    occurrence = get_occurrence(occurrence_id)
    event = occurrence.event
    _check_may_rsvp(occurrence, member, plus_one)
    places = 2 if plus_one else 1
    provider = _provider(event, member, provider_name)
    with transaction():
        took = _take(occurrence_id, places, behind_the_line=True)
        if not took:
            status = TicketStatus.waitlisted
        elif provider is None:
            status = TicketStatus.confirmed
        else:
            status = TicketStatus.pending_payment
        ticket = Ticket(occurrence_id=occurrence_id, member_id=member.id, places=places,
                        status=status, code=secrets.token_urlsafe(CODE_BYTES),
                        confirmed_at=utcnow() if status == TicketStatus.confirmed else None)
        session.add(ticket)
        _flush_or_conflict()
        if status == TicketStatus.pending_payment:
            ticket.order_id = _ticket_order(ticket, occurrence, member, provider, locale).id
    if ticket.status == TicketStatus.pending_payment:
        orders.start_payment(ticket.order_id, provider)
        session.refresh(ticket)
    elif ticket.status == TicketStatus.waitlisted:
        promote(occurrence_id)  # a single place a +1 ahead could not use goes to the line
        session.refresh(ticket)
    return ticket


def _check_may_rsvp(occurrence: EventOccurrence, member: Member, plus_one: bool) -> None:
    event = occurrence.event
    if event.cancelled_at or occurrence.cancelled_at:
        raise Conflict(_l("This event has been cancelled."))
    if rsvp_closed(occurrence):
        raise Conflict(_l("RSVPs for this event have closed."))
    if not may_attend(member, event):
        raise Forbidden(_l("This event is for guests staying at the hotel."))
    if plus_one and not event.plus_ones:
        raise ValidationFailed(_l("This event does not take a +1."), {"plus_one": ["Not allowed."]})
    if open_ticket(member, occurrence.id) is not None:
        raise Conflict(_l("You already have a place or are on the waitlist."))


def _provider(event: Event, member: Member, name: str | None):
    if not event.price:
        return None
    stay = in_house_stay(member, event.property_id)
    return orders.provider_for(event.property, stay, name or "")


def _flush_or_conflict() -> None:
    from sqlalchemy.exc import IntegrityError

    try:
        session.flush()
    except IntegrityError:  # two RSVPs of one member at once: the open-ticket index says no
        session.rollback()
        raise Conflict(_l("You already have a place or are on the waitlist.")) from None


def _ticket_order(ticket: Ticket, occurrence: EventOccurrence, member: Member, provider,
                  locale: str) -> Order:
    event = occurrence.event
    stay = in_house_stay(member, event.property_id)
    chinese = locale.startswith("zh")
    order = Order(token=secrets.token_urlsafe(16), property_id=event.property_id,
                  member_id=member.id, stay_id=stay.id if stay else None,
                  product_name=((chinese and event.title_zh) or event.title_en)[:200],
                  unit_price=event.price, quantity=ticket.places,
                  total=event.price * ticket.places, currency=event.currency, refunded=0,
                  status=OrderStatus.pending_payment, provider=provider.name,
                  delivery=TICKET_DELIVERY, room=stay.room if stay else None, locale=locale,
                  expires_at=orders.hold_until(provider))
    session.add(order)
    session.flush()
    orders.log_step(order, orders.GUEST, "placed")
    return order


def pay_offer(ticket_id: int, member: Member, provider_name: str, locale: str = "en") -> Ticket:
    """The member takes the place the waitlist offered them: they pay for it now."""
    ticket = _own_ticket(ticket_id, member)
    occurrence = get_occurrence(ticket.occurrence_id)
    if ticket.status != TicketStatus.offered or rsvp_closed(occurrence):
        raise Conflict(_l("This place is no longer offered to you."))
    provider = _provider(occurrence.event, member, provider_name)
    with transaction():
        order = _ticket_order(ticket, occurrence, member, provider, locale)
        moved = session.execute(
            update(Ticket).where(Ticket.id == ticket.id, Ticket.status == TicketStatus.offered,
                                 Ticket.offered_until >= utcnow())
            .values(status=TicketStatus.pending_payment, order_id=order.id, offered_until=None)
            .returning(Ticket.id)).scalar()
        if moved is None:
            session.rollback()
            raise Conflict(_l("This place is no longer offered to you."))
    orders.start_payment(order.id, provider)
    session.refresh(ticket)
    return ticket


def cancel_ticket(ticket_id: int, member: Member) -> Ticket:
    """The member gives their place (or waitlist place) up; a paid ticket is refunded."""
    ticket = _own_ticket(ticket_id, member)
    if ticket.status != TicketStatus.waitlisted and rsvp_closed(get_occurrence(ticket.occurrence_id)):
        raise Conflict(_l("It is too late to cancel: please tell the front desk."))
    try:
        cancelled = _cancel(ticket_id, orders.GUEST, refund=True)
    except PaymentProviderError:  # the order's history has the reason; staff refund it by hand
        current_app.logger.warning("Refund of cancelled ticket %s failed", ticket_id, exc_info=True)
        raise PaymentProviderError(_l("Your place is cancelled, but the refund could not be made "
                                      "just now: the front desk will refund you.")) from None
    if not cancelled:
        raise Conflict(_l("This place is already cancelled."))
    return session.get(Ticket, ticket_id)


def _own_ticket(ticket_id: int, member: Member) -> Ticket:
    ticket = session.get(Ticket, ticket_id)
    if ticket is None or ticket.member_id != member.id:
        raise NotFound(_l("There is no such ticket."))
    return ticket


def _cancel(ticket_id: int, actor: str, refund: bool, promote_next: bool = True,
            holding: Any = None) -> bool:
    """Cancel a ticket once: free its places, move the line, refund or stop its payment.

    ``holding`` narrows which holding tickets may be cancelled (an offer that ran out).
    """
    with transaction():
        held = _cancel_where(ticket_id, Ticket.status.in_(HOLDING) if holding is None else holding)
        ticket = held or (holding is None and _cancel_where(
            ticket_id, Ticket.status == TicketStatus.waitlisted)) or None
        if held:
            _release(held.occurrence_id, held.places)
    if ticket is None:
        return False
    # The line moves before the payment system is asked: a refund that fails (or is
    # slow) never keeps the place from the next in line, nor lets a newcomer take it.
    if held and promote_next:
        promote(ticket.occurrence_id)
    if ticket.order_id is not None:
        _settle_order_of_cancelled(ticket.order_id, actor, refund)
    return True


def _cancel_where(ticket_id: int, condition) -> Any:
    """One conditional UPDATE to cancelled; the ticket's (occurrence_id, places, order_id) or None."""
    return session.execute(
        update(Ticket).where(Ticket.id == ticket_id, condition)
        .values(status=TicketStatus.cancelled, cancelled_at=utcnow(), offered_until=None)
        .returning(Ticket.occurrence_id, Ticket.places, Ticket.order_id)).first()


def _settle_order_of_cancelled(order_id: int, actor: str, refund: bool) -> None:
    order = session.get(Order, order_id)
    session.refresh(order)
    if order.status == OrderStatus.pending_payment:
        orders.cancel_unpaid(order_id, actor)
    elif refund and order.status in orders.PAID_STATUSES and order.refunded < order.total:
        orders.refund(order_id, order.total - order.refunded, actor)


# --------------------------------------------------------------------------- places and the line

def _take(occurrence_id: int, places: int, behind_the_line: bool = False) -> bool:
    """Take places if they are free; ``behind_the_line``: only when nobody is waiting
    (a newcomer never takes a place the line is owed)."""
    query = (update(EventOccurrence)
             .where(EventOccurrence.id == occurrence_id, EventOccurrence.cancelled_at.is_(None),
                    EventOccurrence.taken + places <= EventOccurrence.capacity))
    if behind_the_line:
        query = query.where(~exists().where(Ticket.occurrence_id == occurrence_id,
                                            Ticket.status == TicketStatus.waitlisted))
    return session.execute(query.values(taken=EventOccurrence.taken + places)
                           .returning(EventOccurrence.id)).scalar() is not None


def _release(occurrence_id: int, places: int) -> None:
    session.execute(update(EventOccurrence).where(EventOccurrence.id == occurrence_id)
                    .values(taken=EventOccurrence.taken - places))


def _line(occurrence_id: int):
    """The waitlist in the order it is served: guests in house first, then by arrival."""
    occurrence = select(EventOccurrence.event_id).where(EventOccurrence.id == occurrence_id)
    property_id = select(Event.property_id).where(Event.id == occurrence.scalar_subquery())
    staying = exists().where(StayGuest.member_id == Ticket.member_id,
                             StayGuest.stay_id == Stay.id,
                             Stay.property_id == property_id.scalar_subquery(),
                             Stay.status == StayStatus.in_house)
    return (select(Ticket.id).where(Ticket.occurrence_id == occurrence_id,
                                    Ticket.status == TicketStatus.waitlisted)
            .order_by(staying.desc(), Ticket.id))


def promote(occurrence_id: int) -> list[Ticket]:
    """Give freed places to the line, in order, as long as they fit; returns the promoted."""
    promoted: list[Ticket] = []
    skipped: set[int] = set()
    if rsvp_closed(get_occurrence(occurrence_id)):
        return promoted  # too late to come: the line stays as it is
    while True:
        with transaction():
            candidate = session.scalar(_line(occurrence_id).where(Ticket.id.not_in(skipped))
                                       .limit(1).with_for_update(skip_locked=True))
            if candidate is None:
                break
            ticket = session.get(Ticket, candidate)
            if not _take(occurrence_id, ticket.places):
                if ticket.places == 1:
                    break  # full
                skipped.add(ticket.id)  # a +1 that does not fit; a single behind it may
                continue
            paid = get_occurrence(occurrence_id).event.price > 0
            values = ({"status": TicketStatus.offered,
                       "offered_until": utcnow() + config_value("EVENT_OFFER_HOLD")}
                      if paid else {"status": TicketStatus.confirmed, "confirmed_at": utcnow()})
            moved = session.execute(
                update(Ticket).where(Ticket.id == ticket.id,
                                     Ticket.status == TicketStatus.waitlisted)
                .values(**values).returning(Ticket.id)).scalar()
            if moved is None:
                session.rollback()
                continue
            notify(ticket.member_id, PLACE_OFFERED if paid else PLACE_FREED,
                   {"occurrence": occurrence_id}, "", commit=False)
        session.refresh(ticket)
        promoted.append(ticket)
    return promoted


def expire_offers(now: datetime | None = None) -> int:
    """Offers the member did not take in time go to the next in line; returns how many."""
    now = now or utcnow()
    ran_out = (Ticket.status == TicketStatus.offered) & (Ticket.offered_until < now)
    expired = list(session.scalars(select(Ticket.id).where(ran_out)))
    session.rollback()
    # The UPDATE re-checks: an offer the member is paying for meanwhile is theirs.
    return sum(_cancel(ticket_id, orders.SYSTEM, refund=False, holding=ran_out)
               for ticket_id in expired)


# --------------------------------------------------------------------------- orders of tickets

def init_app(app: Flask) -> None:
    """Confirm a ticket when its order is paid; free its place when the order is cancelled."""
    signals.order_paid.connect(_order_paid, sender=app)
    signals.order_cancelled.connect(_order_cancelled, sender=app)
    signals.order_refunded.connect(_order_refunded, sender=app)


def _order_paid(sender: Flask, order: Order, **_: Any) -> None:
    if order.delivery != TICKET_DELIVERY:
        return
    with transaction():
        session.execute(update(Ticket).where(
            Ticket.order_id == order.id,
            Ticket.status.in_((TicketStatus.pending_payment, TicketStatus.offered)))
            .values(status=TicketStatus.confirmed, confirmed_at=utcnow(), offered_until=None))


def _order_refunded(sender: Flask, order: Order, **_: Any) -> None:
    """A ticket refunded in full gives its place up (to the next in line)."""
    session.refresh(order)
    if order.refunded >= order.total:
        _order_cancelled(sender, order)


def _order_cancelled(sender: Flask, order: Order, **_: Any) -> None:
    if order.delivery != TICKET_DELIVERY:
        return
    # A paid order staff cancelled (and refunded) takes its ticket's place with it.
    for ticket_id in list(session.scalars(select(Ticket.id).where(
            Ticket.order_id == order.id, Ticket.status.in_(HOLDING)))):
        _cancel(ticket_id, orders.SYSTEM, refund=False)


# --------------------------------------------------------------------------- the door

@dataclass(frozen=True)
class CheckIn:
    """What the door says: ``admitted``, ``already_used``, ``wrong_occurrence``,
    ``cancelled``, ``not_a_place`` (waitlisted or unpaid) or ``unknown``."""

    result: str
    ticket: Ticket | None = None
    used_at: datetime | None = None
    used_by: str | None = None


def check_in(occurrence_id: int, code: str, actor: str, scan_id: str | None = None) -> CheckIn:
    """Admit the ticket's holder once. The same scan sent again (``scan_id``, from a door
    device that queued it offline) is admitted again rather than called a second use."""
    ticket = ticket_by_code(code.strip())
    if ticket is None:
        return CheckIn("unknown")
    if ticket.occurrence_id != occurrence_id:
        return CheckIn("wrong_occurrence", ticket)
    if ticket.status == TicketStatus.cancelled or ticket.occurrence.cancelled_at:
        return CheckIn("cancelled", ticket)
    if ticket.status != TicketStatus.confirmed:
        return CheckIn("not_a_place", ticket)
    with transaction():
        admitted = session.execute(
            update(Ticket).where(Ticket.id == ticket.id, Ticket.checked_in_at.is_(None),
                                 Ticket.status == TicketStatus.confirmed)
            .values(checked_in_at=utcnow(), checked_in_by=actor[:100],
                    check_in_scan=(scan_id or "")[:64] or None)
            .returning(Ticket.id)).scalar()
    session.refresh(ticket)
    if admitted or (scan_id and ticket.check_in_scan == scan_id[:64]):
        return CheckIn("admitted", ticket, ticket.checked_in_at, ticket.checked_in_by)
    return CheckIn("already_used", ticket, ticket.checked_in_at, ticket.checked_in_by)


# --------------------------------------------------------------------------- telling members

def notify(member_id: int, kind: str, params: dict[str, Any], link: str,
           commit: bool = True) -> None:
    note = Notification(member_id=member_id, kind=kind, params=params, link=link)
    if commit:
        with transaction():
            session.add(note)
    else:
        session.add(note)


def unread_notifications(member: Member, limit: int = 20) -> Sequence[Notification]:
    return session.scalars(select(Notification).where(Notification.member_id == member.id,
                                                      Notification.read_at.is_(None))
                           .order_by(Notification.id.desc()).limit(limit)).all()


def mark_read(member: Member, notification_id: int) -> None:
    with transaction():
        session.execute(update(Notification).where(Notification.id == notification_id,
                                                   Notification.member_id == member.id)
                        .values(read_at=utcnow()))


def _announce(prop: Property, event: Event, actor: str) -> None:
    """Tell the stay group: the event's title, first date and place, in English and Chinese."""
    from hotel_community.models import GroupKind
    from hotel_community.services.feed import announce
    from hotel_community.services.properties import groups_by_kind

    local = event.starts_at.replace(tzinfo=ZoneInfo("UTC")).astimezone(ZoneInfo(prop.timezone))
    when = local.strftime("%a %d %b %H:%M") + (" (daily)" if event.repeat_daily_until else "")
    lines = [f"New event: {event.title_en}, {when}" + (f", {event.place}" if event.place else "")]
    if event.title_zh:
        lines.append(f"新活动：{event.title_zh}，{local.strftime('%m月%d日 %H:%M')}")
    post = announce(actor or "Front Desk", groups_by_kind(prop)[GroupKind.stay].id,
                    "\n".join(lines))
    with transaction():
        session.get(Event, event.id).announcement_post_id = post.id


def local_time(prop: Property, moment: datetime) -> datetime:
    return moment.replace(tzinfo=ZoneInfo("UTC")).astimezone(ZoneInfo(prop.timezone))


def local_day_bounds(prop: Property, day: date) -> tuple[datetime, datetime]:
    zone = ZoneInfo(prop.timezone)
    start = datetime.combine(day, time(0), tzinfo=zone)
    return to_naive_utc(start), to_naive_utc(start + timedelta(days=1))
