"""``flask community orders expire``: unpaid orders whose hold ran out give their stock back."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from hotel_community.database import session, transaction, utcnow
from hotel_community.models import Order, OrderStatus, Product
from tests.factories import make_product, place
from tests.test_cli import community
from tests.views.test_staff_orders import buy


def test_orders_expire_cancels_only_the_holds_that_ran_out(app, runner, prop):
    product = make_product(prop, stock=10)
    placement = place(product)
    late, other_late, waiting = buy(placement, quantity=2), buy(placement), buy(placement)
    with transaction():
        session.execute(update(Order).where(Order.id.in_([late.id, other_late.id]))
                        .values(expires_at=utcnow() - timedelta(minutes=1)))

    result = community(runner, "orders", "expire")
    assert "Expired 2 unpaid orders; their stock is back on sale." in result.output
    session.expire_all()
    assert [session.get(Order, o.id).status for o in (late, other_late, waiting)] == [
        OrderStatus.cancelled, OrderStatus.cancelled, OrderStatus.pending_payment]
    assert session.get(Product, product.id).stock == 9
    assert "No unpaid orders to expire." in community(runner, "orders", "expire").output


def test_orders_expire_says_it_is_for_cron(app, runner):
    result = runner.invoke(args=["community", "orders", "expire", "--help"])
    assert result.exit_code == 0 and "cron" in result.output
