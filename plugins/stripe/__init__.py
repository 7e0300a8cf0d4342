"""Stripe: card, WeChat Pay and Alipay through a PaymentIntent confirmed on our own page.

The order page shows Stripe.js (the Payment Element, which redirects back to
the order page for wallets); the ``payment_intent.succeeded`` and
``payment_intent.payment_failed`` webhooks, or the order page asking Stripe
when the guest comes back, settle the order. Stripe.js builds without the
Payment Element tokenize the card and :meth:`StripeProvider.confirm` confirms
the intent server side. Every Stripe call is in :mod:`.stripe_api`.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import has_request_context, request
from flask_babel import get_locale

from hotel_community.errors import Conflict, ValidationFailed
from hotel_community.hookspecs import PaymentProvider, PaymentStart, PaymentUpdate, hookimpl
from hotel_community.i18n import gettext as _
from hotel_community.i18n import lazy_gettext as _l
from hotel_community.models import OrderStatus
from hotel_community.services.orders import apply_payment_update
from hotel_community.services.products import format_price
from hotel_community.settings import config_value

from . import stripe_api

if TYPE_CHECKING:
    from flask import Request

    from hotel_community.models import Order, Property, Stay

NAME = "stripe"
SIGNATURE_HEADER = "Stripe-Signature"
#: Webhook event type -> what it means for the order.
EVENT_OUTCOMES = {"payment_intent.succeeded": "succeeded",
                  "payment_intent.payment_failed": "failed"}


#: How the guest reads each payment method type of STRIPE_PAYMENT_METHOD_TYPES.
METHOD_NAMES = {"card": _l("Card"), "wechat_pay": _l("WeChat Pay"), "alipay": _l("Alipay")}


class StripeProvider(PaymentProvider):
    name = NAME
    template = "hotel_community/guest/pay_stripe.html"

    @property
    def label(self) -> str:  # type: ignore[override]
        """The configured methods: "Card, WeChat Pay or Alipay", or just "Card"."""
        names = [str(METHOD_NAMES.get(kind, kind)) for kind in config_value("STRIPE_PAYMENT_METHOD_TYPES")]
        if len(names) < 2:
            return "".join(names)
        return _("%(first)s or %(last)s", first=", ".join(names[:-1]), last=names[-1])

    def is_available(self, prop: Property, stay: Stay | None) -> bool:
        return bool(config_value("STRIPE_SECRET_KEY") and config_value("STRIPE_PUBLISHABLE_KEY"))

    def start_payment(self, order: Order) -> PaymentStart:
        metadata = {"order_id": str(order.id), "order_token": order.token,
                    "property": order.property.code}
        intent = stripe_api.create_intent(order.total, order.currency, metadata,
                                          idempotency_key=f"hc-order-{order.id}")
        return PaymentStart("pending", provider_ref=intent["id"])

    def page_context(self, order: Order) -> dict[str, Any]:
        intent = _intent_this_request(order.provider_ref)
        return {"publishable_key": config_value("STRIPE_PUBLISHABLE_KEY"),
                "client_secret": intent["client_secret"],
                "js_url": config_value("STRIPE_JS_URL"),
                "payment_method_types": list(config_value("STRIPE_PAYMENT_METHOD_TYPES")),
                "amount": format_price(order.total, order.currency, str(get_locale() or "en"))}

    def confirm(self, order: Order, data: dict[str, Any]) -> dict[str, Any]:
        """Pay with the card of a Stripe.js token (``data["token"]``), and settle the
        order at once; a 3-D Secure step is left to Stripe.js (``requires_action``)."""
        token = str(data.get("token", ""))
        if not token.startswith("tok_"):
            raise ValidationFailed(_l("Please enter your card details again."),
                                   {"token": ["A Stripe.js card token is required."]})
        if order.status != OrderStatus.pending_payment:
            raise Conflict(_l("This order is not waiting for payment."))
        intent = stripe_api.pay_with_token(order.provider_ref, token)
        found = _update_of(intent)
        if found is not None:
            apply_payment_update(NAME, found)
        answer = {"status": intent["status"]}
        if intent["status"] == "requires_action":
            answer["client_secret"] = intent["client_secret"]
        if found is not None and found.message:
            answer["message"] = found.message
        return answer

    def payment_status(self, order: Order) -> PaymentUpdate | None:
        return _update_of(_intent_this_request(order.provider_ref))

    def webhook_updates(self, request: Request) -> list[PaymentUpdate]:
        event_type, intent = stripe_api.verified_event(request.get_data(),
                                                       request.headers.get(SIGNATURE_HEADER))
        outcome = EVENT_OUTCOMES.get(event_type)
        if outcome is None or not intent.get("id"):
            return []
        return [_update(intent, outcome)]

    def cancel_payment(self, order: Order) -> None:
        stripe_api.cancel_intent(order.provider_ref)

    def refund(self, order: Order, amount: int, idempotency_key: str) -> str:
        return stripe_api.create_refund(order.provider_ref, amount, idempotency_key)

    # Saved cards, for crowdfunding pledges: nothing is charged when the card is saved.

    def save_card_setup(self, customer_ref: str | None, metadata: dict[str, str]) -> dict[str, str]:
        """A SetupIntent for Stripe.js to save a card on the customer (a new one if
        ``customer_ref`` is None): ``customer``, ``setup_intent`` and ``client_secret``."""
        customer = customer_ref or stripe_api.create_customer(metadata)
        intent = stripe_api.create_setup_intent(customer, metadata)
        return {"customer": customer, "setup_intent": intent["id"],
                "client_secret": intent["client_secret"]}

    def saved_card(self, setup_ref: str) -> str | None:
        """The payment method the SetupIntent saved, or None until it succeeded."""
        intent = stripe_api.retrieve_setup_intent(setup_ref)
        if intent.get("status") != "succeeded":
            return None
        return intent.get("payment_method") or None

    def release_card(self, payment_method_ref: str) -> None:
        """Let a saved card go (detach it from its customer)."""
        stripe_api.detach_payment_method(payment_method_ref)

    # Charging saved cards (crowdfunding settlement): each answer is ``{"id", "status", "error"}``.

    def charge_saved(self, amount: int, currency: str, customer_ref: str, payment_method_ref: str,
                     metadata: dict[str, str], idempotency_key: str) -> dict[str, str]:
        """Create the PaymentIntent for a saved card WITHOUT confirming it (nothing is charged
        yet), so the caller can store its id before :meth:`confirm_charge`."""
        return _charge(stripe_api.create_off_session_intent(
            amount, currency, customer_ref, payment_method_ref, metadata, idempotency_key))

    def confirm_charge(self, intent_id: str) -> dict[str, str]:
        """Charge the card, off session; a decline comes back as ``requires_payment_method``
        with the bank's ``error``."""
        return _charge(stripe_api.confirm_off_session(intent_id))

    def charge_status(self, intent_id: str) -> dict[str, str]:
        return _charge(stripe_api.retrieve_intent(intent_id))


def _charge(intent: dict[str, Any]) -> dict[str, str]:
    error = intent.get("last_payment_error") or {}
    return {"id": intent["id"], "status": str(intent.get("status", "")),
            "error": str(error.get("message") or "")}


def _intent_this_request(intent_id: str) -> dict[str, Any]:
    """The PaymentIntent, fetched from Stripe once per request: the order page asks how
    the payment stands (:meth:`StripeProvider.payment_status`), then, while it is still
    open, needs its client secret (:meth:`StripeProvider.page_context`). Kept with the
    request itself (its WSGI environ), never across requests."""
    if not has_request_context():
        return stripe_api.retrieve_intent(intent_id)
    fetched = request.environ.setdefault("hotel_community.stripe_intents", {})
    if intent_id not in fetched:
        fetched[intent_id] = stripe_api.retrieve_intent(intent_id)
    return fetched[intent_id]


def _update_of(intent: dict[str, Any]) -> PaymentUpdate | None:
    """What a PaymentIntent's status means for the order; ``None`` while it is still open.

    A failed attempt leaves the intent in ``requires_payment_method`` with its
    ``last_payment_error``; one that was never tried has no error and stays open.
    """
    status = intent.get("status")
    if status == "succeeded":
        return _update(intent, "succeeded")
    if status == "canceled" or (status == "requires_payment_method" and intent.get("last_payment_error")):
        return _update(intent, "failed")
    return None


def _update(intent: dict[str, Any], outcome: str) -> PaymentUpdate:
    error = intent.get("last_payment_error") or {}
    message = error.get("message") or ("The payment was cancelled." if intent.get("status") == "canceled" else "")
    return PaymentUpdate(provider_ref=intent["id"], outcome=outcome, amount=intent.get("amount"),
                         currency=intent.get("currency"), message=message)


@hookimpl
def hotel_community_payment_providers() -> list[PaymentProvider]:
    return [StripeProvider()]
