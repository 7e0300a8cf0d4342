"""Scan to buy: the product page a placement's QR code opens, signed in or not."""
from __future__ import annotations

from flask import render_template
from flask_babel import get_locale

from hotel_community.forms import ShopOrderForm
from hotel_community.services import shop
from hotel_community.views.guest_base import current_member, guest_blueprint

bp = guest_blueprint("shop", __name__)


@bp.get("/p/<code>")
def placement(code: str) -> str:
    """Open to anyone holding the code: a passer-by in the lobby can buy too."""
    found = shop.placement_for_code(code)
    member = current_member()
    product = shop.product_view(found, str(get_locale() or "en"))
    choices = shop.delivery_choices(found, member)
    form = ShopOrderForm()
    form.quantity.choices = [(n, str(n)) for n in product.quantities]
    form.delivery.choices = [(choice, shop.delivery_label(choice)) for choice in choices]
    if choices:
        form.delivery.data = choices[0]
    return render_template("hotel_community/guest/shop_product.html", placement=found,
                           product=product, form=form, ship_home=shop.SHIP_HOME)
