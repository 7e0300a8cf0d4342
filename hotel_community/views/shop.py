"""Scan to buy: the page a placement's QR code opens (signed in or not) and its order form."""
from __future__ import annotations

from flask import redirect, render_template, url_for
from flask_babel import get_locale
from werkzeug.wrappers import Response

from hotel_community.errors import (
    CommunityError, PaymentProviderError, SoldOut, ValidationFailed,
)
from hotel_community.forms import ShopOrderForm
from hotel_community.i18n import gettext as _
from hotel_community.models import Member, Placement
from hotel_community.services import orders, shop
from hotel_community.services.orders import OrderRequest, ShippingAddress
from hotel_community.views.guest_base import current_member, guest_blueprint

bp = guest_blueprint("shop", __name__)


@bp.route("/p/<code>", methods=["GET", "POST"])
def placement(code: str) -> Response | tuple[str, int]:
    """Open to anyone holding the code: a passer-by in the lobby can buy too.

    The form posts back here; ``orders.place_order`` judges every choice, so a
    tampered or outdated form gets the service's message, and nothing is stored.
    """
    found = shop.placement_for_code(code)
    member = current_member()
    form = ShopOrderForm()
    if not form.is_submitted():
        return _page(found, member, form)
    if not form.validate():
        return _page(found, member, form, ValidationFailed(_("Please check your choices."),
                                                           form.errors))
    try:
        order = orders.place_order(code, member, _order_request(form))
    except (SoldOut, ValidationFailed) as refused:
        return _page(found, member, form, refused)
    except PaymentProviderError:  # the order's history keeps the provider's words
        return _page(found, member, form, PaymentProviderError(_(
            "The payment could not be started; nothing was charged. "
            "Please try again or choose another way to pay.")))
    return redirect(url_for("hotel_community.orders.order", token=order.token), 303)


def _page(found: Placement, member: Member | None, form: ShopOrderForm,
          refused: CommunityError | None = None) -> tuple[str, int]:
    """The product page, with the order form's choices as they stand now."""
    locale = _locale()
    product = shop.product_view(found, locale)
    stays = shop.in_house_stays(member, found.property_id)
    choices = shop.delivery_choices(found, stays)
    form.quantity.choices = [(n, str(n)) for n in product.quantities]
    form.delivery.choices = [(choice, shop.delivery_label(choice)) for choice in choices]
    if refused is None and choices:
        form.delivery.data = choices[0]
    stay = (shop.stay_for_delivery(stays, found, form.delivery.data or "")
            or (stays[0] if stays else None))
    providers = orders.available_providers(found.property, stay)
    form.provider.choices = [(provider.name, str(provider.label)) for provider in providers]
    if refused is None and providers:
        form.provider.data = providers[0].name
    errors = (refused.details if isinstance(refused, ValidationFailed) else None) or {}
    return render_template("hotel_community/guest/shop_product.html", placement=found,
                           product=product, form=form, ship_home=shop.SHIP_HOME,
                           error=refused.message if refused else None,
                           errors=errors), refused.status if refused else 200


def _order_request(form: ShopOrderForm) -> OrderRequest:
    address = ShippingAddress(**{name: getattr(form, name).data or ""
                                 for name in ShippingAddress.__dataclass_fields__})
    return OrderRequest(quantity=form.quantity.data, delivery=form.delivery.data,
                        provider=form.provider.data, address=address, locale=_locale())


def _locale() -> str:
    return str(get_locale() or "en")
