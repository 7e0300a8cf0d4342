"""Staff manage the shop: products, photos, stock and placements."""
from __future__ import annotations

import io
import os
import re

import pytest
from PIL import Image
from sqlalchemy import func, select

from hotel_community.database import session
from hotel_community.models import Placement, Product
from hotel_community.services import products
from hotel_community.services.products import ProductFields
from hotel_community.services.properties import create_property
from hotel_community.services.staff import create_staff
from tests.factories import csrf_token
from tests.views.test_staff import PASSWORD, USERNAME, post_form, sign_in, text

PAGE = "/community/staff/products"


@pytest.fixture
def app_config(tmp_path) -> dict:
    return {"HOTEL_COMMUNITY_UPLOAD_FOLDER": str(tmp_path / "media"),
            "HOTEL_COMMUNITY_MAX_PHOTO_BYTES": 100_000}


@pytest.fixture
def desk(app, client, prop):
    create_staff(USERNAME, PASSWORD, "Front Desk")
    assert sign_in(client).status_code == 302
    return client


def pillow(prop, sku: str = "PIL-1", **more) -> Product:
    return products.create_product(prop, ProductFields(
        sku=sku, name_en=more.pop("name_en", "Down pillow"), price=more.pop("price", "129.00"),
        stock=more.pop("stock", 3), **more))


def jpeg() -> tuple[io.BytesIO, str]:
    buffer = io.BytesIO()
    Image.new("RGB", (60, 40), "teal").save(buffer, format="JPEG")
    buffer.seek(0)
    return buffer, "pillow.jpg"


def stored(product_id: int) -> Product:
    session.expire_all()
    return session.get(Product, product_id)


def media_files(app) -> list[str]:
    folder = app.config["HOTEL_COMMUNITY_UPLOAD_FOLDER"]
    return sorted(os.listdir(folder)) if os.path.isdir(folder) else []


@pytest.mark.parametrize("method, path", [
    ("get", PAGE), ("get", f"{PAGE}/new"), ("post", f"{PAGE}/new"), ("get", f"{PAGE}/1"),
    ("post", f"{PAGE}/1/stock"), ("post", f"{PAGE}/1/rooms"), ("post", f"{PAGE}/1/active"),
    ("get", f"{PAGE}/placements"), ("post", f"{PAGE}/placements/1/delete")])
def test_strangers_are_sent_to_sign_in(app, client, prop, method, path):
    product = pillow(prop)
    page = client.get("/community/staff/login")
    response = getattr(client, method)(path, data={
        "csrf_token": csrf_token(page), "mode": "set", "amount": "0", "rooms": "1-5",
        "sku": "X", "name_en": "X", "price": "1", "stock": "1"})
    assert response.status_code == 302 and "/community/staff/login" in response.headers["Location"]
    assert stored(product.id).stock == 3
    assert session.scalar(select(func.count()).select_from(Placement)) == 0
    assert session.scalar(select(func.count()).select_from(Product)) == 1


def test_a_post_without_the_csrf_token_is_refused(app, desk, prop):
    product = pillow(prop)
    response = desk.post(f"{PAGE}/{product.id}/stock", data={"mode": "set", "amount": "9"})
    assert response.status_code == 400 and "CSRF" in text(response)
    response = desk.post(f"{PAGE}/{product.id}/rooms", data={"csrf_token": "forged",
                                                            "rooms": "1-5"})
    assert response.status_code == 400
    assert stored(product.id).stock == 3
    assert session.scalar(select(func.count()).select_from(Placement)) == 0


def test_create_a_product_with_a_photo_and_see_it_listed(app, desk, prop):
    assert "No products yet" in text(desk.get(PAGE))
    form = desk.get(f"{PAGE}/new")
    assert "(CNY)" in text(form)
    response = desk.post(f"{PAGE}/new", data={
        "csrf_token": csrf_token(form), "sku": "PIL-1", "name_en": "Down <b>pillow</b>",
        "name_zh": "羽绒枕", "description_en": "Soft.", "price": "1299.5", "stock": "4",
        "active": "y", "photo": jpeg()}, content_type="multipart/form-data")
    assert response.status_code == 302
    product = session.scalar(select(Product))
    assert (product.price, product.currency, product.stock, product.active) == (129950, "CNY", 4,
                                                                                True)
    assert len(product.photos) == 1 and media_files(app) == [product.photos[0].photo]

    listing = text(desk.get(PAGE))
    assert "CN¥1,299.50" in listing and "Down &lt;b&gt;pillow&lt;/b&gt;" in listing
    assert "<b>pillow" not in listing and "羽绒枕" in listing
    assert f"/community/media/{product.photos[0].photo}" in listing
    edit = text(desk.get(response.headers["Location"]))
    assert 'value="1299.50"' in edit and "Added “Down &lt;b&gt;pillow&lt;/b&gt;”." in listing


def test_a_price_with_a_thousands_separator_or_too_many_decimals_is_refused(app, desk, prop):
    for price in ("1,299.50", "12.345"):
        form = desk.get(f"{PAGE}/new")
        response = desk.post(f"{PAGE}/new", data={
            "csrf_token": csrf_token(form), "sku": "PIL-1", "name_en": "Pillow", "price": price,
            "stock": "1"})
        assert response.status_code == 200
        page = text(response)
        assert "no thousands separators" in page or "at most 2 decimal digits" in page
    assert session.scalar(select(func.count()).select_from(Product)) == 0


def test_a_sku_used_twice_gets_a_readable_refusal(app, desk, prop):
    pillow(prop)
    form = desk.get(f"{PAGE}/new")
    response = desk.post(f"{PAGE}/new", data={
        "csrf_token": csrf_token(form), "sku": "PIL-1", "name_en": "Other", "price": "5",
        "stock": "1"})
    assert response.status_code == 200
    assert "already has the SKU “PIL-1”" in text(response)
    assert session.scalar(select(func.count()).select_from(Product)) == 1


def test_edit_a_product(app, desk, prop):
    product = pillow(prop)
    page = f"{PAGE}/{product.id}"
    response = post_form(desk, page, page, {"sku": "PIL-9", "name_en": "Silk pillow",
                                             "price": "0.1", "stock": "2"})
    assert response.status_code == 302
    changed = stored(product.id)
    assert (changed.sku, changed.name_en, changed.price, changed.stock, changed.active) == (
        "PIL-9", "Silk pillow", 10, 3, False)  # the box was not ticked; stock has its own form
    assert 'name="stock"' not in text(desk.get(page))
    assert desk.get(f"{PAGE}/999999").status_code == 404


def test_photos_can_be_added_reordered_and_removed_and_bad_files_are_refused(app, desk, prop):
    product = pillow(prop)
    page = f"{PAGE}/{product.id}"
    for _ in range(2):
        desk.post(f"{page}/photos", data={"csrf_token": csrf_token(desk.get(page)),
                                          "photo": jpeg()}, content_type="multipart/form-data")
    first, second = stored(product.id).photos
    post_form(desk, page, f"{page}/photos/{second.id}/first")
    assert [p.id for p in stored(product.id).photos] == [second.id, first.id]
    post_form(desk, page, f"{page}/photos/{first.id}/remove")
    assert [p.id for p in stored(product.id).photos] == [second.id]
    assert media_files(app) == [second.photo]

    fake = (io.BytesIO(b"<html><script>alert(1)</script>"), "evil.jpg")
    desk.post(f"{page}/photos", data={"csrf_token": csrf_token(desk.get(page)), "photo": fake},
              content_type="multipart/form-data")
    assert "Please choose a JPEG, PNG or WebP photo." in text(desk.get(page))
    big = (io.BytesIO(b"\xff\xd8" + b"0" * 200_000), "big.jpg")
    desk.post(f"{page}/photos", data={"csrf_token": csrf_token(desk.get(page)), "photo": big},
              content_type="multipart/form-data")
    assert "The photo is too large." in text(desk.get(page))
    assert media_files(app) == [second.photo]

    other = pillow(prop, sku="OTHER")
    post_form(desk, page, f"{PAGE}/{other.id}/photos/{second.id}/remove")
    assert media_files(app) == [second.photo]  # not that product's photo


def test_stock_is_adjusted_and_never_goes_negative(app, desk, prop):
    product = pillow(prop, stock=3)
    page = f"{PAGE}/{product.id}"
    post_form(desk, page, f"{page}/stock", {"mode": "add", "amount": "-2"})
    assert stored(product.id).stock == 1
    post_form(desk, page, f"{page}/stock", {"mode": "add", "amount": "-5"})
    assert stored(product.id).stock == 1
    assert "Only 1 in stock" in text(desk.get(page))
    post_form(desk, page, f"{page}/stock", {"mode": "set", "amount": "-1"})
    assert stored(product.id).stock == 1
    post_form(desk, page, f"{page}/stock", {"mode": "set", "amount": "12"})
    assert stored(product.id).stock == 12
    post_form(desk, page, f"{page}/stock", {"mode": "add", "amount": "lots"})
    assert "whole number" in text(desk.get(page)) and stored(product.id).stock == 12


def test_deactivate_a_product(app, desk, prop):
    product = pillow(prop)
    page = f"{PAGE}/{product.id}"
    post_form(desk, page, f"{page}/active", {"active": "0"})
    assert stored(product.id).active is False
    assert "off sale" in text(desk.get(PAGE))
    post_form(desk, page, f"{page}/active", {"active": "1"})
    assert stored(product.id).active is True


def test_place_a_product_in_a_range_of_rooms_and_in_the_lobby(app, desk, prop):
    product = pillow(prop)
    page = f"{PAGE}/{product.id}"
    post_form(desk, page, f"{page}/rooms", {"rooms": "1201-1205, 1301"})
    assert "Placed in 6 room(s)." in text(desk.get(page))
    post_form(desk, page, f"{page}/rooms", {"rooms": "1204-1206"})
    assert "Placed in 1 room(s); 2 already had it." in text(desk.get(page))
    post_form(desk, page, f"{page}/rooms", {"rooms": "1-2001"})
    assert "At most 2000 rooms at a time." in text(desk.get(page))
    post_form(desk, page, f"{page}/placements", {"location": "Lobby"})
    listing = text(desk.get(page))
    assert "Placed in Lobby." in listing
    assert session.scalar(select(func.count()).select_from(Placement)) == 8
    lobby = session.scalar(select(Placement).where(Placement.location == "Lobby"))
    assert lobby.is_room is False and f'data-placement="{lobby.code}"' in listing
    assert f'product={product.id}">8</a>' in text(desk.get(PAGE))


def test_the_placements_page_filters_deactivates_and_deletes(app, desk, prop):
    pil, tea = pillow(prop), pillow(prop, sku="TEA", name_en="Teacup")
    products.create_room_placements(pil.id, "1201-1203")
    spa = products.create_placement(tea.id, "Spa", is_room=False)
    other = create_property("SHA2", "Second", "Asia/Shanghai", "CNY")
    products.create_placement(pillow(other).id, "9999")
    listing = f"{PAGE}/placements"

    def codes(query: str = "") -> list[str]:
        return re.findall(r'data-placement="([^"]+)"', text(desk.get(listing + query)))
    assert len(codes()) == 1  # the first property by code (SHA2) until another is chosen
    assert len(codes("?property=TEST")) == 4 and len(codes()) == 4
    assert len(codes(f"?product={pil.id}")) == 3 and codes("?is_room=0") == [spa.code]
    assert len(codes("?location=120")) == 3 and codes("?location=%25") == []

    post_form(desk, listing, f"{listing}/{spa.id}/active", {"active": "0"})
    assert codes("?active=0") == [spa.code]
    post_form(desk, listing, f"{listing}/{spa.id}/delete")
    assert spa.code not in codes()
    post_form(desk, listing, f"{listing}/999999/delete")
    assert "There is no such placement." in text(desk.get(listing))
    response = post_form(desk, listing, f"{listing}/{spa.id - 1}/active",
                         {"active": "0", "next": "//evil.example/"})
    assert response.headers["Location"] == listing  # no open redirect


def test_the_staff_nav_links_to_the_shop(app, desk, prop):
    assert f'href="{PAGE}"' in text(desk.get(PAGE))
