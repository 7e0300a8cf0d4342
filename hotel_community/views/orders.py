"""The guest's orders: the order page (for anyone holding its link), the payment
page's confirm step, and "my orders" with buying again.

The order page's URL carries the order's unguessable token, so a guest who is
not signed in (a passer-by paying by card) can come back to it.
"""
from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from babel.dates import format_skeleton, format_time
from flask import Response, current_app, jsonify, render_template, request, url_for
from flask_babel import get_locale
from flask_wtf.csrf import CSRFError, generate_csrf

from hotel_community.errors import CommunityError, MalformedRequest, NotFound, PaymentProviderError
from hotel_community.hookspecs import PaymentProvider
from hotel_community.i18n import gettext as _
from hotel_community.models import Order, OrderEvent, OrderStatus
from hotel_community.services import events, orders, shop
from hotel_community.services.products import format_price
from hotel_community.views.guest_base import (
    current_member, guest_blueprint, member_required, message_page,
)

bp = guest_blueprint("orders", __name__)
CONFIRM = "hotel_community.orders.confirm"


@bp.get("/orders/<token>")
def order(token: str) -> Response:
    """The order, its payment while pending, and its history as the guest reads it."""
    found = orders.order_by_token(token)
    try:
        orders.sync_with_provider(found)
    except PaymentProviderError:  # the page shows the order as it stands; the webhook catches up
        current_app.logger.warning("Could not ask about the payment of order %s", found.id,
                                   exc_info=True)
    provider = orders.providers().get(found.provider)
    if found.status == OrderStatus.pending_payment:
        context = _payment_context(found, provider)
    else:
        context = {"reorder": shop.placements_to_reorder([found]).get(found.id),
                   "ticket_url": _ticket_url(found)}
    response = Response(render_template("hotel_community/guest/order.html", order=found,
                                        provider=provider, **_helpers(), **context))
    # The URL is the key to the order: keep it out of caches and other sites' logs.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
    return response


def _payment_context(order: Order, provider: PaymentProvider | None) -> dict:
    """What the provider's payment template is rendered with (``PaymentProvider.template``)."""
    if provider is None or not provider.template:
        return {}
    try:
        payment = provider.page_context(order)
    except PaymentProviderError:
        current_app.logger.warning("Could not prepare the payment of order %s", order.id,
                                   exc_info=True)
        return {"payment_unavailable": True}
    return {"payment": payment, "csrf_token": generate_csrf,
            "confirm_url": url_for(".confirm", token=order.token),
            "order_url": url_for(".order", token=order.token, _external=True)}


def _ticket_url(order: Order) -> str | None:
    """Where a paid ticket order's ticket is shown (to its member, signed in)."""
    if order.delivery != events.TICKET_DELIVERY or order.status not in orders.PAID_STATUSES:
        return None
    ticket = events.ticket_of_order(order.id)
    return url_for("hotel_community.events.ticket", ticket_id=ticket.id) if ticket else None


@bp.post("/orders/<token>/confirm")
def confirm(token: str) -> tuple[Response, int]:
    """A step the payment page's script asks for (JSON out); the provider decides what it does."""
    try:
        found = orders.order_by_token(token)
        result = orders.provider_of(found).confirm(found, request.form.to_dict())
    except CommunityError as error:
        return jsonify(error.to_json()), error.status
    except NotImplementedError:
        return jsonify(NotFound(_("This way to pay has no such step.")).to_json()), 404
    return jsonify(result), 200


@bp.get("/orders")
@member_required
def my_orders() -> str:
    """The signed-in member's orders at every property, newest first."""
    found = orders.orders_of_member(current_member())
    return render_template("hotel_community/guest/my_orders.html", orders=found,
                           reorder=shop.placements_to_reorder(found), **_helpers())


@bp.errorhandler(CSRFError)
def _csrf_error(error: CSRFError) -> tuple[Response | str, int]:
    """The confirm step answers in JSON, like its other errors; pages get the usual message."""
    if request.endpoint == CONFIRM:
        expired = MalformedRequest(_("This page has expired. Please reload it and try again."))
        return jsonify(expired.to_json()), expired.status
    return message_page(_("This page has expired. Please go back, reload it and try again."), 400)


# --------------------------------------------------------------------------- words

def _helpers() -> dict:
    locale = str(get_locale() or "en")
    return {"price": lambda amount, order: format_price(amount, order.currency, locale),
            "when": lambda moment, order: _local_time(moment, order, locale),
            "status_text": status_text, "history": history,
            "delivery_label": shop.delivery_label, "SHIP_HOME": shop.SHIP_HOME,
            "TICKET": events.TICKET_DELIVERY,
            "pending": OrderStatus.pending_payment}


def status_text(order: Order) -> str:
    if order.status == OrderStatus.fulfilled:
        return _fulfilled(order)
    if order.status == OrderStatus.paid and order.refunded:
        return _("Paid, partly refunded")
    if order.status == OrderStatus.paid and order.delivery == events.TICKET_DELIVERY:
        return _("Paid: your ticket is confirmed")
    return {OrderStatus.pending_payment: _("Waiting for payment"), OrderStatus.paid: _("Paid"),
            OrderStatus.cancelled: _("Cancelled"),
            OrderStatus.refunded: _("Refunded")}[order.status]


#: The steps of an order's history a guest is shown; the others are for staff.
GUEST_STEPS = ("placed", "paid", "payment_failed", "expired", "fulfilled", "cancelled", "refunded")


def history(order: Order) -> list[tuple[OrderEvent, str]]:
    """(event, what it means for the guest) for the steps the guest cares about."""
    words = {
        "placed": _("Order placed"),
        "paid": _("Paid"),
        "payment_failed": _("The payment did not go through"),
        "expired": _("Cancelled: the payment was not made in time"),
        "fulfilled": _fulfilled(order),
        "cancelled": _("Cancelled"),
        "refunded": _("Refunded"),
    }
    return [(event, words[event.action]) for event in order.events if event.action in GUEST_STEPS]


def _fulfilled(order: Order) -> str:
    return {shop.TAKE_FROM_ROOM: _("It's yours"), shop.BRING_TO_ROOM: _("Delivered to your room"),
            shop.DESK_PICKUP: _("Picked up"), shop.SHIP_HOME: _("Shipped"),
            events.TICKET_DELIVERY: _("Ticket confirmed")}[order.delivery]


def _local_time(moment: datetime, order: Order, locale: str) -> str:
    """A stored (naive UTC) time at the hotel's clock: "Nov 25 2:04 PM", "11月25日 14:04"."""
    local = moment.replace(tzinfo=timezone.utc).astimezone(ZoneInfo(order.property.timezone))
    day = format_skeleton("MMMd", local, locale=locale)
    return f"{day} {format_time(local, 'short', locale=locale)}"
