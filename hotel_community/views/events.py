"""Member events, the guest side: upcoming dates, RSVP (+1, paid places), the waitlist,
tickets with their QR code and calendar file, and what the product tells members.

Every rule is in services/events.py; a refusal (full, closed, not for you) comes
back as the service's error and is shown on the event's page with its status.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import Response, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from hotel_community.errors import CommunityError, NotFound, PaymentProviderError
from hotel_community.forms import ActionForm, RsvpForm, TicketPaymentForm
from hotel_community.i18n import gettext as _
from hotel_community.models import EventOccurrence, Member, TicketStatus
from hotel_community.services import events, guest_events, orders, properties
from hotel_community.services.qr import qr_svg
from hotel_community.views import event_words, local_path
from hotel_community.views.event_words import Note
from hotel_community.views.guest_base import (
    current_member, guest_blueprint, member_required, message_page,
)

bp = guest_blueprint("events", __name__)

#: Ticket statuses the member may still give up.
CANCELLABLE = (TicketStatus.confirmed, TicketStatus.waitlisted, TicketStatus.offered,
               TicketStatus.pending_payment)


@bp.get("/events", endpoint="list")
def event_list() -> str | tuple[str, int]:
    """A member sees what they may attend; a visitor the public events of ``?property=``."""
    member = current_member()
    if member is not None:
        found, prop = guest_events.upcoming_for_member(member), None
    elif request.args.get("property"):
        prop = properties.get_property(request.args["property"])
        found = guest_events.upcoming_public(prop)
    else:
        return message_page(_("Sign in with your room number to see the events."), 200)
    tickets = guest_events.open_tickets(member, [occurrence.id for occurrence in found])
    return render_template("hotel_community/guest/events.html", occurrences=found,
                           tickets=tickets, prop=prop, words=event_words)


@bp.get("/events/<hc_id:occurrence_id>")
def occurrence(occurrence_id: int) -> str | tuple[str, int]:
    return _page(guest_events.occurrence_for(occurrence_id, current_member()))


@bp.post("/events/<hc_id:occurrence_id>/rsvp")
@member_required
def rsvp(occurrence_id: int) -> BaseResponse | tuple[str, int]:
    form = RsvpForm()
    try:
        ticket = events.rsvp(occurrence_id, current_member(), plus_one=bool(form.plus_one.data),
                             provider_name=form.provider.data or None,
                             locale=event_words.locale())
    except CommunityError as refused:
        return _refused(occurrence_id, _readable(refused))
    if ticket.status == TicketStatus.pending_payment:
        return redirect(url_for("hotel_community.orders.order", token=ticket.order.token), 303)
    flash(_("You're going!") if ticket.status == TicketStatus.confirmed
          else _("The event is full: you are on the waitlist (#%(position)d). We will tell you "
                 "here if a place opens up.", position=events.waitlist_position(ticket) or 1))
    return redirect(url_for(".occurrence", occurrence_id=occurrence_id), 303)


@bp.post("/events/tickets/<hc_id:ticket_id>/cancel")
@member_required
def cancel(ticket_id: int) -> BaseResponse | tuple[str, int]:
    ticket = guest_events.own_ticket(ticket_id, current_member())
    paid = ticket.order_id is not None and ticket.status == TicketStatus.confirmed
    try:
        events.cancel_ticket(ticket_id, current_member())
    except PaymentProviderError as late_refund:  # cancelled; the desk refunds by hand
        flash(late_refund.message)
    except CommunityError as refused:
        return _refused(ticket.occurrence_id, refused)
    else:
        flash(_("Your place is cancelled; the payment is refunded.") if paid
              else _("Your place is cancelled."))
    return redirect(url_for(".occurrence", occurrence_id=ticket.occurrence_id), 303)


@bp.post("/events/tickets/<hc_id:ticket_id>/pay")
@member_required
def pay(ticket_id: int) -> BaseResponse | tuple[str, int]:
    """Take a place the waitlist offered: pay for it on the order page."""
    ticket = guest_events.own_ticket(ticket_id, current_member())
    form = TicketPaymentForm()
    try:
        ticket = events.pay_offer(ticket_id, current_member(), form.provider.data or "",
                                  event_words.locale())
    except CommunityError as refused:
        return _refused(ticket.occurrence_id, _readable(refused))
    return redirect(url_for("hotel_community.orders.order", token=ticket.order.token), 303)


@bp.get("/events/tickets/<hc_id:ticket_id>")
@member_required
def ticket(ticket_id: int) -> str:
    found = guest_events.own_ticket(ticket_id, current_member())
    return render_template("hotel_community/guest/event_ticket.html", ticket=found,
                           occurrence=found.occurrence, event=found.occurrence.event,
                           qr=qr_svg(found.code) if found.status == TicketStatus.confirmed
                           else None, words=event_words)


@bp.get("/events/tickets/<hc_id:ticket_id>.ics")
@member_required
def ticket_calendar(ticket_id: int) -> Response:
    found = guest_events.own_ticket(ticket_id, current_member())
    url = url_for(".ticket", ticket_id=found.id, _external=True)
    day = found.occurrence.starts_at.strftime("%Y-%m-%d")
    return Response(event_words.calendar_file(found, url, request.host),
                    content_type="text/calendar; charset=utf-8",
                    headers={"Content-Disposition":
                             f'attachment; filename="event-{found.occurrence_id}-{day}.ics"'})


@bp.get("/events/tickets")
@member_required
def my_tickets() -> str:
    """The member's places and waitlist places, soonest first, cancelled ones last."""
    return render_template("hotel_community/guest/event_tickets.html",
                           tickets=events.tickets_of_member(current_member()), words=event_words)


@bp.post("/events/notifications/<hc_id:notification_id>/read")
@member_required
def dismiss(notification_id: int) -> BaseResponse:
    events.mark_read(current_member(), notification_id)
    return redirect(local_path(request.form.get("next"))
                    or url_for("hotel_community.guest.group"), 303)


@dataclass(frozen=True)
class Notifications:
    notes: list[Note]
    #: Carries the CSRF token of the "Dismiss" buttons.
    form: ActionForm | None = None


@bp.app_template_global()
def event_notifications() -> Notifications:
    """The signed-in member's unread notifications, worded; for any guest page to show."""
    member = current_member()
    if member is None:
        return Notifications([])
    return Notifications([event_words.note(notification, member)
                          for notification in events.unread_notifications(member, limit=5)],
                         ActionForm())


# --------------------------------------------------------------------------- the event's page

def _page(found: EventOccurrence, refused: CommunityError | None = None) -> tuple[str, int]:
    """The date's page: details, seats left, and the RSVP form or the member's ticket."""
    member = current_member()
    ticket = events.open_ticket(member, found.id) if member is not None else None
    context = {"occurrence": found, "event": found.event, "ticket": ticket, "words": event_words,
               "error": refused.message if refused else None, "action": ActionForm(),
               "closed": events.rsvp_closed(found)}
    if member is not None and ticket is None and _may_rsvp(found, member):
        context["form"] = _rsvp_form(found, member)
    if ticket is not None and ticket.status == TicketStatus.offered:
        context["pay_form"] = _payment_form(TicketPaymentForm(), found, member)
    if ticket is not None and ticket.status == TicketStatus.confirmed:
        context["attendees"] = guest_events.attendees(found.id, member)
    return (render_template("hotel_community/guest/event.html", cancellable=CANCELLABLE,
                            **context), refused.status if refused else 200)


def _may_rsvp(found: EventOccurrence, member: Member) -> bool:
    return (not found.event.cancelled_at and not events.rsvp_closed(found)
            and events.may_attend(member, found.event))


def _rsvp_form(found: EventOccurrence, member: Member) -> RsvpForm:
    form = _payment_form(RsvpForm(), found, member)
    if not found.event.plus_ones:
        del form.plus_one
    return form


def _payment_form(form: TicketPaymentForm, found: EventOccurrence,
                  member: Member) -> TicketPaymentForm:
    """The ways this member may pay at this hotel, the first chosen; none for a free event."""
    if not found.event.price:
        del form.provider
        return form
    stay = events.in_house_stay(member, found.event.property_id)
    providers = orders.available_providers(found.event.property, stay)
    form.provider.choices = [(provider.name, str(provider.label)) for provider in providers]
    if not form.provider.data and providers:
        form.provider.data = providers[0].name
    return form


def _refused(occurrence_id: int, refused: CommunityError) -> tuple[str, int]:
    """The event's page with the service's message, or the message alone when the
    member may not see the event at all."""
    try:
        found = guest_events.occurrence_for(occurrence_id, current_member())
    except NotFound:
        return message_page(refused.message, refused.status)
    return _page(found, refused)


def _readable(refused: CommunityError) -> CommunityError:
    """A payment system's own words stay in the order's history; the guest reads ours."""
    if isinstance(refused, PaymentProviderError):
        return PaymentProviderError(_("The payment could not be started; nothing was charged. "
                                      "Please try again or choose another way to pay."))
    return refused
