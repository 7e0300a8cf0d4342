"""The catalogue: exact prices, SKUs, stock that never goes negative, photos, placements."""
from __future__ import annotations

import io
import re
import threading

import pytest
from PIL import Image
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from hotel_community.database import session
from hotel_community.errors import Conflict, NotFound, ValidationFailed
from hotel_community.models import Placement, Product
from hotel_community.services import products, storage
from hotel_community.services.products import ProductFields
from hotel_community.services.properties import create_property


@pytest.fixture
def app_config(tmp_path) -> dict:
    return {"HOTEL_COMMUNITY_UPLOAD_FOLDER": str(tmp_path / "media")}


def pillow(prop, sku: str = "PIL-1", price: str = "129.00", stock: int = 3, **more) -> Product:
    return products.create_product(prop, ProductFields(sku=sku, name_en="Down pillow",
                                                       price=price, stock=stock, **more))


def jpeg(color: str = "red", size: tuple[int, int] = (40, 30)) -> FileStorage:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="JPEG")
    buffer.seek(0)
    return FileStorage(buffer, filename="photo.jpg", content_type="image/jpeg")


# --------------------------------------------------------------------------- money

@pytest.mark.parametrize("text, currency, minor", [
    ("19.99", "CNY", 1999), ("0.1", "CNY", 10), ("129", "CNY", 12900), ("129.00", "USD", 12900),
    (" 0.07 ", "USD", 7), ("12.340", "CNY", 1234), ("1200", "JPY", 1200), ("1200.0", "JPY", 1200),
    ("0", "CNY", 0), ("21474836.47", "CNY", 2**31 - 1),
    # 0.1 + 0.2 in floats is 0.30000000000000004: Decimal keeps it exact.
    ("1.13", "USD", 113), ("4.35", "USD", 435), ("1.005", "KWD", 1005),
])
def test_prices_become_exact_minor_units(text, currency, minor):
    assert products.price_to_minor(text, currency) == minor
    assert isinstance(products.price_to_minor(text, currency), int)


@pytest.mark.parametrize("text, currency", [
    ("12.345", "CNY"), ("1200.5", "JPY"), ("1,299.50", "CNY"), ("1.299,50", "CNY"),
    ("-1", "CNY"), ("", "CNY"), ("abc", "CNY"), ("1e3", "CNY"), (".5", "CNY"), ("NaN", "USD"),
    ("Infinity", "USD"), ("21474836.48", "CNY"), ("99999999999", "JPY"), ("１２", "CNY"),
])
def test_prices_that_are_not_exact_or_ambiguous_are_refused(text, currency):
    with pytest.raises(ValidationFailed) as error:
        products.price_to_minor(text, currency)
    assert "price" in error.value.details


def test_prices_are_formatted_with_the_currency():
    assert products.format_price(12900, "CNY") == "CN¥129.00"
    assert products.format_price(1200, "JPY") == "¥1,200"
    assert str(products.minor_to_decimal(1999, "CNY")) == "19.99"
    assert str(products.minor_to_decimal(1200, "JPY")) == "1200"


# --------------------------------------------------------------------------- products

def test_a_product_is_created_in_the_propertys_currency(app, prop):
    product = pillow(prop, price="19.99", name_zh=" 羽绒枕 ", description_en="Soft.")
    session.expire_all()
    stored = session.get(Product, product.id)
    assert (stored.price, stored.currency, stored.stock, stored.active) == (1999, "CNY", 3, True)
    assert (stored.name_zh, stored.description_en, stored.description_zh) == ("羽绒枕", "Soft.", "")

    tokyo = create_property("TYO", "Tokyo", "Asia/Tokyo", "JPY")
    assert pillow(tokyo, price="1200").price == 1200
    with pytest.raises(ValidationFailed):
        pillow(tokyo, sku="PIL-2", price="1200.50")


def test_the_english_name_and_the_sku_are_required(app, prop):
    with pytest.raises(ValidationFailed) as error:
        products.create_product(prop, ProductFields(sku=" ", name_en=" ", price="1"))
    assert set(error.value.details) == {"sku", "name_en"}
    with pytest.raises(ValidationFailed):
        pillow(prop, stock=-1)
    assert session.scalar(select(func.count()).select_from(Product)) == 0


def test_a_sku_is_unique_per_property(app, prop):
    first = pillow(prop)
    with pytest.raises(Conflict) as error:
        pillow(prop, sku=" PIL-1 ")
    assert error.value.status == 409 and "already has the SKU “PIL-1”" in error.value.message
    other = create_property("SHA2", "Second", "Asia/Shanghai", "CNY")
    assert pillow(other).sku == "PIL-1"  # another hotel may use the same SKU

    second = pillow(prop, sku="PIL-2")
    with pytest.raises(Conflict):
        products.update_product(second.id, ProductFields(sku="PIL-1", name_en="x", price="1"))
    renamed = products.update_product(first.id, ProductFields(
        sku="PIL-1", name_en="Silk pillow", price="0.1", stock=7, active=False))
    assert (renamed.name_en, renamed.price, renamed.stock, renamed.active) == (
        "Silk pillow", 10, 3, False)  # stock changes only through adjust/set_stock


def test_products_are_listed_in_keyset_pages_with_placement_counts(app, prop):
    made = [pillow(prop, sku=f"S{i}") for i in range(5)]
    products.create_room_placements(made[1].id, "1201-1203")
    pillow(create_property("SHA2", "Second", "Asia/Shanghai", "CNY"), sku="OTHER")

    first = products.list_products(prop, size=2)
    assert [p.sku for p in first.products] == ["S0", "S1"] and first.placements == {made[1].id: 3}
    second = products.list_products(prop, after=first.after, size=2)
    third = products.list_products(prop, after=second.after, size=2)
    assert [p.sku for p in second.products + third.products] == ["S2", "S3", "S4"]
    assert third.after is None
    products.set_product_active(made[0].id, False)
    assert [p.sku for p in products.list_products(prop, active=False).products] == ["S0"]


# --------------------------------------------------------------------------- stock

def test_stock_is_set_and_adjusted_but_never_negative(app, prop):
    product = pillow(prop, stock=3)
    assert products.adjust_stock(product.id, 2) == 5
    assert products.adjust_stock(product.id, -5) == 0
    with pytest.raises(Conflict) as error:
        products.adjust_stock(product.id, -1)
    assert "Only 0 in stock" in error.value.message
    assert products.set_stock(product.id, 10) == 10
    with pytest.raises(ValidationFailed):
        products.set_stock(product.id, -1)
    with pytest.raises(NotFound):
        products.adjust_stock(999999, 1)
    with pytest.raises(NotFound):
        products.set_stock(999999, 1)
    session.expire_all()
    assert session.get(Product, product.id).stock == 10


def test_concurrent_decrements_sell_exactly_the_stock(app, prop, backend):
    if backend != "postgresql":
        pytest.skip("SQLite serialises writers: the race needs PostgreSQL")
    product_id = pillow(prop, stock=5).id
    session.remove()
    results: list[str] = []
    barrier = threading.Barrier(12)

    def buy() -> None:
        with app.app_context():
            barrier.wait()
            try:
                products.adjust_stock(product_id, -1)
                results.append("sold")
            except Conflict:
                results.append("sold out")
            finally:
                session.remove()

    threads = [threading.Thread(target=buy) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["sold"] * 5 + ["sold out"] * 7
    assert session.scalar(select(Product.stock).where(Product.id == product_id)) == 0


# --------------------------------------------------------------------------- photos

def test_photos_are_stored_ordered_and_removed(app, prop):
    product = pillow(prop)
    red, blue = (products.add_photo(product.id, jpeg(c)) for c in ("red", "blue"))
    assert (red.position, blue.position) == (0, 1)
    assert storage.photo_path(red.photo) and red.photo.endswith(".jpg")
    ordered = products.reorder_photos(product.id, [blue.id, red.id])
    assert [p.id for p in ordered] == [blue.id, red.id]
    with pytest.raises(ValidationFailed):
        products.reorder_photos(product.id, [blue.id])
    key = red.photo
    products.remove_photo(red.id)
    assert storage.photo_path(key) is None
    assert [p.id for p in products.get_product(product.id).photos] == [blue.id]


def test_a_photo_upload_is_checked_by_storage(app, prop):
    product = pillow(prop)
    fake = FileStorage(io.BytesIO(b"<svg onload=alert(1)>"), filename="x.jpg")
    with pytest.raises(ValidationFailed):
        products.add_photo(product.id, fake)
    with pytest.raises(NotFound):
        products.add_photo(999999, jpeg())
    assert not list(storage.upload_folder().iterdir())  # the refused photo's file is gone too


# --------------------------------------------------------------------------- placements

def test_placement_codes_are_short_unguessable_and_unique(app, prop):
    product = pillow(prop)
    lobby = products.create_placement(product.id, " The  lobby ", is_room=False)
    assert (lobby.location, lobby.is_room, lobby.property_id) == ("The lobby", False, prop.id)
    products.create_room_placements(product.id, "1-500")
    codes = list(session.scalars(select(Placement.code)))
    assert len(codes) == len(set(codes)) == 501
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{8,16}", code) for code in codes)
    assert len({code[:4] for code in codes}) > 400  # random, not a counter


def test_a_product_is_placed_once_per_location(app, prop):
    product = pillow(prop)
    products.create_placement(product.id, "1204")
    with pytest.raises(Conflict):
        products.create_placement(product.id, "1204")
    with pytest.raises(ValidationFailed):
        products.create_placement(product.id, "x" * 61)
    assert products.create_placement(pillow(prop, sku="B").id, "1204").location == "1204"


@pytest.mark.parametrize("spec, rooms", [
    ("1201-1203", ["1201", "1202", "1203"]),
    ("1201, 1203, 1301-1302", ["1201", "1203", "1301", "1302"]),
    ("0801 - 0803;0801\n901", ["0801", "0802", "0803", "901"]),
    ("A101-A103, B7", ["A101", "A102", "A103", "B7"]),
    ("A101-103", ["A101", "A102", "A103"]),
    ("Lobby, Spa", ["Lobby", "Spa"]),
])
def test_room_ranges_are_parsed(spec, rooms):
    assert products.parse_rooms(spec) == rooms


@pytest.mark.parametrize("spec", ["", " , ", "1230-1201", "1-2001", "1-1000, 2001-3001",
                                  "1-999999999999"])
def test_bad_or_too_large_ranges_are_refused(spec):
    with pytest.raises(ValidationFailed):
        products.parse_rooms(spec)


def test_bulk_placements_skip_existing_rooms_in_one_insert(app, prop):
    product = pillow(prop)
    products.create_placement(product.id, "1202")
    assert products.create_room_placements(product.id, "1201-1205") == (4, 1)
    assert products.create_room_placements(product.id, "1201-1205, 1206") == (1, 5)
    assert products.create_room_placements(product.id, "3001-5000") == (2000, 0)
    with pytest.raises(ValidationFailed):
        products.create_room_placements(product.id, "1-2001")
    with pytest.raises(NotFound):
        products.create_room_placements(999999, "1201")
    assert session.scalar(select(func.count()).select_from(Placement)) == 2006


def test_placements_are_filtered_deactivated_and_deleted(app, prop):
    pil, tea = pillow(prop), pillow(prop, sku="TEA")
    products.create_room_placements(pil.id, "1201-1203")
    spa = products.create_placement(tea.id, "Spa", is_room=False)
    assert [p.location for p in products.list_placements(prop, product_id=pil.id).placements] == [
        "1201", "1202", "1203"]
    assert [p.location for p in products.list_placements(prop, is_room=False).placements] == ["Spa"]
    assert len(products.list_placements(prop, location="12").placements) == 3
    assert products.list_placements(prop, location="%").placements == []
    page = products.list_placements(prop, size=2)
    assert products.list_placements(prop, after=page.after, size=2).after is None

    products.set_placement_active(spa.id, False)
    assert [p.location for p in products.list_placements(prop, active=False).placements] == ["Spa"]
    products.delete_placement(spa.id)
    with pytest.raises(NotFound):
        products.get_placement(spa.id)
    other = create_property("SHA2", "Second", "Asia/Shanghai", "CNY")
    assert products.list_placements(other).placements == []
