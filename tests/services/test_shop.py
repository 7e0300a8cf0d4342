"""Scan to buy: finding a placement by its code, the product in the guest's language,
its price, stock and the delivery choices a guest gets."""
from __future__ import annotations

import pytest

from hotel_community.database import session
from hotel_community.errors import NotFound
from hotel_community.models import Placement
from hotel_community.services import products, shop
from hotel_community.services.properties import create_property
from tests.factories import check_in_by_hand, make_product, member_of, place
from tests.services.test_people import check_out

def view(app, placement: Placement, locale: str = "en") -> shop.ProductView:
    with app.test_request_context():
        found = shop.placement_for_code(placement.code)
        return shop.product_view(found, locale)


# --- finding the placement -----------------------------------------------------------------------

def test_a_known_code_gives_the_placement_with_its_product_photos_and_property(app, prop):
    placement = place(make_product(prop, photos=3))
    session.expire_all()
    found = shop.placement_for_code(placement.code)
    assert found.id == placement.id
    assert found.product.name_en == "Silk pillow" and found.property.code == "TEST"
    assert [p.photo for p in found.product.photos] == ["photo0.jpg", "photo1.jpg", "photo2.jpg"]


@pytest.mark.parametrize("case", ["unknown", "inactive placement", "inactive product",
                                  "too long", "empty"])
def test_no_sale_for_an_unknown_or_inactive_code(app, prop, case):
    product = make_product(prop, active=case != "inactive product")
    placement = place(product, active=case != "inactive placement")
    code = {"unknown": "nosuchcode", "too long": placement.code + "x" * 20,
            "empty": ""}.get(case, placement.code)
    with app.test_request_context(), pytest.raises(NotFound) as raised:
        shop.placement_for_code(code)
    with app.test_request_context():
        assert str(raised.value.message) == "This item is not on sale any more."


# --- what the guest reads ------------------------------------------------------------------------

@pytest.mark.parametrize("minor, currency, locale, text", [
    (12999, "CNY", "en", "CN¥129.99"),
    (12999, "CNY", "zh", "¥129.99"),
    (12999, "USD", "en", "$129.99"),
    (12999, "USD", "zh", "US$129.99"),
    (1200, "JPY", "en", "¥1,200"),        # no minor units in yen
    (100000050, "CNY", "en", "CN¥1,000,000.50"),
    (1, "CNY", "en", "CN¥0.01"),
    (0, "CNY", "en", "CN¥0.00"),
])
def test_prices_are_formatted_exactly_in_the_guests_language(minor, currency, locale, text):
    assert products.format_price(minor, currency, locale) == text


def test_an_amount_a_float_would_get_wrong_stays_exact():
    # 0.29 * 100 is 28.999999999999996 as a float; minor units through Decimal never drift.
    assert products.format_price(29, "CNY", "en") == "CN¥0.29"
    assert products.format_price(1_000_000_000_01, "USD", "en") == "$1,000,000,000.01"


def test_the_product_in_english_and_chinese(app, prop):
    placement = place(make_product(prop, description_zh="睡过就带回家。"))
    english, chinese = view(app, placement, "en"), view(app, placement, "zh")
    assert (english.name, english.description) == ("Silk pillow", "Slept on it? Take it home.")
    assert (chinese.name, chinese.description) == ("真丝枕头", "睡过就带回家。")
    assert english.price == "CN¥129.99" and chinese.price == "¥129.99"
    assert english.photos == chinese.photos == ["/community/media/photo0.jpg"]


def test_chinese_falls_back_to_english_when_empty(app, prop):
    chinese = view(app, place(make_product(prop, name_zh="", description_zh="")), "zh")
    assert chinese.name == "Silk pillow" and chinese.description == "Slept on it? Take it home."


def test_where_it_is(app, prop):
    product = make_product(prop)
    assert view(app, place(product, "1204")).location == "Room 1204"
    assert view(app, place(product, "Lobby", is_room=False)).location == "In the lobby"
    assert view(app, place(product, "Jade Lounge", is_room=False)).location == "In the Jade Lounge"


@pytest.mark.parametrize("stock, state, text, quantities", [
    (25, "in_stock", "In stock", list(range(1, 11))),
    (10, "in_stock", "In stock", list(range(1, 11))),
    (4, "in_stock", "In stock", [1, 2, 3, 4]),
    (3, "low", "Only 3 left", [1, 2, 3]),
    (1, "low", "Only 1 left", [1]),
    (0, "sold_out", "Sold out", []),
])
def test_stock_states_and_the_quantities_offered(app, prop, stock, state, text, quantities):
    product_view = view(app, place(make_product(prop, stock=stock)))
    assert (product_view.stock_state, product_view.stock_text) == (state, text)
    assert product_view.quantities == quantities


# --- delivery choices ----------------------------------------------------------------------------

EVERYONE = [shop.DESK_PICKUP, shop.SHIP_HOME]


def choices(placement: Placement, member) -> list[str]:
    session.expire_all()
    found = shop.placement_for_code(placement.code)
    return shop.delivery_choices(found, shop.in_house_stays(member, found.property_id))


def test_the_guest_in_house_in_that_room_can_take_the_one_in_the_room(app, prop):
    placement = place(make_product(prop), "1204")
    guest = member_of(check_in_by_hand(prop, "1204", ("Mei", "Chen")))
    assert choices(placement, guest) == [shop.TAKE_FROM_ROOM, shop.BRING_TO_ROOM, *EVERYONE]


def test_a_guest_of_another_room_can_have_one_brought_but_not_take_this_one(app, prop):
    placement = place(make_product(prop), "1204")
    other = member_of(check_in_by_hand(prop, "1301", ("Tom", "Lee")))
    assert choices(placement, other) == [shop.BRING_TO_ROOM, *EVERYONE]


def test_a_passer_by_can_pick_up_at_the_desk_or_ship_home(app, prop):
    assert choices(place(make_product(prop), "1204"), None) == EVERYONE


def test_a_checked_out_guest_of_that_room_cannot_take_it_any_more(app, prop):
    placement = place(make_product(prop), "1204")
    guest = member_of(check_in_by_hand(prop, "1204", ("Mei", "Chen")))
    check_out(guest)
    assert choices(placement, guest) == EVERYONE


def test_the_same_room_number_at_another_hotel_is_not_that_room(app, prop):
    placement = place(make_product(prop), "1204")
    other_hotel = create_property("BOM", "Bay Hotel", "Asia/Kolkata", "INR")
    guest = member_of(check_in_by_hand(other_hotel, "1204", ("Mei", "Chen")))
    assert choices(placement, guest) == EVERYONE


def test_an_expected_guest_of_that_room_is_not_in_house_yet(app, prop):
    placement = place(make_product(prop), "1204")
    guest = member_of(check_in_by_hand(prop, "1204", ("Mei", "Chen"), status="expected"))
    assert choices(placement, guest) == EVERYONE


def test_a_lobby_item_is_never_taken_from_a_room(app, prop):
    placement = place(make_product(prop), "Lobby", is_room=False)
    guest = member_of(check_in_by_hand(prop, "1204", ("Mei", "Chen")))
    assert choices(placement, guest) == [shop.BRING_TO_ROOM, *EVERYONE]


def test_nothing_to_choose_when_sold_out(app, prop):
    placement = place(make_product(prop, stock=0), "1204")
    guest = member_of(check_in_by_hand(prop, "1204", ("Mei", "Chen")))
    assert choices(placement, guest) == []
