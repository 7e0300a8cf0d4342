"""The front desk's orders pages: list, filters, sales chart, CSV, one order and its steps."""
from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET
from datetime import timedelta
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import update

from hotel_community.database import session, transaction
from hotel_community.models import Order, OrderEvent, OrderStatus, Product
from hotel_community.services import orders, shop, staff_orders
from hotel_community.services.properties import create_property
from tests.factories import check_in_by_hand, csrf_token, make_product, member_of, place
from tests.views.test_staff import text

ORDERS = "/community/staff/orders"
ACTOR = "staff:Front Desk"


def buy(placement, quantity: int = 1, delivery: str = shop.DESK_PICKUP, member=None,
        provider: str = "pay_at_desk", **address) -> Order:
    wanted = orders.OrderRequest(quantity=quantity, delivery=delivery, provider=provider,
                                 address=orders.ShippingAddress(**address))
    return orders.place_order(placement.code, member, wanted)


def paid_order(placement, **more) -> Order:
    order = buy(placement, **more)
    return orders.record_desk_payment(order.id, "staff:someone")


def fresh(order: Order) -> Order:
    session.expire_all()
    return session.get(Order, order.id)


def stock(product: Product) -> int:
    session.expire_all()
    return session.get(Product, product.id).stock


def listed(response) -> list[int]:
    return [int(n) for n in re.findall(r'<tr data-order="(\d+)"', text(response))]


def row(response, order: Order) -> str:
    match = re.search(rf'<tr data-order="{order.id}">(.*?)</tr>', text(response), flags=re.S)
    assert match, f"order {order.id} not listed"
    return match.group(1)


def act(client, order: Order, step: str, **data):
    """Post one of the order's action forms with the detail page's CSRF token."""
    token = csrf_token(client.get(f"{ORDERS}/{order.id}"))
    return client.post(f"{ORDERS}/{order.id}/{step}", data={"csrf_token": token, **data},
                       follow_redirects=True)


def status_shown(client, order: Order) -> str:
    match = re.search(r'<span data-status>([^<]*)</span>', text(client.get(f"{ORDERS}/{order.id}")))
    return match.group(1)


def csv_rows(response) -> list[list[str]]:
    body = response.get_data(as_text=True)
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:])))


# --------------------------------------------------------------------------- access

@pytest.mark.parametrize("method, path", [
    ("get", ""), ("get", "?format=csv"), ("get", "/{id}"), ("post", "/{id}/pay"),
    ("post", "/{id}/fulfil"), ("post", "/{id}/cancel"), ("post", "/{id}/refund")])
def test_strangers_are_sent_to_sign_in(app, client, prop, method, path):
    order = buy(place(make_product(prop)))
    token = csrf_token(client.get("/community/staff/login"))
    response = getattr(client, method)(ORDERS + path.format(id=order.id),
                                       data={"csrf_token": token, "amount": "1.00"})
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/community/staff/login"
    assert fresh(order).status == OrderStatus.pending_payment


def test_a_post_without_the_csrf_token_is_refused(app, desk, prop):
    order = paid_order(place(make_product(prop)))
    response = desk.post(f"{ORDERS}/{order.id}/fulfil")
    assert response.status_code == 400 and "CSRF" in text(response)
    response = desk.post(f"{ORDERS}/{order.id}/refund", data={"csrf_token": "forged",
                                                              "amount": "1.00"})
    assert response.status_code == 400
    assert (fresh(order).status, fresh(order).refunded) == (OrderStatus.paid, 0)


def test_an_order_of_another_property_is_not_found(app, desk, prop):
    other = create_property("OTHR", "Other Hotel", "UTC", "CNY")
    order = paid_order(place(make_product(other)))
    assert desk.get(ORDERS, query_string={"property": prop.code}).status_code == 200
    assert desk.get(f"{ORDERS}/{order.id}").status_code == 404
    token = csrf_token(desk.get(ORDERS))
    for step in ("pay", "fulfil", "cancel", "refund"):
        response = desk.post(f"{ORDERS}/{order.id}/{step}",
                             data={"csrf_token": token, "amount": "1.00"})
        assert response.status_code == 404, step
    assert (fresh(order).status, fresh(order).refunded) == (OrderStatus.paid, 0)
    assert order.id not in listed(desk.get(ORDERS))
    assert desk.get(f"{ORDERS}/{2**31}").status_code == 404


# --------------------------------------------------------------------------- the list

def test_the_list_shows_each_order_with_its_money_delivery_and_status(app, desk, prop):
    product = make_product(prop, name_en="Silk pillow", price=12999, stock=20)
    stay = check_in_by_hand(prop, "1204", ("Mei", "Chen"))
    lobby = place(product, "Lobby", is_room=False)
    pending = buy(lobby)
    paid = paid_order(place(product, "1204"), quantity=2, member=member_of(stay),
                      delivery=shop.BRING_TO_ROOM)
    shipped = paid_order(lobby, delivery=shop.SHIP_HOME, ship_name="Ana Lopez",
                         ship_address="1 Harbour Road", ship_city="Hong Kong",
                         ship_country="China")
    orders.fulfil(shipped.id, ACTOR)
    partly = paid_order(lobby)
    orders.refund(partly.id, 5000, ACTOR)

    page = desk.get(ORDERS)
    assert page.status_code == 200
    assert listed(page) == [partly.id, shipped.id, paid.id, pending.id]  # newest first
    assert "Pending payment" in row(page, pending) and "Mark fulfilled" not in row(page, pending)
    paid_row = row(page, paid)
    assert all(part in paid_row for part in (
        f"#{paid.id}", "Silk pillow", "CN¥259.98", "Pay at the front desk", "Bring to room 1204",
        "Mei Chen", ">Paid<", "Mark fulfilled"))
    assert "Ship home: Ana Lopez, 1 Harbour Road, Hong Kong, China" in row(page, shipped)
    assert "Fulfilled" in row(page, shipped) and "Mark fulfilled" not in row(page, shipped)
    assert "Paid, partly refunded" in row(page, partly)
    counts = dict(re.findall(r'data-count="(\w+)".*?<div class="value">(\d+)</div>', text(page),
                             flags=re.S))
    assert counts == {"pending_payment": "1", "paid": "2", "fulfilled": "1", "cancelled": "0",
                      "refunded": "0"}
    assert 'href="/community/staff/orders"' in text(page)  # the nav link


def test_the_sales_chart_sums_payments_less_refunds_per_day(app, desk, prop):
    product = make_product(prop, price=12999, stock=20)
    placement = place(product)
    first = paid_order(placement, quantity=2)
    paid_order(placement)
    orders.refund(first.id, 1250, ACTOR)
    page = text(desk.get(ORDERS))

    chart = ET.fromstring(re.search(r'<svg\b.*?</svg>', page, flags=re.S).group(0))
    assert chart.get("id") == "chart-sales"
    titles = [t.text for t in chart.iter("{http://www.w3.org/2000/svg}title")]
    assert titles[-1].endswith("refunded (CNY) 13")  # today's point: 12.50 rounds to 13
    assert any(t.endswith("paid (CNY) 390, refunded (CNY) 13") for t in titles)
    assert "Paid CN¥389.97 · refunded CN¥12.50 · <strong>net CN¥377.47</strong>" in page
    assert "Sales, last 30 days" in page
    assert len(chart.findall("{http://www.w3.org/2000/svg}g")) == 30
    fortnight = text(desk.get(ORDERS + "?days=14"))
    assert "Sales, last 14 days" in fortnight and "net CN¥377.47" in fortnight


def test_filters_narrow_the_list(app, desk, prop):
    pillow = make_product(prop, name_en="Silk pillow", stock=20)
    robe = make_product(prop, name_en="Bath robe", stock=20)
    stay = check_in_by_hand(prop, "1302", ("Tom", "Berg"))
    lobby = place(pillow, "Lobby", is_room=False)
    pending = buy(lobby)
    paid = paid_order(place(robe, "1302"), member=member_of(stay), delivery=shop.BRING_TO_ROOM)
    shipped = paid_order(lobby, delivery=shop.SHIP_HOME, ship_name="Ana 100% Lopez",
                         ship_address="1 Harbour Road", ship_city="Hong Kong",
                         ship_country="China")

    def search(**args) -> list[int]:
        return listed(desk.get(ORDERS, query_string=args))

    assert search(status="paid") == [shipped.id, paid.id]
    assert search(status="pending_payment") == [pending.id]
    assert search(status="nonsense") == [shipped.id, paid.id, pending.id]
    assert search(delivery=shop.SHIP_HOME) == [shipped.id]
    assert search(provider="pay_at_desk", status="paid") == [shipped.id, paid.id]
    assert search(q=f"#{paid.id}") == [paid.id]
    assert search(q="1302") == [paid.id]
    assert search(q="tom berg") == [paid.id] and search(q="Berg Tom") == [paid.id]
    assert search(q="robe") == [paid.id]
    assert search(q="100%") == [shipped.id]  # LIKE wildcards are taken literally
    assert search(q="nobody") == []
    today = staff_orders.today_at(prop)
    assert search(**{"from": today.isoformat(), "to": today.isoformat()}) == [
        shipped.id, paid.id, pending.id]
    assert search(**{"from": (today + timedelta(days=1)).isoformat()}) == []
    assert search(**{"to": (today - timedelta(days=1)).isoformat()}) == []
    assert search(**{"from": "not a date"}) == [shipped.id, paid.id, pending.id]
    page = text(desk.get(ORDERS, query_string={"status": "paid", "q": "robe"}))
    assert "format=csv" in page and "status=paid" in page and "No orders match" not in page


def test_the_list_is_paged_by_cursor_keeping_the_filters(app, desk, prop, monkeypatch):
    monkeypatch.setattr(staff_orders, "PAGE_SIZE", 2)
    placement = place(make_product(prop, stock=20))
    made = [paid_order(placement).id for _ in range(3)] + [buy(placement).id]
    first = desk.get(ORDERS, query_string={"status": "paid"})
    assert listed(first) == [made[2], made[1]]
    older = re.search(r'href="([^"]*)" rel="next"', text(first)).group(1).replace("&amp;", "&")
    assert "status=paid" in older
    second = desk.get(older)
    assert listed(second) == [made[0]] and 'rel="next"' not in text(second)


def test_the_list_takes_as_many_statements_for_many_orders_as_for_few(app, desk, prop):
    product = make_product(prop, stock=50)

    def statements() -> int:
        seen = []
        engine = session.get_bind()
        listener = lambda *args: seen.append(args[2])  # noqa: E731
        sa_event.listen(engine, "before_cursor_execute", listener)
        try:
            assert desk.get(ORDERS).status_code == 200
        finally:
            sa_event.remove(engine, "before_cursor_execute", listener)
        return len(seen)

    def guest_order(room: str) -> None:
        stay = check_in_by_hand(prop, room, ("Guest", room))
        paid_order(place(product, room), member=member_of(stay), delivery=shop.BRING_TO_ROOM)

    guest_order("1101")
    few = statements()
    for room in ("1102", "1103", "1104", "1105"):
        guest_order(room)
    assert statements() == few


# --------------------------------------------------------------------------- CSV

def test_the_csv_has_exact_money_defused_text_and_the_filters(app, desk, prop):
    product = make_product(prop, name_en="Silk pillow", price=12999, stock=20)
    placement = place(product)
    paid = paid_order(placement, quantity=2, delivery=shop.SHIP_HOME,
                      ship_name="=HYPERLINK(\"http://evil\")", ship_phone="+86 123",
                      ship_address="-1 Road", ship_city="@SUM(A1)", ship_country="China")
    orders.refund(paid.id, 1250, ACTOR)
    buy(placement)

    response = desk.get(ORDERS, query_string={"format": "csv", "status": "paid"})
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    header, *rows = csv_rows(response)
    assert header == list(staff_orders.CSV_HEADER)
    assert len(rows) == 1
    record = dict(zip(header, rows[0]))
    assert (record["Order"], record["Quantity"], record["Unit price"], record["Total"],
            record["Refunded"], record["Currency"]) == (str(paid.id), "2", "129.99", "259.98",
                                                        "12.50", "CNY")
    assert record["Status"] == "Paid, partly refunded"
    assert record["Payment"] == "Pay at the front desk"
    assert record["Recipient"] == "'=HYPERLINK(\"http://evil\")"
    assert (record["Phone"], record["Address"], record["City"]) == ("'+86 123", "'-1 Road",
                                                                    "'@SUM(A1)")
    assert record["Country"] == "China" and record["Guest"] == "'=HYPERLINK(\"http://evil\")"
    local = staff_orders.local_time(prop, fresh(paid).created_at).strftime("%Y-%m-%d %H:%M")
    assert record["Placed"] == local

    everything = csv_rows(desk.get(ORDERS, query_string={"format": "csv"}))
    assert len(everything) == 3


def test_the_csv_reads_every_order_in_batches(app, desk, prop, monkeypatch):
    monkeypatch.setattr(staff_orders, "CSV_BATCH", 2)
    placement = place(make_product(prop, stock=20))
    made = [buy(placement).id for _ in range(5)]
    rows = csv_rows(desk.get(ORDERS, query_string={"format": "csv"}))[1:]
    assert [int(r[0]) for r in rows] == made[::-1]


# --------------------------------------------------------------------------- one order

def test_the_detail_shows_the_order_and_its_history(app, desk, prop):
    stay = check_in_by_hand(prop, "1204", ("Mei", "Chen"), reservation_id="R-77")
    product = make_product(prop, name_en="Silk pillow", price=12999)
    order = paid_order(place(product, "1204"), member=member_of(stay), delivery=shop.BRING_TO_ROOM)
    orders.fulfil(order.id, ACTOR)
    page = text(desk.get(f"{ORDERS}/{order.id}"))

    assert f"Order #{order.id}: <span data-status>Fulfilled</span>" in page
    for part in ("Silk pillow", "CN¥129.99", "Mei Chen", "Reservation R-77, room 1204",
                 "Bring to room 1204", "Pay at the front desk", "Asia/Shanghai"):
        assert part in page, part
    history = re.findall(r'<tr data-event="(\w+)">\s*<td>([^<]*)</td>\s*<td>([^<]*)</td>', page)
    assert [(action, actor) for action, _at, actor in history] == [
        ("placed", "guest"), ("paid", "staff:someone"), ("fulfilled", ACTOR)]
    placed = fresh(order).events[0].at
    assert history[0][1] == (placed + timedelta(hours=8)).strftime("%Y-%m-%d %H:%M")
    assert "Mark fulfilled" not in page and "Refund</button>" in page


def test_marking_paid_at_the_desk_works_once(app, desk, prop):
    product = make_product(prop, stock=5)
    order = buy(place(product))
    assert "Mark paid at desk" in text(desk.get(f"{ORDERS}/{order.id}"))

    response = act(desk, order, "pay")
    assert f"Order #{order.id} is paid (at the desk)." in text(response)
    assert fresh(order).status == OrderStatus.paid and stock(product) == 4
    assert [e.actor for e in fresh(order).events if e.action == "paid"] == [ACTOR]

    again = act(desk, order, "pay")
    assert again.status_code == 200 and "This order is not waiting for payment." in text(again)


def test_fulfilling_works_once_and_the_second_click_is_told_why(app, desk, prop):
    order = paid_order(place(make_product(prop)))
    response = act(desk, order, "fulfil")
    assert f"Order #{order.id} is fulfilled." in text(response)
    assert status_shown(desk, order) == "Fulfilled"

    again = act(desk, order, "fulfil")
    assert again.status_code == 200 and "Only a paid order can be fulfilled." in text(again)
    assert [e.action for e in fresh(order).events].count("fulfilled") == 1


def test_the_quick_fulfil_button_returns_to_the_list(app, desk, prop):
    order = paid_order(place(make_product(prop)))
    listing = desk.get(ORDERS, query_string={"status": "paid"})
    response = desk.post(f"{ORDERS}/{order.id}/fulfil", data={
        "csrf_token": csrf_token(listing), "next": "/community/staff/orders?status=paid"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/community/staff/orders?status=paid")
    assert fresh(order).status == OrderStatus.fulfilled


def test_a_partial_refund_then_the_rest_makes_it_refunded(app, desk, prop):
    product = make_product(prop, price=12999, stock=5)
    order = paid_order(place(product))
    response = act(desk, order, "refund", amount="50.00")
    assert "Refunded CN¥50.00 on order" in text(response)
    assert status_shown(desk, order) == "Paid, partly refunded"

    page = text(desk.get(f"{ORDERS}/{order.id}"))
    assert re.search(r'name="amount"[^>]*value="79.99"', page)  # the rest, by default
    response = act(desk, order, "refund", amount="79.99", restock="y")
    assert "Refunded CN¥79.99" in text(response)
    assert (fresh(order).status, fresh(order).refunded) == (OrderStatus.refunded, 12999)
    assert stock(product) == 5
    events = [(e.action, e.amount) for e in fresh(order).events if e.action == "refunded"]
    assert events == [("refunded", 5000), ("refunded", 7999)]


@pytest.mark.parametrize("amount, message", [
    ("130.00", "That is more than is left to refund on this order."),
    ("12,50", "Enter the amount to refund as a number"),
    ("1.005", "Enter the amount to refund as a number"),
    ("0", "Enter an amount to refund."),
    ("", "Enter the amount to refund as a number"),
])
def test_a_refund_that_cannot_be_made_is_explained(app, desk, prop, amount, message):
    order = paid_order(place(make_product(prop, price=12999)))
    response = act(desk, order, "refund", amount=amount)
    assert response.status_code == 200 and message in text(response)
    assert fresh(order).refunded == 0


def test_cancelling_a_pending_order_puts_the_stock_back(app, desk, prop):
    product = make_product(prop, stock=5)
    order = buy(place(product), quantity=2)
    assert stock(product) == 3
    response = act(desk, order, "cancel")
    assert f"Order #{order.id} is cancelled, and its items are back in stock." in text(response)
    assert fresh(order).status == OrderStatus.cancelled and stock(product) == 5
    again = act(desk, order, "cancel")
    assert "This order is already cancelled." in text(again) and stock(product) == 5


def test_cancelling_a_paid_order_refunds_it_in_full_and_restocks(app, desk, prop):
    product = make_product(prop, price=12999, stock=5)
    order = paid_order(place(product), quantity=2)
    assert "Cancel and refund CN¥259.98" in text(desk.get(f"{ORDERS}/{order.id}"))
    response = act(desk, order, "cancel")
    assert "is cancelled; CN¥259.98 refunded, and its items are back in stock." in text(response)
    done = fresh(order)
    assert (done.status, done.refunded, stock(product)) == (OrderStatus.cancelled, 25998, 5)
    assert [e.action for e in done.events][-3:] == ["refunded", "cancelled", "restocked"]


def test_a_fulfilled_order_cannot_be_cancelled_but_can_be_refunded(app, desk, prop):
    order = paid_order(place(make_product(prop)))
    orders.fulfil(order.id, ACTOR)
    response = act(desk, order, "cancel")
    assert "A fulfilled order cannot be cancelled; refund it instead." in text(response)
    assert fresh(order).status == OrderStatus.fulfilled
    assert "Refund</button>" in text(desk.get(f"{ORDERS}/{order.id}"))


def test_a_card_order_is_not_paid_at_the_desk_and_a_refused_refund_is_explained(
        app, desk, prop, card):
    order = buy(place(make_product(prop, price=12999)), provider=card.name)
    assert "Mark paid at desk" not in text(desk.get(f"{ORDERS}/{order.id}"))
    response = act(desk, order, "pay")
    assert "Only orders to be paid at the front desk can be marked paid there." in text(response)
    assert fresh(order).status == OrderStatus.pending_payment

    orders.mark_paid(order.id, card.name)
    card.refuse_refunds = True
    response = act(desk, order, "refund", amount="10.00")
    assert response.status_code == 200
    assert "The refund was not made: the card network is down" in text(response)
    assert fresh(order).refunded == 0
    assert f"fake-{order.id}" in text(desk.get(f"{ORDERS}/{order.id}"))  # the provider's reference


# --------------------------------------------------------------------------- figures

def test_sales_count_each_day_in_the_property_currency(app, prop):
    product = make_product(prop, price=10000, stock=20)
    dollars = make_product(prop, price=500, currency="USD", stock=20)
    placement = place(product)
    yesterday_order = paid_order(placement)
    today_order = paid_order(placement, quantity=2)
    paid_order(place(dollars))
    orders.refund(today_order.id, 2550, ACTOR)
    buy(placement)  # not paid: not a sale
    day_before = fresh(today_order).paid_at - timedelta(days=1)
    with transaction():
        session.execute(update(Order).where(Order.id == yesterday_order.id)
                        .values(paid_at=day_before))
        session.execute(update(OrderEvent).where(OrderEvent.order_id == today_order.id,
                                                 OrderEvent.action == "refunded")
                        .values(at=day_before))

    sales = staff_orders.sales(prop, days=14)
    assert len(sales.days) == 14 and sales.days[-1] == staff_orders.today_at(prop)
    assert (sales.paid[-2:], sales.refunded[-2:]) == ([10000, 20000], [2550, 0])
    assert sales.net[-2:] == [7450, 20000] and sales.total_net == 27450
    assert sum(sales.paid[:-2]) == 0 and sales.currency == "CNY"
    with pytest.raises(staff_orders.ValidationFailed):
        staff_orders.sales(prop, days=7)
    assert staff_orders.defused("=1+1") == "'=1+1" and staff_orders.defused("Mei") == "Mei"
    assert (staff_orders.whole_units(1250, "CNY"), staff_orders.whole_units(1249, "CNY")) == (13, 12)
    assert staff_orders.minor_to_decimal(25998, "CNY") == Decimal("259.98")
