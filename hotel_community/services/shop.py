"""Scan to buy: what a guest's phone shows after scanning a placement's QR code.

The page works for anyone holding the code (a passer-by in the lobby), so
nothing here depends on a signed-in member except the delivery choices that
need a room: those are offered only to a guest in house at the property.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from sqlalchemy import Select, func, select
from sqlalchemy.orm import contains_eager, joinedload

from hotel_community.database import session
from hotel_community.errors import NotFound
from hotel_community.i18n import gettext as _
from hotel_community.i18n import lazy_gettext as _l
from hotel_community.models import Member, Order, Placement, Product, Stay, StayGuest, StayStatus
from hotel_community.services.products import format_price
from hotel_community.services.storage import photo_url

#: The most a guest can order at once from the product page.
MAX_QUANTITY = 10
#: At or below this many units the page says "only N left".
LOW_STOCK = 3
#: The longest placement code there is (``Placement.code``); longer ones are not looked up.
CODE_MAX_LENGTH = 16

# Delivery choices, in the order the page offers them.
TAKE_FROM_ROOM = "take_from_room"
BRING_TO_ROOM = "bring_to_room"
DESK_PICKUP = "desk_pickup"
SHIP_HOME = "ship_home"


@dataclass(frozen=True)
class ProductView:
    """A placement's product as the guest reads it, in their language."""

    code: str
    name: str
    description: str
    price: str
    location: str
    #: ``in_stock``, ``low`` or ``sold_out``.
    stock_state: str
    stock_text: str
    photos: list[str]
    #: What the quantity selector offers; empty when sold out.
    quantities: list[int]


def placement_for_code(code: str) -> Placement:
    """The active placement of an active product, with product, photos and property loaded.

    Two statements, however many photos or other placements there are.
    """
    placement = None
    if code and len(code) <= CODE_MAX_LENGTH:
        placement = session.scalar(
            select(Placement).join(Placement.product)
            .where(Placement.code == code, Placement.active.is_(True), Product.active.is_(True),
                   Product.property_id == Placement.property_id)
            .options(contains_eager(Placement.product).selectinload(Product.photos),
                     joinedload(Placement.property)))
    if placement is None:
        raise NotFound(_l("This item is not on sale any more."))
    return placement


def product_view(placement: Placement, locale: str) -> ProductView:
    product = placement.product
    chinese = locale.startswith("zh")
    stock_state, stock_text = stock_of(product.stock)
    return ProductView(
        code=placement.code,
        name=(chinese and product.name_zh) or product.name_en,
        description=(chinese and product.description_zh) or product.description_en,
        price=format_price(product.price, product.currency, locale),
        location=location_text(placement),
        stock_state=stock_state,
        stock_text=stock_text,
        photos=[photo_url(photo.photo) for photo in product.photos],
        quantities=list(range(1, min(product.stock, MAX_QUANTITY) + 1)),
    )


def location_text(placement: Placement) -> str:
    if placement.is_room:
        return _("Room %(room)s", room=placement.location)
    place = placement.location
    # "Lobby" reads "In the lobby"; a name of several words ("Jade Lounge") stays as it is.
    if " " not in place.strip():
        place = place.lower()
    return _("In the %(place)s", place=place)


def stock_of(stock: int) -> tuple[str, str]:
    if stock <= 0:
        return "sold_out", _("Sold out")
    if stock <= LOW_STOCK:
        return "low", _("Only %(count)d left", count=stock)
    return "in_stock", _("In stock")


def in_house_stays(member: Member | None, property_id: int) -> list[Stay]:
    """The stays the member is in house on now at the property (usually one, or none)."""
    if member is None:
        return []
    return list(session.scalars(
        select(Stay).join(StayGuest, StayGuest.stay_id == Stay.id)
        .where(StayGuest.member_id == member.id, Stay.property_id == property_id,
               Stay.status == StayStatus.in_house, Stay.room.is_not(None))
        .order_by(Stay.id)))


def stay_for_delivery(stays: list[Stay], placement: Placement, delivery: str) -> Stay | None:
    """The stay an order belongs to: the one in the placement's room when taking
    that item, else the guest's (first) in-house stay."""
    if delivery == TAKE_FROM_ROOM:
        return next((stay for stay in stays if _room_key(stay.room) == _room_key(placement.location)),
                    None)
    return stays[0] if stays else None


def delivery_choices(placement: Placement, stays: list[Stay]) -> list[str]:
    """How the guest can get the item, most immediate first.

    Taking the one in the room is only for the guest in house in that very
    room (it is added to their bill at check-out); a new one brought to the
    room needs a room, so a guest in house at the property. Anyone can pick
    it up at the desk or have it shipped home. Nothing when sold out.
    """
    if placement.product.stock <= 0:
        return []
    return delivery_options(placement, stays)


def delivery_options(placement: Placement, stays: list[Stay]) -> list[str]:
    """The deliveries open to the guest, stock aside (an order re-checks the stock itself)."""
    rooms = {_room_key(stay.room) for stay in stays}
    choices = []
    if placement.is_room and _room_key(placement.location) in rooms:
        choices.append(TAKE_FROM_ROOM)
    if rooms:
        choices.append(BRING_TO_ROOM)
    return choices + [DESK_PICKUP, SHIP_HOME]


def delivery_label(choice: str) -> str:
    from hotel_community.services.events import TICKET_DELIVERY  # events imports the shop

    return {
        TAKE_FROM_ROOM: _("Take the one in the room (added to your bill at check-out)"),
        BRING_TO_ROOM: _("Bring a new one to my room"),
        DESK_PICKUP: _("I'll pick it up at the front desk"),
        SHIP_HOME: _("Ship it to my home"),
        TICKET_DELIVERY: _("Event ticket"),
    }[choice]


def _room_key(room: str) -> str:
    """Rooms compare as the front desk means them: "1204" and " 1204 " are one room."""
    return room.strip().casefold()


def placements_to_reorder(orders: Sequence[Order]) -> dict[int, str]:
    """Order id -> the code of a placement where its product can be bought again.

    The order's own placement while it is on sale, else the product's first
    placement on sale; none when the product is withdrawn. After check-out the
    placement page offers the guest shipping home or the desk. At most two
    statements, however many orders.
    """
    own_ids = {order.placement_id for order in orders if order.placement_id is not None}
    own = dict(session.execute(_on_sale(Placement.id, Placement.code)
                               .where(Placement.id.in_(own_ids))).all()) if own_ids else {}
    others = {order.product_id for order in orders
              if order.placement_id not in own and order.product_id is not None}
    first = (select(func.min(Placement.id))
             .where(Placement.product_id.in_(others), Placement.active.is_(True))
             .group_by(Placement.product_id))
    elsewhere = dict(session.execute(_on_sale(Placement.product_id, Placement.code)
                                     .where(Placement.id.in_(first))).all()) if others else {}
    codes = {order.id: own.get(order.placement_id) or elsewhere.get(order.product_id)
             for order in orders}
    return {order_id: code for order_id, code in codes.items() if code}


def _on_sale(*columns) -> Select:
    return (select(*columns).join(Placement.product)
            .where(Placement.active.is_(True), Product.active.is_(True),
                   Product.property_id == Placement.property_id))
