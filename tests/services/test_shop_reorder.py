"""Buying again: where an order's product is on sale now."""
from __future__ import annotations

from sqlalchemy import event, update

from hotel_community.database import session, transaction
from hotel_community.models import Placement, Product
from hotel_community.services import orders, shop
from tests.factories import make_product, place


def buy(placement):
    return orders.place_order(placement.code, None, orders.OrderRequest(
        quantity=1, delivery=shop.DESK_PICKUP, provider="pay_at_desk"))


def test_the_orders_own_placement_else_another_else_none(app, prop):
    products = [make_product(prop, name_en=f"Item {n}") for n in range(4)]
    placements = [place(product, f"{1200 + n}") for n, product in enumerate(products)]
    bought = [buy(placement) for placement in placements]
    lobby = place(products[0], "Lobby", is_room=False)
    place(products[1], "Spa", is_room=False, active=False)
    with transaction():
        session.execute(update(Placement).values(active=False)
                        .where(Placement.id.in_([placements[0].id, placements[1].id])))
        session.execute(update(Product).where(Product.id == products[3].id).values(active=False))

    assert [order.placement_id for order in bought]  # loaded before counting
    seen: list[str] = []
    listener = lambda *args: seen.append(args[2])  # noqa: E731
    event.listen(session.get_bind(), "before_cursor_execute", listener)
    try:
        codes = shop.placements_to_reorder(bought)
    finally:
        event.remove(session.get_bind(), "before_cursor_execute", listener)

    # withdrawn placement -> the lobby; no placement on sale -> none; product withdrawn -> none
    assert codes == {bought[0].id: lobby.code, bought[2].id: placements[2].code}
    assert len(seen) == 2


def test_nothing_to_find_costs_nothing(app, prop):
    assert shop.placements_to_reorder([]) == {}
