"""The front desk's view of a property's orders: a filtered list, sales figures, CSV rows.

Reading only, apart from thin wrappers that check an order belongs to the
property before the steps in :mod:`hotel_community.services.orders` run.
Every query is bounded: a page of the list is one statement (the member is
joined), the detail page two (the history is loaded in one more), and the
sales figures are sums grouped by day in SQL. Days and times are the
property's (its time zone), as for :mod:`hotel_community.services.health`.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Iterator, Sequence
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, case, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from hotel_community.database import session
from hotel_community.errors import NotFound, ValidationFailed
from hotel_community.models import Member, Order, OrderEvent, OrderStatus, Property, Ticket
from hotel_community.services import events, orders, shop
from hotel_community.services.access import today_at
from hotel_community.services.health import day_bounds
from hotel_community.services.products import minor_to_decimal, price_to_minor

PAGE_SIZE = 50
#: Order ids are 32-bit integers: a larger number names no order.
MAX_ORDER_ID = 2**31 - 1
#: The CSV export reads the orders in batches of this many.
CSV_BATCH = 500
#: The sales chart covers one of these numbers of days, today included.
SALES_WINDOWS = (14, 30)
#: Cells starting with one of these are formulas to a spreadsheet (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

STATUS_TEXT = {
    OrderStatus.pending_payment: "Pending payment",
    OrderStatus.paid: "Paid",
    OrderStatus.fulfilled: "Fulfilled",
    OrderStatus.cancelled: "Cancelled",
    OrderStatus.refunded: "Refunded",
}
DELIVERY_TEXT = {
    shop.TAKE_FROM_ROOM: "Taken from the room",
    shop.BRING_TO_ROOM: "Bring to the room",
    shop.DESK_PICKUP: "Pick up at the desk",
    shop.SHIP_HOME: "Ship home",
    events.TICKET_DELIVERY: "Event ticket",
}
ROOM_DELIVERY_TEXT = {shop.TAKE_FROM_ROOM: "Taken from room {room}",
                      shop.BRING_TO_ROOM: "Bring to room {room}"}


@dataclass(frozen=True)
class OrderFilters:
    """What the list is narrowed to; empty values filter nothing. Dates are the property's."""

    status: OrderStatus | None = None
    provider: str = ""
    delivery: str = ""
    date_from: date | None = None
    date_to: date | None = None
    #: An order number (``123`` or ``#123``), a room, or part of a name or a product's name.
    search: str = ""

    def as_args(self) -> dict[str, str]:
        """The filters as query-string arguments (for the next page and the CSV link)."""
        values = {"status": self.status.value if self.status else "", "provider": self.provider,
                  "delivery": self.delivery, "q": self.search,
                  "from": self.date_from.isoformat() if self.date_from else "",
                  "to": self.date_to.isoformat() if self.date_to else ""}
        return {name: value for name, value in values.items() if value}


@dataclass(frozen=True)
class OrderPage:
    orders: list[Order]
    #: The cursor of the next (older) page, or None on the last.
    before: int | None


@dataclass(frozen=True)
class Sales:
    """Money taken per day of ``days`` (oldest first), in minor units of ``currency``."""

    days: list[date]
    currency: str
    paid: list[int]
    refunded: list[int]

    @property
    def net(self) -> list[int]:
        return [paid - refunded for paid, refunded in zip(self.paid, self.refunded)]

    @property
    def total_net(self) -> int:
        return sum(self.paid) - sum(self.refunded)


# --------------------------------------------------------------------------- the list

def list_orders(prop: Property, filters: OrderFilters = OrderFilters(),
                before: int | None = None, size: int | None = None) -> OrderPage:
    """A page of ``size`` (default :data:`PAGE_SIZE`) of the property's orders,
    newest first (keyset on the id)."""
    size = size or PAGE_SIZE
    query = _filtered(prop, filters).options(joinedload(Order.member))
    if before is not None:
        query = query.where(Order.id < before)
    rows = list(session.scalars(query.order_by(Order.id.desc()).limit(size + 1)))
    shown = rows[:size]
    return OrderPage(shown, shown[-1].id if len(rows) > size else None)


def _filtered(prop: Property, filters: OrderFilters):
    query = orders.orders_query(prop)
    if filters.status is not None:
        query = query.where(Order.status == filters.status)
    if filters.provider:
        query = query.where(Order.provider == filters.provider)
    if filters.delivery:
        query = query.where(Order.delivery == filters.delivery)
    if filters.date_from is not None:
        query = query.where(Order.created_at >= day_bounds(prop, [filters.date_from])[0])
    if filters.date_to is not None:
        query = query.where(Order.created_at < day_bounds(prop, [filters.date_to])[1])
    if filters.search.strip():
        query = query.where(_search(filters.search.strip()))
    return query


def _search(text: str) -> ColumnElement[bool]:
    pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    # Both orders of a name: "Mei Chen", and "Chen Mei" as it is written in Chinese.
    names = (Member.first_name + " " + Member.last_name, Member.last_name + " " + Member.first_name)
    matches = [Order.room == text,
               Order.ship_name.ilike(pattern, escape="\\"),
               Order.product_name.ilike(pattern, escape="\\"),
               Order.member.has(or_(*(name.ilike(pattern, escape="\\") for name in names)))]
    number = text.removeprefix("#")
    if number.isascii() and number.isdigit() and 0 < int(number) <= MAX_ORDER_ID:
        matches.append(Order.id == int(number))
    return or_(*matches)


# --------------------------------------------------------------------------- one order

def order_of(prop: Property, order_id: int) -> Order:
    """The property's order with its guest, stay and history; another property's is not found."""
    order = session.scalar(
        orders.orders_query(prop).where(Order.id == order_id)
        .options(joinedload(Order.member), joinedload(Order.stay),
                 selectinload(Order.events)))
    if order is None:
        raise NotFound("There is no such order at this property.")
    return order


def take_desk_payment(prop: Property, order_id: int, actor: str) -> Order:
    order_of(prop, order_id)
    return orders.record_desk_payment(order_id, actor)


def fulfil(prop: Property, order_id: int, actor: str) -> Order:
    order_of(prop, order_id)
    return orders.fulfil(order_id, actor)


def cancel(prop: Property, order_id: int, actor: str) -> Order:
    order_of(prop, order_id)
    return orders.cancel(order_id, actor)


def refund(prop: Property, order_id: int, amount_text: str, actor: str,
           restock: bool = False) -> tuple[Order, int]:
    """Refund an amount typed as text (``"12.50"``) in the order's currency; returns
    the order and the minor units refunded."""
    order = order_of(prop, order_id)
    try:
        amount = price_to_minor(amount_text, order.currency)
    except ValidationFailed:
        raise ValidationFailed("Enter the amount to refund as a number, e.g. 12.50 (no thousands "
                               "separators).", {"amount": ["Not an amount."]}) from None
    return orders.refund(order_id, amount, actor, restock=restock), amount


def ticket_of(order: Order) -> Ticket | None:
    """The event ticket a ticket order pays for; None for the shop's orders."""
    return events.ticket_of_order(order.id) if order.delivery == events.TICKET_DELIVERY else None


def remaining(order: Order) -> int:
    """What is left to refund on the order, in minor units (nothing before it is paid)."""
    return order.total - order.refunded if order.paid_at is not None else 0


# --------------------------------------------------------------------------- how it reads

def status_text(order: Order) -> str:
    text = STATUS_TEXT[order.status]
    if 0 < order.refunded < order.total:
        text += ", partly refunded"
    return text


def delivery_text(order: Order) -> str:
    """How the item reaches the guest, with the room or the address."""
    if order.delivery == shop.SHIP_HOME:
        return f"{DELIVERY_TEXT[shop.SHIP_HOME]}: {address_text(order)}"
    if order.room and order.delivery in ROOM_DELIVERY_TEXT:
        return ROOM_DELIVERY_TEXT[order.delivery].format(room=order.room)
    return DELIVERY_TEXT.get(order.delivery, order.delivery)


def address_text(order: Order) -> str:
    parts = (order.ship_name, order.ship_phone, order.ship_address, order.ship_city,
             order.ship_postcode, order.ship_country)
    return ", ".join(part for part in parts if part)


def guest_name(order: Order) -> str:
    """The member who ordered, else the recipient typed on the form, else nothing."""
    if order.member is not None:
        return order.member.full_name or "Deleted account"
    return order.ship_name or ""


def provider_label(name: str) -> str:
    provider = orders.providers().get(name)
    return str(provider.label) if provider is not None else name


def provider_choices() -> list[tuple[str, str]]:
    return [(name, str(provider.label)) for name, provider in sorted(orders.providers().items())]


def local_time(prop: Property, moment: datetime | None) -> datetime | None:
    """A stored (naive UTC) time in the property's time zone."""
    if moment is None:
        return None
    return moment.replace(tzinfo=timezone.utc).astimezone(ZoneInfo(prop.timezone))


# --------------------------------------------------------------------------- figures

def sales(prop: Property, days: int = 30, today: date | None = None) -> Sales:
    """Payments taken and refunds given per local day, in the property's currency.

    A payment counts on the day it was made (``paid_at``), a refund on the
    day it was given (its history line), so a day may net out negative.
    """
    if days not in SALES_WINDOWS:
        raise ValidationFailed(f"Sales cover {' or '.join(map(str, SALES_WINDOWS))} days.")
    today = today or today_at(prop)
    span = [today - timedelta(days=n) for n in range(days - 1, -1, -1)]
    bounds = day_bounds(prop, span)
    mine = (Order.property_id == prop.id, Order.currency == prop.currency)
    paid = _sum_per_day(Order.paid_at, Order.total, bounds, *mine)
    refunded = _sum_per_day(OrderEvent.at, OrderEvent.amount, bounds, *mine,
                            OrderEvent.order_id == Order.id, OrderEvent.action == "refunded")
    return Sales(days=span, currency=prop.currency, paid=paid, refunded=refunded)


def _sum_per_day(moment: ColumnElement[Any], amount: ColumnElement[Any],
                 bounds: list[datetime], *criteria: ColumnElement[bool]) -> list[int]:
    """The sum of ``amount`` over rows with ``moment`` in each span of ``bounds``
    (grouped outside a subquery, as in :func:`health.count_per_day`)."""
    day = case(*((moment < end, index) for index, end in enumerate(bounds[1:])))
    rows = (select(day.label("day"), amount.label("amount"))
            .where(moment >= bounds[0], moment < bounds[-1], *criteria).subquery())
    sums = [0] * (len(bounds) - 1)
    for index, total in session.execute(
            select(rows.c.day, func.sum(rows.c.amount)).group_by(rows.c.day)):
        sums[index] = int(total or 0)
    return sums


def whole_units(amount: int, currency: str) -> int:
    """Minor units as whole currency units, rounded half up (the chart's scale)."""
    return int(minor_to_decimal(amount, currency).to_integral_value(ROUND_HALF_UP))


def count_by_status(prop: Property) -> dict[OrderStatus, int]:
    """Every status with its count, zeros included, in the order of the flow."""
    counts = orders.count_by_status(prop)
    return {status: counts.get(status, 0) for status in OrderStatus}


# --------------------------------------------------------------------------- CSV

CSV_HEADER = ("Order", "Placed", "Status", "Product", "Quantity", "Unit price", "Total",
              "Refunded", "Currency", "Payment", "Payment reference", "Delivery", "Room",
              "Guest", "Recipient", "Phone", "Address", "City", "Postcode", "Country",
              "Paid", "Fulfilled", "Cancelled")


def csv_rows(prop: Property, filters: OrderFilters) -> Iterator[Sequence[Any]]:
    """The header, then one row per order the filters keep, newest first, read in batches.

    Money is a :class:`~decimal.Decimal` in the currency's units (``129.00``),
    times are the property's local time, and text a guest or clerk typed is
    defused so a spreadsheet never runs it as a formula.
    """
    yield CSV_HEADER
    before = None
    while True:
        page = list_orders(prop, filters, before=before, size=CSV_BATCH)
        yield from (_csv_row(prop, order) for order in page.orders)
        if page.before is None:
            return
        before = page.before


def csv_lines(prop: Property, filters: OrderFilters) -> Iterator[str]:
    """:func:`csv_rows` as CSV text, a line at a time, starting with a UTF-8 BOM so
    spreadsheet programs read Chinese names right."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    for row in csv_rows(prop, filters):
        writer.writerow(row)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


def _csv_row(prop: Property, order: Order) -> list[Any]:
    def money(amount: int) -> Decimal:
        return minor_to_decimal(amount, order.currency)

    def when(moment: datetime | None) -> str:
        local = local_time(prop, moment)
        return local.strftime("%Y-%m-%d %H:%M") if local else ""

    typed = [order.product_name, order.provider_ref, order.room, guest_name(order),
             order.ship_name, order.ship_phone, order.ship_address, order.ship_city,
             order.ship_postcode, order.ship_country]
    (product, reference, room, guest, recipient, phone, address, city, postcode,
     country) = (defused(value or "") for value in typed)
    return [order.id, when(order.created_at), status_text(order), product, order.quantity,
            money(order.unit_price), money(order.total), money(order.refunded), order.currency,
            provider_label(order.provider), reference, DELIVERY_TEXT.get(order.delivery, ""),
            room, guest, recipient, phone, address, city, postcode, country,
            when(order.paid_at), when(order.fulfilled_at), when(order.cancelled_at)]


def defused(text: str) -> str:
    """Text as a spreadsheet shows it but never evaluates it (``=1+1`` -> ``'=1+1``)."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text

