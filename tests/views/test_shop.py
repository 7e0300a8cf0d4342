"""The page a placement's QR code opens: anyone can read it; room choices need the guest in house."""
from __future__ import annotations

import re

import pytest
from flask import url_for
from sqlalchemy import event

from hotel_community.database import session
from tests.factories import check_in_by_hand, signed_in
from tests.services.test_people import check_out
from tests.factories import make_product, member_of, place

BUY_BUTTON = re.compile(r"<button[^>]*type=\"submit\"[^>]*>\s*Buy\s*</button>")




def page_of(client, placement, **headers) -> str:
    code = placement if isinstance(placement, str) else placement.code
    response = client.get(f"/community/p/{code}", headers=headers)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def delivery_options(page: str) -> list[str]:
    return re.findall(r'<input[^>]*name="delivery"[^>]*value="([a-z_]+)"', page)


def provider_options(page: str) -> list[str]:
    return re.findall(r'<input[^>]*name="provider"[^>]*value="([a-z_]+)"', page)


def test_the_qr_code_url_is_the_placement_endpoint(app, prop):
    placement = place(make_product(prop))
    with app.test_request_context():
        assert url_for("hotel_community.shop.placement", code=placement.code) == \
            f"/community/p/{placement.code}"


def test_a_passer_by_sees_the_product_without_signing_in(app, client, prop):
    placement = place(make_product(prop, photos=2, stock=7), "1204")
    page = page_of(client, placement)
    assert "Silk pillow" in page and "Slept on it? Take it home." in page
    assert "CN¥129.99" in page and "Room 1204" in page and "In stock" in page
    assert page.count('src="/community/media/photo') == 2
    assert re.findall(r'<option[^>]*value="(\d+)"', page) == [str(n) for n in range(1, 8)]
    assert delivery_options(page) == ["desk_pickup", "ship_home"]
    assert 'name="ship_address"' in page and 'name="csrf_token"' in page
    assert BUY_BUTTON.search(page) and "disabled" not in page
    assert "pay_at_desk" in provider_options(page) and "room_charge" not in provider_options(page)
    assert "Sign in with your room number" in page


def test_the_page_is_mobile_first_and_in_the_browsers_language(app, client, prop):
    placement = place(make_product(prop), "Lobby", is_room=False)
    page = page_of(client, placement, **{"Accept-Language": "zh-CN,zh;q=0.9"})
    assert 'name="viewport" content="width=device-width, initial-scale=1"' in page
    assert "真丝枕头" in page and "¥129.99" in page and "CN¥" not in page
    assert 'lang="zh-Hans"' in page


def test_the_guest_in_that_room_can_take_the_one_in_the_room_in_their_language(app, prop):
    placement = place(make_product(prop, stock=2), "1204")
    guest = member_of(check_in_by_hand(prop, "1204", ("Mei", "Chen", "zh")))
    page = page_of(signed_in(app, guest), placement)
    assert delivery_options(page) == ["take_from_room", "bring_to_room", "desk_pickup", "ship_home"]
    assert "真丝枕头" in page and "¥129.99" in page  # the guest's language, not the browser's
    assert re.findall(r'<option[^>]*value="(\d+)"', page) == ["1", "2"]
    assert "data-order-button" in page  # its text is translated
    assert "Sign in with your room number" not in page


@pytest.mark.parametrize("who", ["another room", "checked out", "anonymous"])
def test_only_the_guest_in_house_in_that_room_may_take_the_one_in_the_room(app, prop, who):
    placement = place(make_product(prop), "1204")
    if who == "anonymous":
        client = app.test_client()
    else:
        guest = member_of(check_in_by_hand(prop, "1301" if who == "another room" else "1204",
                                           ("Tom", "Lee")))
        if who == "checked out":
            check_out(guest)
        client = signed_in(app, guest)
    options = delivery_options(page_of(client, placement))
    assert "take_from_room" not in options
    assert options[-2:] == ["desk_pickup", "ship_home"]
    assert ("bring_to_room" in options) == (who == "another room")


@pytest.mark.parametrize("case", ["unknown", "inactive placement", "inactive product"])
def test_an_unknown_or_withdrawn_item_is_a_readable_404(app, client, prop, case):
    placement = place(make_product(prop, active=case != "inactive product"),
                      active=case != "inactive placement")
    code = "nosuchcode" if case == "unknown" else placement.code
    response = client.get(f"/community/p/{code}")
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert "This item is not on sale any more." in page and "Silk pillow" not in page


def test_sold_out_shows_no_quantity_and_no_order_form(app, client, prop):
    page = page_of(client, place(make_product(prop, stock=0)))
    assert "Sold out" in page
    assert 'name="quantity"' not in page and 'name="delivery"' not in page
    assert "data-order-form" not in page


def test_few_left(app, client, prop):
    assert "Only 3 left" in page_of(client, place(make_product(prop, stock=3)))


def test_staff_entered_text_is_escaped(app, client, prop):
    placement = place(make_product(prop, name_en='<script>alert("x")</script>',
                                   description_en="<img src=x onerror=alert(1)>"),
                      "Spa <b>", is_room=False)
    page = page_of(client, placement)
    assert "<script>alert" not in page and "<img src=x" not in page and "<b>" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page


@pytest.mark.parametrize("as_guest", [False, True])
def test_the_page_costs_a_fixed_number_of_statements(app, prop, as_guest):
    engine = app.extensions["sqlalchemy"].engine
    guest = member_of(check_in_by_hand(prop, "1204", ("Mei", "Chen")))
    client = signed_in(app, guest) if as_guest else app.test_client()

    def statements(placement) -> int:
        code = placement.code
        seen: list[str] = []
        listener = lambda *args: seen.append(args[2])
        session.expire_all()
        event.listen(engine, "before_cursor_execute", listener)
        try:
            page_of(client, code)
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        return len(seen)

    few = place(make_product(prop, photos=1), "1204")
    one = statements(few)
    many = make_product(prop, photos=5)
    placements = [place(many, f"{2000 + n}") for n in range(50)]
    assert statements(placements[0]) == one
    assert statements(place(many, "1204")) == one
    # the placement with its product and property, its photos; the guest, their rooms
    assert one == (4 if as_guest else 2)
