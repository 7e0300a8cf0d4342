"""Buying from the placement page, the order page, its confirm step, and "my orders"."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select, update

from hotel_community.database import session, transaction
from hotel_community.errors import PaymentProviderError
from hotel_community.hookspecs import PaymentUpdate
from hotel_community.models import Order, OrderStatus, Placement, Product
from hotel_community.services import orders
from tests.factories import (
    check_in_by_hand, csrf_token, make_product, member_of, place, signed_in,
)
from tests.services.test_people import check_out

ADDRESS = {"ship_name": "Mei Chen", "ship_address": "1 Bund Road", "ship_city": "Shanghai",
           "ship_postcode": "200000", "ship_country": "China"}


def buy(client, placement, headers: dict | None = None, **fields):
    """Open the placement page and send its form, as the guest's phone does."""
    url = f"/community/p/{placement.code}"
    page = client.get(url, headers=headers)
    assert page.status_code == 200
    data = {"csrf_token": csrf_token(page), "quantity": "1", "delivery": "desk_pickup",
            "provider": "pay_at_desk", **fields}
    return client.post(url, data={k: v for k, v in data.items() if v is not None},
                       headers=headers)


def options(page: str, name: str) -> list[str]:
    return re.findall(rf'<input[^>]*name="{name}"[^>]*value="([a-z_]+)"', page)


def stored() -> list[Order]:
    session.expire_all()
    return list(session.scalars(select(Order).order_by(Order.id)))


def stock(product: Product) -> int:
    session.expire_all()
    return session.get(Product, product.id).stock


def order_path(response) -> str:
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    path = response.headers["Location"]
    assert re.fullmatch(r"/community/orders/[\w-]{20,}", path), path
    return path


# --------------------------------------------------------------------------- buying

def test_a_passer_by_buys_and_pays_at_the_desk(app, client, prop):
    product = make_product(prop, stock=5, price=12999)
    placement = place(product, "Lobby", is_room=False)

    path = order_path(buy(client, placement, quantity="2"))
    assert stock(product) == 3
    [order] = stored()
    assert (order.status, order.quantity, order.total, order.member_id, order.delivery) == (
        OrderStatus.pending_payment, 2, 25998, None, "desk_pickup")

    page = client.get(path)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    html = page.get_data(as_text=True)
    assert 'data-order-status="pending_payment"' in html and "Waiting for payment" in html
    assert "Please pay CN¥259.98 at the front desk" in html
    assert "Silk pillow" in html and "I&#39;ll pick it up at the front desk" in html
    assert "Order placed" in html
    assert "data-buy-again" not in html  # pay this one first


@pytest.mark.parametrize("quantity, left", [("3", 2), ("1", 0)])
def test_more_than_is_left_is_sold_out_and_nothing_is_stored(app, client, prop, quantity, left):
    product = make_product(prop, stock=max(left, 1))
    placement = place(product)
    url = f"/community/p/{placement.code}"
    token = csrf_token(client.get(url))
    if left == 0:  # someone else bought the last one after the page was opened
        with transaction():
            session.execute(update(Product).where(Product.id == product.id).values(stock=0))
    response = client.post(url, data={"csrf_token": token, "quantity": quantity,
                                      "delivery": "desk_pickup", "provider": "pay_at_desk"})
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "Sorry, this item is sold out." in html and "data-order-error" in html
    assert stored() == [] and stock(product) == left


@pytest.mark.parametrize("field, value", [
    ("quantity", "0"), ("quantity", "11"), ("quantity", "-1"), ("quantity", "two"),
    ("quantity", None), ("delivery", "take_from_room"), ("delivery", "bring_to_room"),
    ("delivery", "teleport"), ("delivery", None), ("provider", "room_charge"),
    ("provider", "bitcoin"), ("provider", None), ("ship_name", "x" * 201),
])
def test_tampered_choices_are_refused_and_nothing_is_stored(app, client, prop, field, value):
    product = make_product(prop, stock=20)
    response = buy(client, place(product), **{field: value})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "data-order-error" in html
    assert 'aria-invalid="true"' in html or '<fieldset class="invalid">' in html
    assert stored() == [] and stock(product) == 20


def test_shipping_home_needs_an_address(app, client, prop):
    product = make_product(prop, stock=3)
    placement = place(product)

    refused = buy(client, placement, delivery="ship_home", ship_name="Mei Chen")
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert "Please fill in the address to ship to." in html
    assert re.search(r'<textarea[^>]*aria-invalid="true"[^>]*name="ship_address"', html)
    assert 'value="Mei Chen"' in html  # what the guest typed stays
    assert stored() == [] and stock(product) == 3

    path = order_path(buy(client, placement, delivery="ship_home", **ADDRESS))
    [order] = stored()
    assert (order.ship_name, order.ship_address, order.ship_city, order.ship_postcode,
            order.ship_country, order.ship_phone) == (
        "Mei Chen", "1 Bund Road", "Shanghai", "200000", "China", None)
    assert "1 Bund Road" in client.get(path).get_data(as_text=True)


def test_an_address_is_not_kept_for_other_deliveries(app, client, prop):
    order_path(buy(client, place(make_product(prop)), **ADDRESS))
    assert stored()[0].ship_address is None


def test_without_the_csrf_token_nothing_is_stored(app, client, prop):
    product = make_product(prop)
    response = client.post(f"/community/p/{place(product).code}",
                           data={"quantity": "1", "delivery": "desk_pickup",
                                 "provider": "pay_at_desk"})
    assert response.status_code == 400
    assert stored() == [] and stock(product) == 20


def test_a_failing_payment_system_leaves_nothing_pending(app, client, prop, card):
    card.fail_start = True
    product = make_product(prop, stock=4)
    response = buy(client, place(product), provider="fake_card")
    assert response.status_code == 502
    html = response.get_data(as_text=True)
    assert "The payment could not be started; nothing was charged." in html
    assert "card network down" not in html
    assert stock(product) == 4
    assert [order.status for order in stored()] == [OrderStatus.cancelled]


def test_the_guest_in_house_charges_it_to_the_room(app, prop):
    guest = member_of(check_in_by_hand(prop, "1204", ("Mei", "Chen")))
    client = signed_in(app, guest)
    placement = place(make_product(prop), "Spa", is_room=False)
    page = client.get(f"/community/p/{placement.code}").get_data(as_text=True)
    assert {"pay_at_desk", "room_charge"} <= set(options(page, "provider"))

    path = order_path(buy(client, placement, delivery="bring_to_room", provider="room_charge"))
    [order] = stored()
    assert (order.member_id, order.room, order.stay_id is not None, order.status) == (
        guest.id, "1204", True, OrderStatus.paid)
    html = client.get(path).get_data(as_text=True)
    assert 'data-order-status="paid"' in html and "Room" in html and "1204" in html


# --------------------------------------------------------------------------- order page

def test_an_unknown_order_is_a_404(app, client, prop):
    assert client.get("/community/orders/no-such-token-at-all").status_code == 404
    assert client.get("/community/orders/" + "x" * 40).status_code == 404


def test_the_order_page_shows_the_history_and_buy_again(app, client, prop):
    product = make_product(prop, stock=5)
    placement = place(product)
    path = order_path(buy(client, placement, quantity="2"))
    order = stored()[0]
    orders.record_desk_payment(order.id, "staff:anna")
    orders.fulfil(order.id, "staff:anna")
    orders.refund(order.id, 12999, "staff:anna")

    html = client.get(path).get_data(as_text=True)
    assert 'data-order-status="fulfilled"' in html and "Picked up" in html
    history = re.search(r"data-order-history>(.*?)</ol>", html, re.S).group(1)
    steps = [" ".join(text.split()) for text in re.findall(r"<span>(.*?)</span>", history, re.S)]
    assert steps == ["Order placed", "Paid", "Picked up", "Refunded · CN¥129.99"]
    assert "staff:anna" not in html
    assert f'href="/community/p/{placement.code}" data-buy-again' in html


def test_a_pending_card_payment_shows_the_providers_form(app, client, prop, card):
    path = order_path(buy(client, place(make_product(prop)), provider="fake_card"))
    order = stored()[0]
    html = client.get(path).get_data(as_text=True)
    form = re.search(r"<form data-fake-card[^>]*>", html).group(0)
    assert f'data-secret="secret-{order.id}"' in form
    assert f'action="{path}/confirm"' in form and f'data-return="http://localhost{path}"' in form
    assert 'name="csrf_token" value="' in html and "Waiting for payment" in html


def test_coming_back_from_paying_shows_the_outcome(app, client, prop, card):
    path = order_path(buy(client, place(make_product(prop, price=12999)), provider="fake_card"))
    order = stored()[0]
    card.status = PaymentProviderError("the card network is down")
    html = client.get(path).get_data(as_text=True)
    assert "Waiting for payment" in html and "data-fake-card" in html  # the page still opens

    card.status = PaymentUpdate(order.provider_ref, "succeeded", 12999, "CNY")
    html = client.get(path).get_data(as_text=True)
    assert 'data-order-status="paid"' in html and "data-fake-card" not in html
    assert stored()[0].status == OrderStatus.paid


def test_the_confirm_step_answers_in_json(app, client, prop, card):
    path = order_path(buy(client, place(make_product(prop)), provider="fake_card"))
    token = csrf_token(client.get(path))

    declined = client.post(path + "/confirm", data={"csrf_token": token, "card": "4000"})
    assert declined.status_code == 502
    assert declined.json["error"]["code"] == "payment_provider_error"
    assert declined.json["error"]["message"] == "Your card was declined."

    paid = client.post(path + "/confirm", data={"csrf_token": token, "card": "4242", "next": "x"})
    assert (paid.status_code, paid.json) == (200, {"status": "paid", "next": "x"})
    assert 'data-order-status="paid"' in client.get(path).get_data(as_text=True)


def test_the_confirm_step_refuses_in_json(app, client, prop, card):
    path = order_path(buy(client, place(make_product(prop)), provider="fake_card"))
    token = csrf_token(client.get(path))

    no_csrf = client.post(path + "/confirm", data={"card": "4242"})
    assert no_csrf.status_code == 400 and no_csrf.json["error"]["code"] == "malformed_request"
    unknown = client.post("/community/orders/nope/confirm", data={"csrf_token": token})
    assert unknown.status_code == 404 and unknown.json["error"]["code"] == "not_found"
    assert stored()[0].status == OrderStatus.pending_payment

    desk = order_path(buy(client, place(make_product(prop, name_en="Robe"))))
    no_step = client.post(desk + "/confirm", data={"csrf_token": token})
    assert no_step.status_code == 404 and no_step.json["error"]["code"] == "not_found"


def test_the_order_page_in_chinese(app, client, prop):
    chinese = {"Accept-Language": "zh-CN,zh;q=0.9"}
    path = order_path(buy(client, place(make_product(prop)), headers=chinese, quantity="2"))
    html = client.get(path, headers=chinese).get_data(as_text=True)
    assert 'lang="zh-Hans"' in html
    assert "真丝枕头" in html and "¥259.98" in html and "CN¥" not in html
    assert "数量" in html and "我到前台自取" in html
    assert stored()[0].locale == "zh"


# --------------------------------------------------------------------------- my orders

def test_my_orders_shows_only_my_own(app, prop):
    mei = member_of(check_in_by_hand(prop, "1204", ("Mei", "Chen")))
    tom = member_of(check_in_by_hand(prop, "1301", ("Tom", "Lee")))
    mei_client, tom_client = signed_in(app, mei), signed_in(app, tom)
    order_path(buy(mei_client, place(make_product(prop, name_en="Silk pillow")),
                   delivery="bring_to_room"))
    order_path(buy(mei_client, place(make_product(prop, name_en="Bathrobe"), "Lobby",
                                     is_room=False)))
    order_path(buy(tom_client, place(make_product(prop, name_en="Tea set"), "Spa", is_room=False)))
    mine, theirs = ([o.token for o in stored() if o.member_id == who.id] for who in (mei, tom))

    page = mei_client.get("/community/orders")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert re.findall(r'data-order="([^"]+)"', html) == mine[::-1]  # newest first
    assert "Bathrobe" in html and "Silk pillow" in html and "Tea set" not in html
    assert theirs[0] not in html


def test_the_group_pages_link_to_my_orders(app, prop):
    guest = member_of(check_in_by_hand(prop, "1204", ("Mei", "Chen")))
    client = signed_in(app, guest)
    link = 'href="/community/orders" data-my-orders-link'
    assert link in client.get("/community/group").get_data(as_text=True)
    check_out(guest)
    assert link in client.get("/community/group").get_data(as_text=True)  # the alumni page


def test_my_orders_needs_signing_in(app, client, prop):
    response = client.get("/community/orders")
    assert response.status_code == 302 and response.headers["Location"].endswith("/community/login")


def test_buying_again_after_check_out_ships_home(app, prop):
    guest = member_of(check_in_by_hand(prop, "1204", ("Mei", "Chen")))
    client = signed_in(app, guest)
    product = make_product(prop, stock=5)
    placement = place(product, "1204")
    order_path(buy(client, placement, delivery="take_from_room"))
    first = stored()[0]
    orders.record_desk_payment(first.id, "staff:anna")
    check_out(guest)

    html = client.get("/community/orders").get_data(as_text=True)
    again = re.search(r'href="(/community/p/\w+)" data-buy-again', html).group(1)
    assert again == f"/community/p/{placement.code}"
    page = client.get(again).get_data(as_text=True)
    assert options(page, "delivery") == ["desk_pickup", "ship_home"]

    order_path(buy(client, placement, delivery="ship_home", **ADDRESS))
    second = stored()[1]
    assert (second.member_id, second.stay_id, second.delivery, second.ship_city) == (
        guest.id, None, "ship_home", "Shanghai")
    assert stock(product) == 3


def test_buying_again_finds_another_placement_or_none(app, prop):
    guest = member_of(check_in_by_hand(prop, "1204", ("Mei", "Chen")))
    client = signed_in(app, guest)
    product = make_product(prop)
    own, lobby = place(product, "1204"), place(product, "Lobby", is_room=False)
    order_path(buy(client, own))
    orders.record_desk_payment(stored()[0].id, "staff:anna")

    def buy_again_links() -> list[str]:
        return re.findall(r'href="/community/p/(\w+)" data-buy-again',
                          client.get("/community/orders").get_data(as_text=True))

    assert buy_again_links() == [own.code]
    with transaction():
        session.execute(update(Placement).where(Placement.id == own.id).values(active=False))
    assert buy_again_links() == [lobby.code]
    with transaction():
        session.execute(update(Product).where(Product.id == product.id).values(active=False))
    assert buy_again_links() == []

