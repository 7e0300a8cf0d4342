"""The shop's catalogue: products (price, stock, photos) and their placements (QR codes).

Money is never a float: a price typed as ``"129.00"`` becomes minor units
(12900 fen) with :class:`~decimal.Decimal` and the currency's precision from
Babel (CNY and USD have 2 digits, JPY none). Stock changes are conditional
UPDATEs, so concurrent changes never take it below zero.
"""
from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from babel.numbers import format_currency, get_currency_precision
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload
from werkzeug.datastructures import FileStorage

from hotel_community.database import insert_or_ignore, session, transaction
from hotel_community.errors import Conflict, NotFound, ValidationFailed
from hotel_community.models import Property
from hotel_community.models.shop import Placement, Product, ProductPhoto
from hotel_community.services import storage

#: Prices are stored in an INTEGER column (32 bits).
MAX_PRICE_MINOR = 2**31 - 1
MAX_STOCK = 2**31 - 1
#: At most this many placements in one bulk creation (a whole hotel's rooms).
MAX_BULK_PLACEMENTS = 2000
#: ``secrets.token_urlsafe(8)``: 11 characters of [A-Za-z0-9_-], 64 random bits.
CODE_BYTES = 8
MAX_PHOTOS = 10
PAGE_SIZE = 50

_PRICE = re.compile(r"[0-9]{1,10}(\.[0-9]+)?")
_RANGE = re.compile(r"^(?P<prefix>[A-Za-z]*)(?P<start>\d+)\s*-\s*(?P=prefix)?(?P<end>\d+)$")


# --------------------------------------------------------------------------- money

def price_to_minor(text: str, currency: str) -> int:
    """``"129.00"`` in CNY -> 12900; exact, or refused.

    Only digits and one decimal point are accepted: a grouping separator
    (``"1,299.50"``) is refused rather than guessed, because in many locales
    the comma is the decimal separator and a wrong guess is a wrong price.
    More decimals than the currency has (``"12.345"`` CNY, ``"1200.5"`` JPY)
    are refused too, unless they are zeros.
    """
    value = (text or "").strip()
    if not _PRICE.fullmatch(value):
        raise ValidationFailed("Enter the price as a number with a decimal point, e.g. 129.00 "
                               "(no thousands separators).", {"price": ["Not a price."]})
    precision = get_currency_precision(currency)
    try:
        minor = Decimal(value).scaleb(precision)
    except InvalidOperation as exc:  # pragma: no cover - the pattern admits only numbers
        raise ValidationFailed("Not a price.", {"price": ["Not a price."]}) from exc
    if minor != minor.to_integral_value():
        raise ValidationFailed(f"{currency} prices have at most {precision} decimal digits.",
                               {"price": ["Too many decimal digits."]})
    if minor > MAX_PRICE_MINOR:
        raise ValidationFailed("That price is too high.", {"price": ["Too high."]})
    return int(minor)


def minor_to_decimal(amount: int, currency: str) -> Decimal:
    """12900 fen -> Decimal("129.00"): the amount as the currency writes it."""
    precision = get_currency_precision(currency)
    return Decimal(amount).scaleb(-precision).quantize(Decimal(1).scaleb(-precision))


def format_price(amount: int, currency: str, locale: str = "en") -> str:
    """12900, "CNY" -> "CN¥129.00" (in English)."""
    return format_currency(minor_to_decimal(amount, currency), currency, locale=locale)


# --------------------------------------------------------------------------- products

@dataclass
class ProductFields:
    """What staff type into the product form (price as text, in the property's currency)."""

    sku: str
    name_en: str
    price: str
    name_zh: str = ""
    description_en: str = ""
    description_zh: str = ""
    stock: int = 0
    active: bool = True


def _checked(fields: ProductFields, currency: str) -> dict:
    errors: dict[str, list[str]] = {}
    sku, name_en, name_zh = fields.sku.strip(), fields.name_en.strip(), fields.name_zh.strip()
    if not sku or len(sku) > 64:
        errors["sku"] = ["Enter a SKU of at most 64 characters."]
    if not name_en or len(name_en) > 200:
        errors["name_en"] = ["Enter the English name (at most 200 characters)."]
    if len(name_zh) > 200:
        errors["name_zh"] = ["The Chinese name has at most 200 characters."]
    if not 0 <= fields.stock <= MAX_STOCK:
        errors["stock"] = ["Stock cannot be negative."]
    if errors:
        raise ValidationFailed(" ".join(m for ms in errors.values() for m in ms), errors)
    return {"sku": sku, "name_en": name_en, "name_zh": name_zh,
            "description_en": fields.description_en.strip(),
            "description_zh": fields.description_zh.strip(),
            "price": price_to_minor(fields.price, currency), "stock": fields.stock,
            "active": bool(fields.active)}


def _sku_taken(property_id: int, sku: str, product_id: int | None = None) -> Conflict | None:
    query = select(Product.id).where(Product.property_id == property_id, Product.sku == sku)
    if product_id is not None:
        query = query.where(Product.id != product_id)
    if session.scalar(query) is not None:
        return Conflict(f"Another product of this hotel already has the SKU “{sku}”.")
    return None


def create_product(prop: Property, fields: ProductFields) -> Product:
    """A new product of ``prop``, priced in the property's currency; SKUs are unique per hotel."""
    values = _checked(fields, prop.currency)
    with transaction():
        if error := _sku_taken(prop.id, values["sku"]):
            raise error
        product = Product(property_id=prop.id, currency=prop.currency, **values)
        session.add(product)
        _flush_or_conflict(values["sku"])
    return product


def update_product(product_id: int, fields: ProductFields) -> Product:
    """Change a product's details. ``fields.stock`` is ignored: a form loaded before
    an order reserved a unit would put it back; stock changes with :func:`adjust_stock`
    and :func:`set_stock` only."""
    with transaction():
        product = get_product(product_id)
        values = _checked(fields, product.currency)
        del values["stock"]
        if error := _sku_taken(product.property_id, values["sku"], product.id):
            raise error
        for name, value in values.items():
            setattr(product, name, value)
        _flush_or_conflict(values["sku"])
    return product


def _flush_or_conflict(sku: str) -> None:
    # The check above reads; the unique constraint settles a race between two staff.
    try:
        session.flush()
    except IntegrityError as exc:
        raise Conflict(f"Another product of this hotel already has the SKU “{sku}”.") from exc


def get_product(product_id: int) -> Product:
    product = session.scalar(select(Product).options(selectinload(Product.photos))
                             .where(Product.id == product_id))
    if product is None:
        raise NotFound("There is no such product.")
    return product


def set_product_active(product_id: int, active: bool) -> Product:
    with transaction():
        product = get_product(product_id)
        product.active = active
    return product


@dataclass
class ProductPage:
    products: list[Product]
    placements: dict[int, int]
    after: int | None  # the cursor of the next page, or None on the last


def list_products(prop: Property, after: int | None = None, size: int = PAGE_SIZE,
                  active: bool | None = None) -> ProductPage:
    """A page of ``prop``'s products by id (keyset), with their photos and placement counts."""
    query = (select(Product).options(selectinload(Product.photos))
             .where(Product.property_id == prop.id))
    if active is not None:
        query = query.where(Product.active.is_(active))
    if after is not None:
        query = query.where(Product.id > after)
    rows = list(session.scalars(query.order_by(Product.id).limit(size + 1)))
    shown = rows[:size]
    counts = dict(session.execute(
        select(Placement.product_id, func.count()).where(
            Placement.product_id.in_([p.id for p in shown])).group_by(Placement.product_id)
    ).all()) if shown else {}
    return ProductPage(shown, counts, shown[-1].id if len(rows) > size else None)


# --------------------------------------------------------------------------- stock

def set_stock(product_id: int, stock: int) -> int:
    """Set the stock to a count taken by hand (an inventory)."""
    if not 0 <= stock <= MAX_STOCK:
        raise ValidationFailed("Stock cannot be negative.", {"stock": ["Negative."]})
    with transaction():
        changed = session.execute(update(Product).where(Product.id == product_id)
                                  .values(stock=stock).returning(Product.stock)).scalar()
        if changed is None:
            raise NotFound("There is no such product.")
    return stock


def adjust_stock(product_id: int, delta: int) -> int:
    """Add ``delta`` units (negative: take them away); returns the new stock.

    One conditional UPDATE: of concurrent decrements exactly as many succeed
    as there are units; the others are refused and nothing goes below zero.
    """
    if abs(delta) > MAX_STOCK:
        raise ValidationFailed("That is not a stock change.", {"delta": ["Too large."]})
    with transaction():
        stock = session.execute(
            update(Product).where(Product.id == product_id, Product.stock + delta >= 0,
                                  Product.stock + delta <= MAX_STOCK)
            .values(stock=Product.stock + delta).returning(Product.stock)
            .execution_options(synchronize_session=False)).scalar()
        if stock is None:
            left = session.scalar(select(Product.stock).where(Product.id == product_id))
            if left is None:
                raise NotFound("There is no such product.")
            raise Conflict(f"Only {left} in stock: cannot take away {-delta}.")
    return stock


# --------------------------------------------------------------------------- photos

def add_photo(product_id: int, upload: FileStorage) -> ProductPhoto:
    """Store an uploaded photo (checked by storage.save_photo) as the product's last photo."""
    key = storage.save_photo(upload)
    try:
        with transaction():
            product = get_product(product_id)
            if len(product.photos) >= MAX_PHOTOS:
                raise Conflict(f"A product has at most {MAX_PHOTOS} photos.")
            position = max((p.position for p in product.photos), default=-1) + 1
            photo = ProductPhoto(product_id=product.id, photo=key, position=position)
            session.add(photo)
    except BaseException:
        storage.delete_photo(key)  # nothing refers to it
        raise
    return photo


def remove_photo(photo_id: int) -> None:
    with transaction():
        photo = session.get(ProductPhoto, photo_id)
        if photo is None:
            raise NotFound("There is no such photo.")
        key = photo.photo
        session.delete(photo)
    storage.delete_photo(key)  # only once the row is gone


def reorder_photos(product_id: int, photo_ids: list[int]) -> list[ProductPhoto]:
    """Put the product's photos in this order; the first is the thumbnail."""
    with transaction():
        product = get_product(product_id)
        by_id = {p.id: p for p in product.photos}
        if sorted(photo_ids) != sorted(by_id):
            raise ValidationFailed("Give every photo of the product exactly once.",
                                   {"photos": ["Not the product's photos."]})
        for position, photo_id in enumerate(photo_ids):
            by_id[photo_id].position = position
    session.expire(product, ["photos"])
    return list(product.photos)


# --------------------------------------------------------------------------- placements

def new_code() -> str:
    """A placement code: 11 characters of [A-Za-z0-9_-], 64 random bits."""
    return secrets.token_urlsafe(CODE_BYTES)


def _fresh_codes(count: int) -> list[str]:
    """``count`` distinct codes no placement has; a collision (1 in 2**64) is just redrawn."""
    codes: set[str] = set()
    while len(codes) < count:
        wanted = {new_code() for _ in range(count - len(codes))} - codes
        taken = set(session.scalars(select(Placement.code).where(Placement.code.in_(wanted))))
        codes |= wanted - taken
    return list(codes)


def _location(text: str) -> str:
    location = " ".join((text or "").split())
    if not location or len(location) > 60:
        raise ValidationFailed("Enter the room or place (at most 60 characters).",
                               {"location": ["Enter the room or place."]})
    return location


def create_placement(product_id: int, location: str, is_room: bool = True) -> Placement:
    """Show a product somewhere; a product is shown once per place."""
    location = _location(location)
    with transaction():
        product = get_product(product_id)
        exists = session.scalar(select(Placement.id).where(
            Placement.product_id == product.id, Placement.location == location))
        if exists is not None:
            raise Conflict(f"“{product.name_en}” is already placed in {location}.")
        placement = Placement(code=_fresh_codes(1)[0], property_id=product.property_id,
                              product_id=product.id, location=location, is_room=is_room)
        session.add(placement)
    return placement


def parse_rooms(spec: str, limit: int = MAX_BULK_PLACEMENTS) -> list[str]:
    """``"1201-1203, 1301"`` -> ["1201", "1202", "1203", "1301"], in order, each once.

    A range keeps the width of its first number (``0801-0803``) and a letter
    prefix (``A101-A105`` or ``A101-105``). More than ``limit`` rooms is refused
    before anything is expanded.
    """
    rooms: dict[str, None] = {}
    for part in filter(None, (p.strip() for p in re.split(r"[,;\n]", spec or ""))):
        match = _RANGE.match(part)
        if match is None:
            rooms[_location(part)] = None
        else:
            start, end = int(match["start"]), int(match["end"])
            if end < start:
                raise ValidationFailed(f"The range {part} runs backwards.",
                                       {"rooms": ["Backward range."]})
            if end - start + 1 + len(rooms) > limit:
                raise ValidationFailed(f"At most {limit} rooms at a time.",
                                       {"rooms": ["Too many rooms."]})
            width = len(match["start"])
            for number in range(start, end + 1):
                rooms[_location(f"{match['prefix']}{number:0{width}d}")] = None
        if len(rooms) > limit:
            raise ValidationFailed(f"At most {limit} rooms at a time.",
                                   {"rooms": ["Too many rooms."]})
    if not rooms:
        raise ValidationFailed("Enter room numbers, e.g. 1201-1230 or 1201, 1203, 1301-1305.",
                               {"rooms": ["No rooms."]})
    return list(rooms)


def create_room_placements(product_id: int, spec: str) -> tuple[int, int]:
    """Place a product in every room of ``spec``; returns (created, already there).

    One transaction and one multi-row INSERT ... ON CONFLICT DO NOTHING: rooms
    that already show the product are skipped, even when two staff do it at once.
    """
    rooms = parse_rooms(spec)
    with transaction():
        product = get_product(product_id)
        codes = _fresh_codes(len(rooms))
        rows = [{"code": code, "property_id": product.property_id, "product_id": product.id,
                 "location": room, "is_room": True, "active": True}
                for code, room in zip(codes, rooms)]
        created = session.execute(
            insert_or_ignore(Placement, "product_id", "location").values(rows)
            .returning(Placement.id)).all()
    return len(created), len(rooms) - len(created)


def get_placement(placement_id: int) -> Placement:
    placement = session.scalar(select(Placement).options(joinedload(Placement.product))
                               .where(Placement.id == placement_id))
    if placement is None:
        raise NotFound("There is no such placement.")
    return placement


def set_placement_active(placement_id: int, active: bool) -> Placement:
    with transaction():
        placement = get_placement(placement_id)
        placement.active = active
    return placement


def delete_placement(placement_id: int) -> None:
    with transaction():
        session.delete(get_placement(placement_id))


@dataclass
class PlacementPage:
    placements: list[Placement]
    after: int | None


def list_placements(prop: Property, product_id: int | None = None, location: str | None = None,
                    active: bool | None = None, is_room: bool | None = None,
                    after: int | None = None, size: int = PAGE_SIZE) -> PlacementPage:
    """A page of ``prop``'s placements by id (keyset), filtered, with their products.

    ``location`` matches the start of the location ("12" finds room 1204).
    """
    query = (select(Placement).options(joinedload(Placement.product))
             .where(Placement.property_id == prop.id))
    if product_id is not None:
        query = query.where(Placement.product_id == product_id)
    if location:
        prefix = location.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(Placement.location.like(f"{prefix}%", escape="\\"))
    if active is not None:
        query = query.where(Placement.active.is_(active))
    if is_room is not None:
        query = query.where(Placement.is_room.is_(is_room))
    if after is not None:
        query = query.where(Placement.id > after)
    rows = list(session.scalars(query.order_by(Placement.id).limit(size + 1)))
    shown = rows[:size]
    return PlacementPage(shown, shown[-1].id if len(rows) > size else None)
